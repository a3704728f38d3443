/// A TAI64N timestamp: 8 bytes big-endian `2^62 + 10 + unix seconds`, then 4 bytes
/// big-endian nanoseconds. WireGuard sends one in every initiation, and the
/// responder accepts only strictly increasing ones (replay protection).
public struct TAI64N: Comparable, Sendable {
    /// The 12 wire bytes.
    public let bytes: InlineArray<12, UInt8>

    /// TAI64 label of the Unix epoch plus the 10 s TAI-UTC offset WireGuard uses.
    private static let base: UInt64 = 0x4000_0000_0000_000a

    /// The timestamp for a wall-clock time, with the nanoseconds whitened.
    ///
    /// The low 24 bits of the nanoseconds are cleared (about 16.8 ms
    /// granularity, below the 20 ms initiation flood limit) so that the
    /// timestamp does not leak a precise clock to anyone who can decrypt it.
    public init(unixSeconds: Int64, nanoseconds: UInt32) {
        var bytes = InlineArray<12, UInt8>(repeating: 0)
        let seconds = Self.base &+ UInt64(bitPattern: unixSeconds)
        let whitened = nanoseconds & ~0x00FF_FFFF
        withUnsafeMutableBytes(of: &bytes) { out in
            out.storeBytes(of: seconds.bigEndian, toByteOffset: 0, as: UInt64.self)
            out.storeBytes(of: whitened.bigEndian, toByteOffset: 8, as: UInt32.self)
        }
        self.bytes = bytes
    }

    /// Wraps 12 received bytes.
    public init(bytes: InlineArray<12, UInt8>) { self.bytes = bytes }

    /// The zero timestamp: older than any real one.
    public static let zero = TAI64N(bytes: InlineArray(repeating: 0))

    /// Byte-wise big-endian comparison, as the responder does.
    public static func < (a: TAI64N, b: TAI64N) -> Bool {
        for i in 0..<12 where a.bytes[i] != b.bytes[i] { return a.bytes[i] < b.bytes[i] }
        return false
    }

    /// Byte-wise equality.
    public static func == (a: TAI64N, b: TAI64N) -> Bool {
        for i in 0..<12 where a.bytes[i] != b.bytes[i] { return false }
        return true
    }
}
