import Glibc
import Testing

@testable import IP
import TestSupport

@Suite("IPv4Address")
struct IPv4AddressTests {
    // Valid dotted quads parse to the right number and print back unchanged.
    @Test(arguments: [
        ("0.0.0.0", UInt32(0)),
        ("255.255.255.255", 0xffff_ffff),
        ("1.2.3.4", 0x0102_0304),
        ("192.168.1.10", 0xc0a8_010a),
        ("10.0.0.1", 0x0a00_0001),
        ("100.64.0.0", 0x6440_0000),
        ("127.0.0.1", 0x7f00_0001),
    ])
    func parsesAndPrints(text: String, value: UInt32) throws {
        let address = try IPv4Address(text)
        #expect(address.value == value)
        #expect(address.description == text)
        #expect(address == IPv4Address(value))
    }

    // Every malformed spelling fails with the specific error, never traps.
    @Test(arguments: [
        ("", IPParseError.empty),
        ("1", .tooFewParts),
        ("1.2.3", .tooFewParts),
        ("1.2.3.4.5", .tooManyParts),
        ("1.2.3.4.", .tooManyParts),
        ("1.2.3.", .unexpectedEnd),
        (".", .unexpectedCharacter(offset: 0)),
        (".1.2.3", .unexpectedCharacter(offset: 0)),
        ("1..2.3", .unexpectedCharacter(offset: 2)),
        ("256.0.0.1", .numberTooLarge(offset: 0)),
        ("1.2.3.256", .numberTooLarge(offset: 6)),
        ("1.2.3.1000", .numberTooLarge(offset: 6)),
        ("99999999999999999999.1.1.1", .numberTooLarge(offset: 0)),
        ("01.2.3.4", .leadingZero(offset: 0)),
        ("1.2.3.04", .leadingZero(offset: 6)),
        ("1.2.3.00", .leadingZero(offset: 6)),
        ("1.2.3.a", .unexpectedCharacter(offset: 6)),
        (" 1.2.3.4", .unexpectedCharacter(offset: 0)),
        ("1.2.3.4 ", .unexpectedCharacter(offset: 7)),
        ("1.2.3.-4", .unexpectedCharacter(offset: 6)),
        ("1.2.3.+4", .unexpectedCharacter(offset: 6)),
        ("0x1.2.3.4", .unexpectedCharacter(offset: 1)),
        ("1.2.3.4/8", .unexpectedCharacter(offset: 7)),
        ("1.2.3.4:80", .unexpectedCharacter(offset: 7)),
        ("1.2.3.\u{0664}", .unexpectedCharacter(offset: 6)),  // ARABIC-INDIC DIGIT FOUR
        ("1.2.3.4\u{0}", .unexpectedCharacter(offset: 7)),
    ])
    func rejects(text: String, error: IPParseError) {
        #expect(parseError { () throws(IPParseError) in try IPv4Address(text) } == error, "\(text)")
    }

    // Network-order bytes in and out, and the octets accessor, agree with the number.
    @Test func networkOrderBytes() {
        let bytes: [UInt8] = [192, 0, 2, 33]
        let address = bytes.withUnsafeBytes { IPv4Address(networkOrderBytes: $0) }
        #expect(address == IPv4Address(192, 0, 2, 33))
        #expect(address.value == 0xc000_0221)
        #expect(address.octets == (192, 0, 2, 33))
        var out = [UInt8](repeating: 0, count: 4)
        out.withUnsafeMutableBytes { address.write(networkOrderBytesTo: $0) }
        #expect(out == bytes)
    }

    // Ordering is numeric, i.e. octet by octet.
    @Test func ordering() throws {
        #expect(try IPv4Address("9.255.255.255") < IPv4Address("10.0.0.0"))
        #expect(try IPv4Address("10.0.0.2") < IPv4Address("10.0.0.10"))
        #expect(!(try IPv4Address("1.2.3.4") < IPv4Address("1.2.3.4")))
    }

    // Random addresses print like inet_ntop and parse back to themselves.
    @Test func roundTripsAgainstInetNtop() throws {
        var generator = SplitMix64(seed: 0x4950_7634)
        for _ in 0..<5000 {
            let address = IPv4Address(UInt32.random(in: 0...UInt32.max, using: &generator))
            #expect(address.description == systemSpelling(of: address))
            #expect(try IPv4Address(address.description) == address)
        }
    }

    // On random junk the strict parser accepts exactly what glibc's inet_pton
    // accepts (it also refuses leading zeros), with the same value.
    @Test func agreesWithInetPtonOnRandomText() {
        var generator = SplitMix64(seed: 0x4950_7635)
        let alphabet = Array("0123456789..x ".utf8)
        var accepted = 0
        for _ in 0..<20000 {
            var text: String
            if generator.chance(50) {
                // Mutate a valid address so that many candidates are nearly right.
                var bytes = Array(IPv4Address(UInt32.random(in: 0...UInt32.max, using: &generator)).description.utf8)
                for _ in 0..<Int.random(in: 0...2, using: &generator) {
                    let position = Int.random(in: 0...bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes.insert(alphabet.randomElement(using: &generator)!, at: position)
                    case 1 where position < bytes.count: bytes.remove(at: position)
                    default: if position < bytes.count { bytes[position] = alphabet.randomElement(using: &generator)! }
                    }
                }
                text = String(decoding: bytes, as: UTF8.self)
            } else {
                let length = Int.random(in: 0...16, using: &generator)
                text = String(decoding: (0..<length).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self)
            }
            let ours = try? IPv4Address(text)
            var raw = in_addr()
            let theirs = inet_pton(AF_INET, text, &raw) == 1 ? UInt32(bigEndian: raw.s_addr) : nil
            #expect(ours?.value == theirs, "\(text)")
            if ours != nil { accepted += 1 }
        }
        #expect(accepted > 1000)
    }

    private func systemSpelling(of address: IPv4Address) -> String {
        var raw = in_addr(s_addr: address.value.bigEndian)
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
