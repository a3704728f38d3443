import TernCrypto

/// What a local index (the receiver_index of messages sent to us) names.
public enum IndexEntry: Equatable, Sendable {
    /// The handshake in progress with a peer.
    case handshake(PeerID)
    /// One of a peer's keypairs.
    case keypair(PeerID)

    /// The peer the index belongs to.
    public var peer: PeerID {
        switch self {
        case .handshake(let peer), .keypair(let peer): return peer
        }
    }
}

/// Local indices in use (spec digest §4): random 32-bit values, unique on this
/// device, so a message's receiver_index finds its peer without trying keys.
struct IndexTable {
    private var entries: [UInt32: IndexEntry] = [:]

    /// The entry for `index`.
    subscript(index: UInt32) -> IndexEntry? { entries[index] }

    /// Picks a fresh random index for `entry`, retrying on collision.
    mutating func insert<R: RandomSource>(_ entry: IndexEntry, random: inout R) -> UInt32 {
        while true {
            let index = random.uint32()
            if entries[index] == nil {
                entries[index] = entry
                return index
            }
        }
    }

    /// Repoints an index in use (a handshake's index becomes its keypair's).
    mutating func replace(_ index: UInt32, with entry: IndexEntry) {
        entries[index] = entry
    }

    /// Frees `index`.
    mutating func remove(_ index: UInt32) {
        entries[index] = nil
    }

    /// How many indices are in use.
    var count: Int { entries.count }
}
