import Glibc
import Testing

@testable import IP
import TestSupport

@Suite("IPv6Address")
struct IPv6AddressTests {
    // Accepted spellings and their RFC 5952 canonical forms.
    @Test(arguments: [
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("fe80::1:2", "fe80::1:2"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // tie: the first run wins
        ("2001:0db8::0001", "2001:db8::1"),
        ("2001:DB8::A", "2001:db8::a"),
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:0:0:0:0:0:0:8", "1::8"),
        ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),  // single zero groups stay
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // the longest run wins
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("0:0:1:0:0:0:0:0", "0:0:1::"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),  // "::" may stand for one group
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("fe80:0:0:0:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("::FFFF:0102:0304", "::ffff:1.2.3.4"),  // IPv4-mapped prints in mixed notation
        ("::1.2.3.4", "::102:304"),  // IPv4-compatible (deprecated) does not
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ("fd7a:115c:a1e0::1", "fd7a:115c:a1e0::1"),
    ])
    func canonicalForm(text: String, canonical: String) throws {
        let address = try IPv6Address(text)
        #expect(address.description == canonical)
        #expect(try IPv6Address(canonical) == address)
    }

    // The halves and groups hold the value in the order it is written.
    @Test func valueLayout() throws {
        let address = try IPv6Address("2001:db8:1:2:3:4:5:6")
        #expect(address.high == 0x2001_0db8_0001_0002)
        #expect(address.low == 0x0003_0004_0005_0006)
        #expect(address == IPv6Address(0x2001, 0xdb8, 1, 2, 3, 4, 5, 6))
        #expect((0..<8).map { address.group($0) } == [0x2001, 0xdb8, 1, 2, 3, 4, 5, 6])
        #expect(try IPv6Address("::ffff:1.2.3.4").ipv4Mapped == IPv4Address(1, 2, 3, 4))
        #expect(IPv6Address(ipv4Mapped: IPv4Address(1, 2, 3, 4)).description == "::ffff:1.2.3.4")
        #expect(try IPv6Address("::1.2.3.4").ipv4Mapped == nil)
    }

    // Every malformed spelling fails with the specific error, never traps.
    @Test(arguments: [
        ("", IPParseError.empty),
        (":", .unexpectedEnd),
        (":1", .unexpectedCharacter(offset: 0)),
        (":::", .unexpectedCharacter(offset: 2)),
        ("1:::2", .unexpectedCharacter(offset: 3)),
        ("1::2::3", .secondDoubleColon(offset: 4)),
        ("::1::", .secondDoubleColon(offset: 3)),
        ("1:2:3:4:5:6:7", .tooFewParts),
        ("1:2:3:4:5:1.2.3.4", .tooFewParts),
        ("1:2:3:4:5:6:7:8:9", .tooManyParts),
        ("1:2:3:4:5:6:7:8::", .tooManyParts),
        ("::1:2:3:4:5:6:7:8", .tooManyParts),
        ("1::2:3:4:5:6:7:8", .tooManyParts),
        ("1:2:3:4:5:6:7:1.2.3.4", .tooManyParts),
        ("::1:2:3:4:5:6:1.2.3.4", .tooManyParts),
        ("12345::", .numberTooLarge(offset: 0)),
        ("1:00000::", .numberTooLarge(offset: 2)),
        ("1:", .unexpectedEnd),
        ("1:2:3:4:5:6:7:", .unexpectedEnd),
        ("fe80::1%eth0", .zoneIndex(offset: 7)),
        ("fe80::1%", .zoneIndex(offset: 7)),
        ("%", .zoneIndex(offset: 0)),
        ("g::", .unexpectedCharacter(offset: 0)),
        ("1:2:3:4:5:6:7:8 ", .unexpectedCharacter(offset: 15)),
        (" ::", .unexpectedCharacter(offset: 0)),
        ("[::1]", .unexpectedCharacter(offset: 0)),
        ("::1/128", .unexpectedCharacter(offset: 3)),
        ("::ffff:1.2.3", .tooFewParts),
        ("::ffff:1.2.3.256", .numberTooLarge(offset: 13)),
        ("::ffff:01.2.3.4", .leadingZero(offset: 7)),
        ("::1.2.3.4:5", .unexpectedCharacter(offset: 9)),
        ("::ffff:1a.2.3.4", .unexpectedCharacter(offset: 8)),
        ("1.2.3.4::", .unexpectedCharacter(offset: 7)),
    ])
    func rejects(text: String, error: IPParseError) {
        #expect(parseError { () throws(IPParseError) in try IPv6Address(text) } == error, "\(text)")
    }

    // Network-order bytes in and out.
    @Test func networkOrderBytes() throws {
        let bytes: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd]
        let address = bytes.withUnsafeBytes { IPv6Address(networkOrderBytes: $0) }
        #expect(address == (try IPv6Address("2001:db8::abcd")))
        var out = [UInt8](repeating: 0, count: 16)
        out.withUnsafeMutableBytes { address.write(networkOrderBytesTo: $0) }
        #expect(out == bytes)
    }

    // Ordering is numeric over all 128 bits.
    @Test func ordering() throws {
        #expect(try IPv6Address("::ffff") < IPv6Address("::1:0"))
        #expect(try IPv6Address("0:0:0:1::") < IPv6Address("0:0:0:2::"))
        #expect(try IPv6Address("1::") > IPv6Address("0:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
    }

    // Random addresses, many with zero runs, print exactly as glibc's inet_ntop
    // (which follows RFC 5952) except for the IPv4-compatible range ::/96, which
    // glibc prints as a dotted quad; all parse back to themselves.
    @Test func roundTripsAgainstInetNtop() throws {
        var generator = SplitMix64(seed: 0x4950_7636)
        for _ in 0..<5000 {
            var groups = [UInt16](repeating: 0, count: 8)
            for index in 0..<8 where generator.chance(40) {
                groups[index] = generator.chance(30) ? UInt16.random(in: 0...0xf, using: &generator)
                    : UInt16.random(in: 0...0xffff, using: &generator)
            }
            if generator.chance(5) { groups = [0, 0, 0, 0, 0, 0xffff, groups[6], groups[7]] }
            let address = IPv6Address(groups[0], groups[1], groups[2], groups[3],
                                      groups[4], groups[5], groups[6], groups[7])
            if address.high != 0 || address.low >> 32 != 0 {
                #expect(address.description == systemSpelling(of: address))
            }
            #expect(try IPv6Address(address.description) == address)
        }
    }

    // On random text the parser accepts exactly what glibc's inet_pton
    // accepts, with the same value.
    @Test func agreesWithInetPtonOnRandomText() {
        var generator = SplitMix64(seed: 0x4950_7637)
        let alphabet = Array("0123456789abcdefABCDEF::::....g".utf8)
        var accepted = 0
        for _ in 0..<20000 {
            var bytes: [UInt8]
            if generator.chance(60) {
                let seed = IPv6Address(high: generator.chance(50) ? 0 : generator.next(), low: generator.next() >> (generator.next() % 64))
                bytes = Array(seed.description.utf8)
                for _ in 0..<Int.random(in: 0...2, using: &generator) {
                    let position = Int.random(in: 0...bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes.insert(alphabet.randomElement(using: &generator)!, at: position)
                    case 1 where position < bytes.count: bytes.remove(at: position)
                    default: if position < bytes.count { bytes[position] = alphabet.randomElement(using: &generator)! }
                    }
                }
            } else {
                bytes = (0..<Int.random(in: 0...20, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let ours = try? IPv6Address(text)
            var raw = in6_addr()
            var theirs: IPv6Address?
            if inet_pton(AF_INET6, text, &raw) == 1 {
                theirs = withUnsafeBytes(of: &raw) { IPv6Address(networkOrderBytes: $0) }
            }
            #expect(ours == theirs, "\(text)")
            if ours != nil { accepted += 1 }
        }
        #expect(accepted > 1000)
    }

    private func systemSpelling(of address: IPv6Address) -> String {
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { address.write(networkOrderBytesTo: $0) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

@Suite("IPAddress")
struct IPAddressTests {
    // The family is chosen by the presence of a colon; errors come from that family's parser.
    @Test func parsesEitherFamily() throws {
        #expect(try IPAddress("1.2.3.4") == .v4(IPv4Address(1, 2, 3, 4)))
        #expect(try IPAddress("::1") == .v6(IPv6Address(high: 0, low: 1)))
        #expect(try IPAddress("::ffff:1.2.3.4").isIPv4 == false)
        #expect(parseError { () throws(IPParseError) in try IPAddress("") } == .empty)
        #expect(parseError { () throws(IPParseError) in try IPAddress("1.2.3") } == .tooFewParts)
        #expect(parseError { () throws(IPParseError) in try IPAddress("1:2") } == .tooFewParts)
        #expect(parseError { () throws(IPParseError) in try IPAddress("fe80::1%lo") } == .zoneIndex(offset: 7))
    }

    // Bytes in and out by count; IPv4 sorts before IPv6; sizes per family.
    @Test func bytesOrderingAndSizes() throws {
        let four: [UInt8] = [10, 0, 0, 1]
        let sixteen: [UInt8] = [0xfd] + [UInt8](repeating: 0, count: 14) + [1]
        let v4 = four.withUnsafeBytes { IPAddress(networkOrderBytes: $0) }
        let v6 = sixteen.withUnsafeBytes { IPAddress(networkOrderBytes: $0) }
        #expect(v4.description == "10.0.0.1")
        #expect(v6.description == "fd00::1")
        #expect(v4 < v6 && !(v6 < v4))
        #expect(try IPAddress("255.255.255.255") < IPAddress("::"))
        #expect(v4.byteCount == 4 && v4.bitWidth == 32 && v6.byteCount == 16 && v6.bitWidth == 128)
        #expect(IPv4Address.unspecified.description == "0.0.0.0")
        #expect(IPv6Address.unspecified.description == "::")
        var out = [UInt8](repeating: 0, count: 16)
        out.withUnsafeMutableBytes { v6.write(networkOrderBytesTo: $0) }
        #expect(out == sixteen)
    }

    // Every error has a one-line message for people.
    @Test func errorDescriptions() {
        let errors: [IPParseError] = [
            .empty, .unexpectedCharacter(offset: 3), .unexpectedEnd, .tooFewParts, .tooManyParts,
            .leadingZero(offset: 1), .numberTooLarge(offset: 2), .secondDoubleColon(offset: 4),
            .zoneIndex(offset: 5), .prefixLengthOutOfRange(maximum: 32), .missingPort, .missingBracket,
        ]
        for error in errors {
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
        #expect(IPParseError.prefixLengthOutOfRange(maximum: 128).description.contains("128"))
        #expect(IPParseError.unexpectedCharacter(offset: 17).description.contains("17"))
    }
}
