import TernCrypto

/// The server's replay record for control handshakes: the newest TAI64N
/// timestamp accepted from each machine key.
///
/// An initiation is accepted only if its timestamp is strictly newer than the
/// recorded one, so a captured initiation cannot be played again (the
/// WireGuard rule, kept per machine key instead of per peer).
///
/// The record is bounded: when it holds `capacity` keys, recording a new key
/// evicts the one accepted longest ago (by the monotonic clock). An evicted
/// key's old initiations become acceptable again, as they do after a server
/// restart unless the caller persists `entries` and restores them with
/// `restore`. Such a replay still gains nothing: without the initiation's
/// ephemeral private key nobody can derive the session, so its first
/// transport frame never comes. Capacity should exceed the number of
/// registered machines.
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

    /// A linear scan: eviction happens only at capacity, once per new key.
    private mutating func evictOldest() {
        var oldest: PublicKey?
        var oldestTime = UInt64.max
        for (key, entry) in entries where oldest == nil || entry.acceptedAt < oldestTime {
            oldest = key
            oldestTime = entry.acceptedAt
        }
        if let oldest { entries[oldest] = nil }
    }
}
