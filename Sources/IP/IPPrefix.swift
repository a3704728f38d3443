/// An address prefix (a CIDR block) such as `10.0.0.0/8` or `fd00::/8`, as
/// WireGuard's allowed IPs and routes use.
///
/// A prefix is always canonical: the host bits of `address` (those past
/// `length`) are zero, so `10.1.2.3/8` and `10.0.0.0/8` are the same value.
/// Ordering is by address (IPv4 before IPv6), then shorter prefixes first.
public struct IPPrefix: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The network address, with every bit past `length` cleared.
    public let address: IPAddress
    private let storedLength: UInt8

    /// The number of leading bits that belong to the network: 0...32 for
    /// IPv4, 0...128 for IPv6.
    public var length: Int { Int(storedLength) }

    /// The prefix of `length` bits that contains `address` (host bits are
    /// cleared). Throws `.prefixLengthOutOfRange` unless `length` is in
    /// 0...32 for IPv4 or 0...128 for IPv6.
    public init(_ address: IPAddress, length: Int) throws(IPParseError) {
        guard length >= 0 && length <= address.bitWidth else {
            throw .prefixLengthOutOfRange(maximum: address.bitWidth)
        }
        self.init(unchecked: address, length: length)
    }

    /// `address` masked to `length` bits; `length` is known to be in range.
    init(unchecked address: IPAddress, length: Int) {
        switch address {
        case .v4(let ipv4): self.address = .v4(ipv4.masked(toLength: length))
        case .v6(let ipv6): self.address = .v6(ipv6.masked(toLength: length))
        }
        storedLength = UInt8(truncatingIfNeeded: length)
    }

    /// Parses "address/length" as `wg` and the UAPI write it ("10.0.0.0/8",
    /// "fd00::/8"); a bare address means a single host (/32 or /128). The
    /// address follows the rules of `IPAddress.init(_:)`; the length is a
    /// decimal number without leading zeros. Host bits may be set in the
    /// text ("10.1.2.3/8") and are cleared.
    public init(_ text: String) throws(IPParseError) {
        self = try withUTF8(of: text) { (utf8) throws(IPParseError) in
            guard !utf8.isEmpty else { throw .empty }
            return try IPPrefix.parse(utf8, 0..<utf8.count)
        }
    }

    /// Parses `utf8[range]`; offsets in errors are offsets into `utf8`.
    static func parse(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(IPParseError) -> IPPrefix {
        let slash = firstOffset(of: UInt8(ascii: "/"), in: utf8, range) ?? range.upperBound
        if slash == range.lowerBound { throw .unexpectedCharacter(offset: slash) }
        let address = try IPAddress.parse(utf8, range.lowerBound..<slash)
        guard slash < range.upperBound else {
            return IPPrefix(unchecked: address, length: address.bitWidth)
        }
        let maximum = address.bitWidth
        let length = try parseDecimal(
            utf8, slash + 1..<range.upperBound, maximum: UInt32(maximum),
            tooLarge: .prefixLengthOutOfRange(maximum: maximum))
        return IPPrefix(unchecked: address, length: Int(length))
    }

    /// True if `address` is of the same family and its first `length` bits
    /// equal this prefix's. A /0 contains every address of its family and
    /// none of the other.
    public func contains(_ address: IPAddress) -> Bool {
        switch (self.address, address) {
        case (.v4(let network), .v4(let candidate)): return candidate.masked(toLength: length) == network
        case (.v6(let network), .v6(let candidate)): return candidate.masked(toLength: length) == network
        default: return false
        }
    }

    /// True if every address in `other` is also in this prefix.
    public func contains(_ other: IPPrefix) -> Bool {
        other.length >= length && contains(other.address)
    }

    /// "address/length", with the address in its canonical spelling
    /// ("10.0.0.0/8", "fd00::/8"); always includes the length.
    public var description: String {
        makeString(capacity: 43) { writer in
            address.write(to: &writer)
            writer.append(UInt8(ascii: "/"))
            writer.appendDecimal(UInt32(storedLength))
        }
    }

    /// By address (IPv4 before IPv6), then the shorter prefix first.
    public static func < (a: IPPrefix, b: IPPrefix) -> Bool {
        a.address != b.address ? a.address < b.address : a.storedLength < b.storedLength
    }
}
