/// An IPv6 address, held as two 64-bit halves in host byte order: `high` is
/// the first eight bytes on the wire, `low` the last eight.
///
/// Ordering is numeric over the 128-bit value.
public struct IPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first 64 bits (groups 0-3); group 0 is the most significant 16 bits.
    public let high: UInt64
    /// The last 64 bits (groups 4-7).
    public let low: UInt64

    /// The address whose 128-bit value is `high << 64 | low`.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The address with these eight 16-bit groups, in the order they are written.
    public init(_ g0: UInt16, _ g1: UInt16, _ g2: UInt16, _ g3: UInt16,
                _ g4: UInt16, _ g5: UInt16, _ g6: UInt16, _ g7: UInt16) {
        high = UInt64(g0) << 48 | UInt64(g1) << 32 | UInt64(g2) << 16 | UInt64(g3)
        low = UInt64(g4) << 48 | UInt64(g5) << 32 | UInt64(g6) << 16 | UInt64(g7)
    }

    /// The IPv4-mapped address `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2).
    public init(ipv4Mapped address: IPv4Address) {
        high = 0
        low = 0xffff_0000_0000 | UInt64(address.value)
    }

    /// Reads an address from exactly 16 bytes in network order, as they appear
    /// in a packet header. Traps if `networkOrderBytes.count != 16`.
    @inline(__always)
    public init(networkOrderBytes: UnsafeRawBufferPointer) {
        precondition(networkOrderBytes.count == 16, "an IPv6 address is 16 bytes")
        high = UInt64(bigEndian: networkOrderBytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        low = UInt64(bigEndian: networkOrderBytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// Writes the address as 16 bytes in network order. Traps if `buffer.count != 16`.
    public func write(networkOrderBytesTo buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count == 16, "an IPv6 address is 16 bytes")
        buffer.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
        buffer.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// The 16-bit group at `index` (0...7, as written left to right). Traps on
    /// an index out of range.
    public func group(_ index: Int) -> UInt16 {
        precondition(index >= 0 && index < 8, "an IPv6 address has 8 groups")
        let half = index < 4 ? high : low
        return UInt16(truncatingIfNeeded: half >> UInt64(48 - 16 * (index & 3)))
    }

    /// The embedded IPv4 address if this is an IPv4-mapped address
    /// (`::ffff:0:0/96`), otherwise nil.
    public var ipv4Mapped: IPv4Address? {
        high == 0 && low >> 32 == 0xffff ? IPv4Address(UInt32(truncatingIfNeeded: low)) : nil
    }

    /// Parses the text forms of RFC 4291 §2.2: eight groups of one to four hex
    /// digits (either case), at most one "::" standing for one or more zero
    /// groups, and optionally the last 32 bits as a dotted quad
    /// ("::ffff:1.2.3.4"). Zone indices ("fe80::1%eth0"), brackets and
    /// surrounding spaces are refused.
    public init(_ text: String) throws(IPParseError) {
        self = try withUTF8(of: text) { (utf8) throws(IPParseError) in
            guard !utf8.isEmpty else { throw .empty }
            return try IPv6Address.parse(utf8, 0..<utf8.count)
        }
    }

    /// Parses `utf8[range]`; offsets in errors are offsets into `utf8`.
    static func parse(_ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(IPParseError) -> IPv6Address {
        guard !range.isEmpty else { throw .unexpectedEnd }
        if let percent = firstOffset(of: UInt8(ascii: "%"), in: utf8, range) { throw .zoneIndex(offset: percent) }
        // Groups before the "::" go to `head`, groups after it to `tail`.
        var head = GroupAccumulator()
        var tail = GroupAccumulator()
        var compressed = false
        var i = range.lowerBound
        let end = range.upperBound

        if utf8[i] == UInt8(ascii: ":") {
            guard i + 1 < end else { throw .unexpectedEnd }
            guard utf8[i + 1] == UInt8(ascii: ":") else { throw .unexpectedCharacter(offset: i) }
            compressed = true
            i += 2
        }
        while i < end {
            let start = i
            while i < end && hexDigit(utf8[i]) != nil { i += 1 }
            let groupLimit = compressed ? 7 : 8
            if i < end && utf8[i] == UInt8(ascii: ".") {
                // A dotted-quad tail: the last two groups, and the end of the text.
                guard head.count + tail.count + 2 <= groupLimit else { throw .tooManyParts }
                let ipv4 = try IPv4Address.parse(utf8, start..<end)
                if compressed {
                    tail.append(UInt16(truncatingIfNeeded: ipv4.value >> 16))
                    tail.append(UInt16(truncatingIfNeeded: ipv4.value))
                } else {
                    head.append(UInt16(truncatingIfNeeded: ipv4.value >> 16))
                    head.append(UInt16(truncatingIfNeeded: ipv4.value))
                }
                i = end
                break
            }
            if i == start { throw .unexpectedCharacter(offset: i) }
            if i - start > 4 { throw .numberTooLarge(offset: start) }
            guard head.count + tail.count < groupLimit else { throw .tooManyParts }
            var group: UInt16 = 0
            for j in start..<i { group = group << 4 | UInt16(truncatingIfNeeded: hexDigit(utf8[j])!) }
            if compressed { tail.append(group) } else { head.append(group) }

            if i == end { break }
            guard utf8[i] == UInt8(ascii: ":") else { throw .unexpectedCharacter(offset: i) }
            i += 1
            if i == end { throw .unexpectedEnd }
            if utf8[i] == UInt8(ascii: ":") {
                if compressed { throw .secondDoubleColon(offset: i - 1) }
                compressed = true
                i += 1
            }
        }

        if compressed {
            guard head.count + tail.count <= 7 else { throw .tooManyParts }
            // Shift the head up to groups 0..., leaving zeros where the "::" and the tail go.
            while head.count < 8 { head.append(0) }
            return IPv6Address(high: head.high | tail.high, low: head.low | tail.low)
        }
        guard head.count == 8 else { throw .tooFewParts }
        return IPv6Address(high: head.high, low: head.low)
    }

    /// The RFC 5952 canonical spelling: lowercase hex without leading zeros,
    /// the longest run of two or more zero groups written "::" (the first
    /// such run on a tie), and IPv4-mapped addresses in mixed notation
    /// ("::ffff:192.0.2.1", as RFC 5952 §5 recommends).
    public var description: String {
        makeString(capacity: 39) { writer in write(to: &writer) }
    }

    /// Appends the canonical spelling to `writer`.
    func write(to writer: inout TextWriter) {
        if let ipv4 = ipv4Mapped {
            writer.append("::ffff:")
            ipv4.write(to: &writer)
            return
        }
        // Find the longest run of zero groups; a single zero group stays "0".
        var bestStart = -1
        var bestLength = 1
        var runStart = 0
        var runLength = 0
        for index in 0..<8 {
            if group(index) == 0 {
                if runLength == 0 { runStart = index }
                runLength += 1
                if runLength > bestLength {
                    bestStart = runStart
                    bestLength = runLength
                }
            } else {
                runLength = 0
            }
        }
        var index = 0
        while index < 8 {
            if index == bestStart {
                writer.append("::")
                index += bestLength
                continue
            }
            if index > 0 && index != bestStart + bestLength { writer.append(UInt8(ascii: ":")) }
            writer.appendHex(group(index))
            index += 1
        }
    }

    /// Numeric order over the 128-bit value.
    public static func < (a: IPv6Address, b: IPv6Address) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    /// ::, the unspecified address (in6addr_any).
    public static let unspecified = IPv6Address(high: 0, low: 0)
}

/// Shifts 16-bit groups into a 128-bit value from the right, for the parser.
private struct GroupAccumulator {
    var high: UInt64 = 0
    var low: UInt64 = 0
    var count = 0

    mutating func append(_ group: UInt16) {
        high = high << 16 | low >> 48
        low = low << 16 | UInt64(group)
        count += 1
    }
}

extension IPv6Address: PrefixKey {
    static var bitWidth: Int { 128 }

    @inline(__always)
    func masked(toLength length: Int) -> IPv6Address {
        // Smart shifts: UInt64.max >> 64 is 0, so a full half keeps every bit.
        if length <= 64 { return IPv6Address(high: high & ~(UInt64.max >> UInt64(length)), low: 0) }
        return IPv6Address(high: high, low: low & ~(UInt64.max >> UInt64(length - 64)))
    }

    @inline(__always)
    func bit(at index: Int) -> Int {
        let half = index < 64 ? high : low
        return Int(truncatingIfNeeded: half >> UInt64(63 - (index & 63)) & 1)
    }

    @inline(__always)
    func commonPrefixLength(with other: IPv6Address) -> Int {
        let highDifference = high ^ other.high
        if highDifference != 0 { return highDifference.leadingZeroBitCount }
        return 64 + (low ^ other.low).leadingZeroBitCount
    }
}
