import IP

/// Token buckets per source address for handshakes under load (spec digest §5):
/// 20 per second with a burst of 5, as in the kernel and wireguard-go. IPv6
/// sources are grouped by /64, as the kernel does, so one host cannot dodge
/// the limit by walking its subnet.
struct RateLimiter {
    private static let packetCost = Protocol.second / 20
    private static let maxTokens = 5 * packetCost
    private static let idleExpiry = Protocol.second

    private struct Bucket {
        var tokens: UInt64
        var lastSeen: UInt64
    }

    private var buckets: [IPAddress: Bucket] = [:]
    private var lastCollection: UInt64 = 0
    /// Tables larger than this are not grown: new sources are refused until old ones expire.
    private let capacity: Int

    init(capacity: Int = 8192) { self.capacity = capacity }

    /// True if a handshake from `source` may be processed at `now`.
    mutating func allow(_ source: IPAddress, now: UInt64) -> Bool {
        if now &- lastCollection >= Self.idleExpiry { collect(now: now) }
        let key = Self.key(source)
        guard var bucket = buckets[key] else {
            guard buckets.count < capacity else { return false }
            buckets[key] = Bucket(tokens: Self.maxTokens - Self.packetCost, lastSeen: now)
            return true
        }
        bucket.tokens = min(Self.maxTokens, bucket.tokens + (now &- bucket.lastSeen))
        bucket.lastSeen = now
        let allowed = bucket.tokens >= Self.packetCost
        if allowed { bucket.tokens -= Self.packetCost }
        buckets[key] = bucket
        return allowed
    }

    /// Forgets sources idle for a second.
    private mutating func collect(now: UInt64) {
        lastCollection = now
        buckets = buckets.filter { now &- $0.value.lastSeen < Self.idleExpiry }
    }

    private static func key(_ address: IPAddress) -> IPAddress {
        switch address {
        case .v4: return address
        case .v6(let v6): return .v6(IPv6Address(high: v6.high, low: 0))
        }
    }
}
