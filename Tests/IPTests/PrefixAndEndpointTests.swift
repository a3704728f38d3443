import Testing

@testable import IP
import TestSupport

@Suite("IPPrefix")
struct IPPrefixTests {
    // Prefixes parse, drop their host bits, and print canonically.
    @Test(arguments: [
        ("10.1.2.3/8", "10.0.0.0/8", 8),
        ("10.0.0.0/8", "10.0.0.0/8", 8),
        ("1.2.3.4", "1.2.3.4/32", 32),
        ("0.0.0.0/0", "0.0.0.0/0", 0),
        ("1.2.3.4/0", "0.0.0.0/0", 0),
        ("255.255.255.255/31", "255.255.255.254/31", 31),
        ("192.168.77.200/20", "192.168.64.0/20", 20),
        ("::/0", "::/0", 0),
        ("ffff::1/0", "::/0", 0),
        ("fd00::1/8", "fd00::/8", 8),
        ("2001:db8::1", "2001:db8::1/128", 128),
        ("2001:db8:ffff::/33", "2001:db8:8000::/33", 33),
        ("2001:db8:1:2:3:4:5:6/64", "2001:db8:1:2::/64", 64),
        ("2001:db8:1:2:ffff:4:5:6/65", "2001:db8:1:2:8000::/65", 65),
        ("fe80::1/127", "fe80::/127", 127),
        ("::ffff:1.2.3.4/96", "::ffff:0.0.0.0/96", 96),
        ("::ffff:1.2.3.4/120", "::ffff:1.2.3.0/120", 120),
    ])
    func canonicalises(text: String, canonical: String, length: Int) throws {
        let prefix = try IPPrefix(text)
        #expect(prefix.description == canonical)
        #expect(prefix.length == length)
        #expect(try IPPrefix(canonical) == prefix)
    }

    // Bad prefixes fail with the specific error.
    @Test(arguments: [
        ("", IPParseError.empty),
        ("/8", .unexpectedCharacter(offset: 0)),
        ("10.0.0.0/", .unexpectedEnd),
        ("10.0.0.0/33", .prefixLengthOutOfRange(maximum: 32)),
        ("10.0.0.0/100", .prefixLengthOutOfRange(maximum: 32)),
        ("10.0.0.0/999999999999999", .prefixLengthOutOfRange(maximum: 32)),
        ("::/129", .prefixLengthOutOfRange(maximum: 128)),
        ("::/1289", .prefixLengthOutOfRange(maximum: 128)),
        ("10.0.0.0/08", .leadingZero(offset: 9)),
        ("10.0.0.0/00", .leadingZero(offset: 9)),
        ("10.0.0.0/8/8", .unexpectedCharacter(offset: 10)),
        ("10.0.0.0/-1", .unexpectedCharacter(offset: 9)),
        ("10.0.0.0/ 8", .unexpectedCharacter(offset: 9)),
        ("10.0.0.0/8 ", .unexpectedCharacter(offset: 10)),
        ("::/128a", .unexpectedCharacter(offset: 6)),
        ("10.0.0/8", .tooFewParts),
        ("10.0.0.256/8", .numberTooLarge(offset: 7)),
        ("fe80::%eth0/64", .zoneIndex(offset: 6)),
        ("fe80::/64%eth0", .unexpectedCharacter(offset: 9)),
    ])
    func rejects(text: String, error: IPParseError) {
        #expect(parseError { () throws(IPParseError) in try IPPrefix(text) } == error, "\(text)")
    }

    // The value initialiser masks host bits and checks the length per family.
    @Test func valueInitialiser() throws {
        let v4 = IPAddress.v4(IPv4Address(10, 1, 2, 3))
        #expect(try IPPrefix(v4, length: 16).description == "10.1.0.0/16")
        #expect(parseError { () throws(IPParseError) in try IPPrefix(v4, length: 33) } == .prefixLengthOutOfRange(maximum: 32))
        #expect(parseError { () throws(IPParseError) in try IPPrefix(v4, length: -1) } == .prefixLengthOutOfRange(maximum: 32))
        let v6 = try IPAddress("fd00::1")
        #expect(try IPPrefix(v6, length: 128).description == "fd00::1/128")
        #expect(parseError { () throws(IPParseError) in try IPPrefix(v6, length: 129) } == .prefixLengthOutOfRange(maximum: 128))
    }

    // contains(address) respects the length and never crosses families.
    @Test func containsAddress() throws {
        let ten = try IPPrefix("10.0.0.0/8")
        #expect(ten.contains(try IPAddress("10.0.0.0")))
        #expect(ten.contains(try IPAddress("10.255.255.255")))
        #expect(!ten.contains(try IPAddress("11.0.0.0")))
        #expect(!ten.contains(try IPAddress("9.255.255.255")))
        #expect(!ten.contains(try IPAddress("::ffff:10.0.0.1")))

        let allV4 = try IPPrefix("0.0.0.0/0")
        let allV6 = try IPPrefix("::/0")
        #expect(allV4.contains(try IPAddress("255.255.255.255")))
        #expect(!allV4.contains(try IPAddress("::")))
        #expect(allV6.contains(try IPAddress("ffff::1")))
        #expect(!allV6.contains(try IPAddress("0.0.0.0")))

        let host = try IPPrefix("2001:db8::1/128")
        #expect(host.contains(try IPAddress("2001:db8::1")))
        #expect(!host.contains(try IPAddress("2001:db8::")))
        let odd = try IPPrefix("2001:db8::/65")
        #expect(odd.contains(try IPAddress("2001:db8::7fff:ffff:ffff:ffff")))
        #expect(!odd.contains(try IPAddress("2001:db8::8000:0:0:0")))
    }

    // contains(prefix) is true only for equal or longer prefixes inside.
    @Test func containsPrefix() throws {
        let ten = try IPPrefix("10.0.0.0/8")
        #expect(ten.contains(try IPPrefix("10.1.0.0/16")))
        #expect(ten.contains(ten))
        #expect(!ten.contains(try IPPrefix("10.0.0.0/7")))
        #expect(!ten.contains(try IPPrefix("11.0.0.0/16")))
        #expect(!(try IPPrefix("::/0")).contains(ten))
    }

    // Ordering: IPv4 first, then by address, shorter before longer.
    @Test func ordering() throws {
        let sorted = try ["::/0", "10.0.0.0/16", "10.0.0.0/8", "9.0.0.0/8", "fd00::/8", "0.0.0.0/0"]
            .map { (text) throws(IPParseError) in try IPPrefix(text) }.sorted().map(\.description)
        #expect(sorted == ["0.0.0.0/0", "9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "::/0", "fd00::/8"])
    }

    // Random prefixes print to text that parses back to the same prefix.
    @Test func roundTripsRandomPrefixes() throws {
        var generator = SplitMix64(seed: 0x5052_4546)
        for _ in 0..<5000 {
            let address: IPAddress = generator.chance(50)
                ? .v4(IPv4Address(UInt32.random(in: 0...UInt32.max, using: &generator)))
                : .v6(IPv6Address(high: generator.next(), low: generator.chance(50) ? 0 : generator.next()))
            let prefix = try IPPrefix(address, length: Int.random(in: 0...address.bitWidth, using: &generator))
            #expect(try IPPrefix(prefix.description) == prefix)
            #expect(prefix.contains(address))
        }
    }
}

@Suite("Endpoint")
struct EndpointTests {
    // UAPI spellings parse and print canonically.
    @Test(arguments: [
        ("1.2.3.4:51820", "1.2.3.4:51820"),
        ("0.0.0.0:0", "0.0.0.0:0"),
        ("255.255.255.255:65535", "255.255.255.255:65535"),
        ("[fd00::1]:51820", "[fd00::1]:51820"),
        ("[FD00:0::1]:0", "[fd00::1]:0"),
        ("[::]:1", "[::]:1"),
        ("[::ffff:1.2.3.4]:80", "[::ffff:1.2.3.4]:80"),
    ])
    func parsesAndPrints(text: String, canonical: String) throws {
        let endpoint = try Endpoint(text)
        #expect(endpoint.description == canonical)
        #expect(try Endpoint(canonical) == endpoint)
    }

    // Fields, and that a mapped address stays IPv6.
    @Test func fields() throws {
        let v4 = try Endpoint("192.0.2.1:51820")
        #expect(v4.address == .v4(IPv4Address(192, 0, 2, 1)))
        #expect(v4.port == 51820)
        let mapped = try Endpoint("[::ffff:1.2.3.4]:80")
        #expect(!mapped.address.isIPv4)
        #expect(Endpoint(.v6(IPv6Address(high: 0, low: 1)), port: 9).description == "[::1]:9")
        #expect(try Endpoint("1.2.3.4:80") < Endpoint("1.2.3.4:81"))
        #expect(try Endpoint("255.255.255.255:80") < Endpoint("[::]:1"))
    }

    // Bad endpoints fail with the specific error.
    @Test(arguments: [
        ("", IPParseError.empty),
        ("1.2.3.4", .missingPort),
        ("1.2.3", .tooFewParts),
        ("1.2.3:80", .tooFewParts),
        ("1.2.3.4:", .unexpectedEnd),
        ("1.2.3.4:65536", .numberTooLarge(offset: 8)),
        ("1.2.3.4:99999999999", .numberTooLarge(offset: 8)),
        ("1.2.3.4:080", .leadingZero(offset: 8)),
        ("1.2.3.4:8a", .unexpectedCharacter(offset: 9)),
        ("1.2.3.4:-1", .unexpectedCharacter(offset: 8)),
        (":80", .unexpectedCharacter(offset: 0)),
        ("fd00::1:51820", .missingBracket),
        ("::1", .missingBracket),
        ("[fd00::1:51820", .missingBracket),
        ("[fd00::1]", .missingPort),
        ("[fd00::1]51820", .unexpectedCharacter(offset: 9)),
        ("[]:80", .unexpectedCharacter(offset: 1)),
        ("[fe80::1%eth0]:80", .zoneIndex(offset: 8)),
        ("[1.2.3.4]:80", .tooFewParts),
        ("[::1]:80:1", .unexpectedCharacter(offset: 8)),
        ("host.example:80", .unexpectedCharacter(offset: 0)),
    ])
    func rejects(text: String, error: IPParseError) {
        #expect(parseError { () throws(IPParseError) in try Endpoint(text) } == error, "\(text)")
    }
}
