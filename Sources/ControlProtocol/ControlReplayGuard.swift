import TernCrypto

/// The server's replay record for control handshakes: the newest TAI64N
/// timestamp accepted from each machine key.
///
/// An initiation is accepted only if its timestamp is strictly newer than the
/// recorded one, so a captured initiation cannot be played again (the
/// WireGuard rule, kept per machine key instead of per peer).
///
/// The record is bounded: when it holds `capacity` keys, recording a new key
/// evicts the one recorded longest ago, in O(1) amortised time. An evicted
/// key's old initiations become acceptable again, as they do after a server
/// restart unless the caller persists `entries` and restores them with
/// `restore`. Such a replay still gains nothing: without the initiation's
/// ephemeral private key nobody can derive the session, so its first
/// transport frame never comes. The server records a key only once its
/// machine has logged in, so strangers with fresh random keys cannot fill
/// the record or push real machines out; capacity should exceed the number
/// of registered machines.
public struct ControlReplayGuard: Sendable {
    /// One machine key's record.
    public struct Entry: Sendable {
        /// The newest timestamp accepted from the key.
        public var timestamp: TAI64N
        /// When (monotonic ns) it was accepted; orders eviction.
        public var acceptedAt: UInt64

        /// A record.
        public init(timestamp: TAI64N, acceptedAt: UInt64) {
            self.timestamp = timestamp
            self.acceptedAt = acceptedAt
        }
    }

    /// The most keys remembered at once.
    public let capacity: Int
    /// The records, by machine key.
    public private(set) var entries: [PublicKey: Entry] = [:]
    /// Keys in the order they were recorded, each with the `acceptedAt` of
    /// that record; a key recorded again later is skipped when met here
    /// (its entry no longer matches), which keeps eviction O(1) amortised.
    private var order: [(key: PublicKey, acceptedAt: UInt64)] = []
    private var orderHead = 0

    /// An empty record for at most `capacity` (> 0) machine keys.
    public init(capacity: Int = 65536) {
        precondition(capacity > 0, "a replay guard needs room for one key")
        self.capacity = capacity
    }

    /// Keys currently remembered.
    public var count: Int { entries.count }

    /// The newest timestamp accepted from `machine`, if remembered.
    public func latest(for machine: PublicKey) -> TAI64N? { entries[machine]?.timestamp }

    /// True if an initiation from `machine` stamped `timestamp` is not a replay.
    public func isFresh(_ timestamp: TAI64N, for machine: PublicKey) -> Bool {
        guard let entry = entries[machine] else { return true }
        return timestamp > entry.timestamp
    }

    /// Records that an initiation from `machine` stamped `timestamp` was
    /// accepted at `now`. A timestamp older than the recorded one is ignored
    /// (the record never goes backwards).
    public mutating func record(_ timestamp: TAI64N, for machine: PublicKey, now: UInt64) {
        if let entry = entries[machine] {
            guard timestamp > entry.timestamp else { return }
        } else if entries.count >= capacity {
            evictOldest()
        }
        entries[machine] = Entry(timestamp: timestamp, acceptedAt: now)
        order.append((machine, now))
        compactOrder()
    }

    /// Restores a record saved from `entries` (for example after a restart),
    /// keeping whichever timestamp is newer.
    public mutating func restore(_ timestamp: TAI64N, for machine: PublicKey, acceptedAt: UInt64) {
        record(timestamp, for: machine, now: acceptedAt)
    }

    /// Forgets `machine` (for example when the machine is deleted).
    public mutating func forget(_ machine: PublicKey) {
        entries[machine] = nil
    }

    /// Drops the key whose newest record is the oldest: the first entry of
    /// `order` that still matches its key's record.
    private mutating func evictOldest() {
        while orderHead < order.count {
            let (key, acceptedAt) = order[orderHead]
            orderHead += 1
            if let entry = entries[key], entry.acceptedAt == acceptedAt {
                entries[key] = nil
                return
            }
        }
    }

    /// Keeps `order` within twice the live records: the skipped front is
    /// dropped once it is half of it, and stale entries are filtered out
    /// when more than half are stale.
    private mutating func compactOrder() {
        if orderHead > 0 && orderHead * 2 >= order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
        if order.count > 2 * max(entries.count, 16) {
            order = order[orderHead...].filter { entries[$0.key]?.acceptedAt == $0.acceptedAt }
            orderHead = 0
        }
    }
}
