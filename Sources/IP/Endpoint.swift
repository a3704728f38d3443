/// A UDP endpoint: an address and a port, such as a WireGuard peer's
/// `endpoint=` in the UAPI.
///
/// Ordering is by address (IPv4 before IPv6), then by port.
public struct Endpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The peer's address.
    public let address: IPAddress
    /// The UDP port, in host byte order.
    public let port: UInt16

    /// The endpoint `address`:`port`.
    public init(_ address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses the UAPI spelling: "1.2.3.4:51820" for IPv4 and
    /// "[fd00::1]:51820" for IPv6 (the brackets are required). The port is a
    /// decimal number 0...65535 without leading zeros. Host names are not
    /// resolved here and zone indices are refused.
    public init(_ text: String) throws(IPParseError) {
        self = try withUTF8(of: text) { (utf8) throws(IPParseError) in
            guard !utf8.isEmpty else { throw .empty }
            return try Endpoint.parse(utf8, 0..<utf8.count)
        }
    }

    /// Parses `utf8[range]`; offsets in errors are offsets into `utf8`.
    static func parse(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(IPParseError) -> Endpoint {
        let start = range.lowerBound
        let end = range.upperBound
        let address: IPAddress
        let colon: Int
        if utf8[start] == UInt8(ascii: "[") {
            guard let close = firstOffset(of: UInt8(ascii: "]"), in: utf8, start + 1..<end) else {
                throw .missingBracket
            }
            if close == start + 1 { throw .unexpectedCharacter(offset: close) }
            address = .v6(try IPv6Address.parse(utf8, start + 1..<close))
            guard close + 1 < end else { throw .missingPort }
            guard utf8[close + 1] == UInt8(ascii: ":") else { throw .unexpectedCharacter(offset: close + 1) }
            colon = close + 1
        } else {
            guard let firstColon = firstOffset(of: UInt8(ascii: ":"), in: utf8, range) else {
                // Report a bad address before a missing port.
                _ = try IPv4Address.parse(utf8, range)
                throw .missingPort
            }
            // A second colon means an IPv6 address written without brackets.
            if firstOffset(of: UInt8(ascii: ":"), in: utf8, firstColon + 1..<end) != nil { throw .missingBracket }
            if firstColon == start { throw .unexpectedCharacter(offset: start) }
            address = .v4(try IPv4Address.parse(utf8, start..<firstColon))
            colon = firstColon
        }
        let port = try parseDecimal(
            utf8, colon + 1..<end, maximum: UInt32(UInt16.max), tooLarge: .numberTooLarge(offset: colon + 1))
        return Endpoint(address, port: UInt16(truncatingIfNeeded: port))
    }

    /// "1.2.3.4:51820" or "[fd00::1]:51820", with the address in its
    /// canonical spelling.
    public var description: String {
        makeString(capacity: 47) { writer in
            if case .v6 = address { writer.append(UInt8(ascii: "[")) }
            address.write(to: &writer)
            if case .v6 = address { writer.append(UInt8(ascii: "]")) }
            writer.append(UInt8(ascii: ":"))
            writer.appendDecimal(UInt32(port))
        }
    }

    /// By address (IPv4 before IPv6), then by port.
    public static func < (a: Endpoint, b: Endpoint) -> Bool {
        a.address != b.address ? a.address < b.address : a.port < b.port
    }
}
