/// An IPv4 or an IPv6 address.
///
/// The two families never compare equal, even for IPv4-mapped IPv6
/// addresses: `::ffff:1.2.3.4` is a `.v6`. Ordering puts every IPv4 address
/// before every IPv6 address, then orders numerically within a family.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// An IPv4 address.
    case v4(IPv4Address)
    /// An IPv6 address.
    case v6(IPv6Address)

    /// Parses an IPv6 address if the text contains a ":", otherwise a dotted
    /// quad, with the rules of `IPv4Address.init(_:)` and `IPv6Address.init(_:)`.
    public init(_ text: String) throws(IPParseError) {
        self = try withUTF8(of: text) { (utf8) throws(IPParseError) in
            guard !utf8.isEmpty else { throw .empty }
            return try IPAddress.parse(utf8, 0..<utf8.count)
        }
    }

    /// Parses `utf8[range]`; offsets in errors are offsets into `utf8`.
    static func parse(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(IPParseError) -> IPAddress {
        if firstOffset(of: UInt8(ascii: ":"), in: utf8, range) != nil {
            return .v6(try IPv6Address.parse(utf8, range))
        }
        return .v4(try IPv4Address.parse(utf8, range))
    }

    /// Reads an address from its network-order bytes: 4 bytes make an IPv4
    /// address, 16 an IPv6 address. Traps on any other count.
    public init(networkOrderBytes: UnsafeRawBufferPointer) {
        switch networkOrderBytes.count {
        case 4: self = .v4(IPv4Address(networkOrderBytes: networkOrderBytes))
        case 16: self = .v6(IPv6Address(networkOrderBytes: networkOrderBytes))
        default: preconditionFailure("an IP address is 4 or 16 bytes")
        }
    }

    /// Writes the address in network order into `buffer`, which must hold
    /// exactly `byteCount` bytes (traps otherwise).
    public func write(networkOrderBytesTo buffer: UnsafeMutableRawBufferPointer) {
        switch self {
        case .v4(let address): address.write(networkOrderBytesTo: buffer)
        case .v6(let address): address.write(networkOrderBytesTo: buffer)
        }
    }

    /// 4 for IPv4, 16 for IPv6.
    public var byteCount: Int {
        switch self {
        case .v4: return 4
        case .v6: return 16
        }
    }

    /// 32 for IPv4, 128 for IPv6: the longest prefix length of the family.
    public var bitWidth: Int { byteCount * 8 }

    /// True for `.v4`.
    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// The dotted quad or the RFC 5952 canonical IPv6 spelling.
    public var description: String {
        switch self {
        case .v4(let address): return address.description
        case .v6(let address): return address.description
        }
    }

    /// Appends the spelling to `writer`.
    func write(to writer: inout TextWriter) {
        switch self {
        case .v4(let address): address.write(to: &writer)
        case .v6(let address): address.write(to: &writer)
        }
    }

    /// IPv4 before IPv6, then numeric order within the family.
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): return x < y
        case (.v6(let x), .v6(let y)): return x < y
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }
}
