/// The sliding window that refuses replayed transport packets (RFC 6479, as in
/// the kernel and wireguard-go): the newest 8,128 counters are remembered in a
/// ring of 128 64-bit words. Counters are checked only after a packet
/// authenticates, so a forger cannot move the window.
public struct ReplayWindow: Sendable {
    private static let wordBits = 64
    private static let ringWords = 128
    /// How far behind the newest counter a packet may arrive and still be accepted.
    public static let windowSize: UInt64 = UInt64((ringWords - 1) * wordBits)

    private var ring = InlineArray<128, UInt64>(repeating: 0)
    private var newest: UInt64 = 0

    /// An empty window.
    public init() {}

    /// Records `counter` and returns true if it is new and within the window;
    /// returns false (and records nothing) for a replay, a counter too old, or
    /// one at or past `Protocol.rejectAfterMessages`.
    public mutating func accept(_ counter: UInt64) -> Bool {
        guard counter < Protocol.rejectAfterMessages else { return false }
        // Block numbers stay 64-bit: on 32-bit ARM an Int would wrap.
        let block = counter >> 6
        let mask = UInt64(Self.ringWords - 1)
        if counter > newest {
            // Clear the words the window slides over (at most the whole ring).
            let current = newest >> 6
            let distance = min(block - current, UInt64(Self.ringWords))
            if distance > 0 {
                for i in 1...distance { ring[Int(truncatingIfNeeded: (current + i) & mask)] = 0 }
            }
            newest = counter
        } else if newest - counter > Self.windowSize {
            return false
        }
        let bit: UInt64 = 1 << (counter & 63)
        let index = Int(truncatingIfNeeded: block & mask)
        let old = ring[index]
        ring[index] = old | bit
        return old & bit == 0
    }

    /// Forgets every counter seen.
    public mutating func reset() {
        ring = InlineArray(repeating: 0)
        newest = 0
    }
}
