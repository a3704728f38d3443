/// An IPv4 address, held as a 32-bit number in host byte order
/// (`1.2.3.4` is `0x0102_0304`).
///
/// Ordering is numeric, which is also the order of the dotted-quad spellings
/// compared octet by octet.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The address as a number: the first octet is the most significant byte.
    public let value: UInt32

    /// The address whose numeric value is `value`.
    public init(_ value: UInt32) { self.value = value }

    /// The address `a.b.c.d`.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Reads an address from exactly 4 bytes in network order, as they appear
    /// in a packet header. Traps if `networkOrderBytes.count != 4`.
    @inline(__always)
    public init(networkOrderBytes: UnsafeRawBufferPointer) {
        precondition(networkOrderBytes.count == 4, "an IPv4 address is 4 bytes")
        value = UInt32(bigEndian: networkOrderBytes.loadUnaligned(as: UInt32.self))
    }

    /// Writes the address as 4 bytes in network order. Traps if `buffer.count != 4`.
    public func write(networkOrderBytesTo buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count == 4, "an IPv4 address is 4 bytes")
        buffer.storeBytes(of: value.bigEndian, as: UInt32.self)
    }

    /// Parses a strict dotted quad: exactly four decimal octets 0...255
    /// separated by ".", with no leading zeros ("010.0.0.1" is refused because
    /// some tools read it as octal), no spaces and nothing else around it.
    public init(_ text: String) throws(IPParseError) {
        self = try withUTF8(of: text) { (utf8) throws(IPParseError) in
            guard !utf8.isEmpty else { throw .empty }
            return try IPv4Address.parse(utf8, 0..<utf8.count)
        }
    }

    /// Parses `utf8[range]` as a dotted quad; offsets in errors are offsets
    /// into `utf8`, so callers parsing a larger text get useful positions.
    static func parse(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(IPParseError) -> IPv4Address {
        guard !range.isEmpty else { throw .unexpectedEnd }
        var value: UInt32 = 0
        var octets = 0
        var start = range.lowerBound
        while true {
            var end = start
            while end < range.upperBound && utf8[end] != UInt8(ascii: ".") { end += 1 }
            if start == end {
                // An empty octet: "1..2.3", ".1.2.3" or a trailing ".".
                if end == range.upperBound { throw octets < 4 ? .unexpectedEnd : .tooManyParts }
                throw .unexpectedCharacter(offset: end)
            }
            guard octets < 4 else { throw .tooManyParts }
            let octet = try parseDecimal(utf8, start..<end, maximum: 255, tooLarge: .numberTooLarge(offset: start))
            value = value << 8 | octet
            octets += 1
            if end == range.upperBound { break }
            start = end + 1
        }
        guard octets == 4 else { throw .tooFewParts }
        return IPv4Address(value)
    }

    /// The address as 4 octets, first octet first.
    public var octets: (UInt8, UInt8, UInt8, UInt8) {
        (UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
    }

    /// The dotted-quad spelling, such as "192.168.1.10".
    public var description: String {
        makeString(capacity: 15) { writer in write(to: &writer) }
    }

    /// Appends the dotted quad to `writer`.
    func write(to writer: inout TextWriter) {
        for shift in stride(from: UInt32(24), through: 0, by: -8) {
            if shift != 24 { writer.append(UInt8(ascii: ".")) }
            writer.appendDecimal(value >> shift & 0xff)
        }
    }

    /// Numeric order.
    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    /// 0.0.0.0, the unspecified address (INADDR_ANY).
    public static let unspecified = IPv4Address(0)
}

extension IPv4Address: PrefixKey {
    static var bitWidth: Int { 32 }

    @inline(__always)
    func masked(toLength length: Int) -> IPv4Address {
        // Smart shifts: UInt32.max >> 32 is 0, so length 32 keeps every bit.
        IPv4Address(value & ~(UInt32.max >> UInt32(length)))
    }

    @inline(__always)
    func bit(at index: Int) -> Int {
        Int(truncatingIfNeeded: value >> UInt32(31 - index) & 1)
    }

    @inline(__always)
    func commonPrefixLength(with other: IPv4Address) -> Int {
        (value ^ other.value).leadingZeroBitCount
    }
}
