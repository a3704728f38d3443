/// A set of node indices (0..<capacity) as a bit set: unions and
/// intersections of whole targets cost a few words, not a hash per node.
struct NodeSet: Equatable, Sendable {
    private(set) var words: [UInt64]

    /// An empty set for `capacity` nodes.
    init(capacity: Int) {
        words = [UInt64](repeating: 0, count: (capacity + 63) / 64)
    }

    /// Every index below `capacity`.
    static func full(capacity: Int) -> NodeSet {
        var set = NodeSet(capacity: capacity)
        for index in 0..<capacity { set.insert(index) }
        return set
    }

    mutating func insert(_ index: Int) {
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    func contains(_ index: Int) -> Bool {
        words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    var isEmpty: Bool {
        for word in words where word != 0 { return false }
        return true
    }

    mutating func formUnion(_ other: NodeSet) {
        for index in 0..<words.count { words[index] |= other.words[index] }
    }

    func intersection(_ other: NodeSet) -> NodeSet {
        var result = self
        for index in 0..<words.count { result.words[index] &= other.words[index] }
        return result
    }

    /// Calls `body` with each member, in increasing order.
    func forEach(_ body: (Int) -> Void) {
        for wordIndex in 0..<words.count {
            var word = words[wordIndex]
            while word != 0 {
                let bit = word.trailingZeroBitCount
                body((wordIndex << 6) + bit)
                word &= word - 1
            }
        }
    }
}
