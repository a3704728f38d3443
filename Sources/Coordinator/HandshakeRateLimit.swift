import IP
import Time

/// How many control handshakes each source may start: a token bucket per
/// source (an IPv4 address or an IPv6 /64, as `ConnectionAdmission` counts
/// them), checked before the server does any Diffie-Hellman work for it.
///
/// A handshake costs the server about five X25519 operations; without this,
/// one host opening connections in a loop makes it do that work as fast as
/// it can connect. A real node does one handshake per connection and
/// reconnects with backoff, so the rate below is far above what it needs,
/// and the burst lets a whole office behind one NAT reconnect at once after
/// a server restart.
///
/// At most `maximumSources` are tracked; when that many are busy, the
/// sources beyond them share one bucket, so tracked sources keep their own
/// rate however many addresses an attacker has. Pure: the service passes
/// the time.
public struct HandshakeRateLimit {
    /// Handshakes per second each source may sustain.
    public let ratePerSecond: Int
    /// Handshakes a source may start at once after being quiet.
    public let burst: Int
    /// Sources tracked one by one.
    public let maximumSources: Int

    private struct Bucket {
        /// Tokens, in units of 1/`ratePerSecond` second of credit (one
        /// handshake costs `nanosecondsPerToken`).
        var credit: UInt64
        var updated: MonotonicInstant
    }

    private var buckets: [IPAddress: Bucket] = [:]
    private var overflow: Bucket?
    private var lastPrune = MonotonicInstant.origin

    /// Handshakes refused since the start.
    public private(set) var refusedCount: UInt64 = 0

    /// The limits `tern-control serve` runs with: 20 a second, 100 at once.
    public init(ratePerSecond: Int = 20, burst: Int = 100, maximumSources: Int = 65_536) {
        precondition(ratePerSecond > 0 && burst > 0 && maximumSources > 0)
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.maximumSources = maximumSources
    }

    private var nanosecondsPerToken: UInt64 { 1_000_000_000 / UInt64(ratePerSecond) }
    private var fullCredit: UInt64 { UInt64(burst) * nanosecondsPerToken }

    /// Sources tracked now.
    public var trackedSources: Int { buckets.count }

    /// True if a handshake from `address` may go ahead at `now` (and takes
    /// its token); false if the source is over its rate.
    public mutating func allow(_ address: IPAddress, now: MonotonicInstant) -> Bool {
        let source = ConnectionAdmission.source(of: address)
        if buckets[source] == nil && buckets.count >= maximumSources { prune(now: now) }
        if buckets[source] == nil && buckets.count >= maximumSources {
            var shared = overflow ?? Bucket(credit: fullCredit, updated: now)
            let allowed = take(&shared, now: now)
            overflow = shared
            return allowed
        }
        var bucket = buckets[source] ?? Bucket(credit: fullCredit, updated: now)
        let allowed = take(&bucket, now: now)
        buckets[source] = bucket
        return allowed
    }

    private mutating func take(_ bucket: inout Bucket, now: MonotonicInstant) -> Bool {
        let elapsed = (now - bucket.updated).nanoseconds
        bucket.credit = min(fullCredit, bucket.credit.saturatingAdd(elapsed))
        bucket.updated = max(bucket.updated, now)
        guard bucket.credit >= nanosecondsPerToken else {
            refusedCount += 1
            return false
        }
        bucket.credit -= nanosecondsPerToken
        return true
    }

    /// Forgets sources whose bucket has refilled (they are as if new), at
    /// most once a second so a flood of new sources costs O(1) amortised.
    private mutating func prune(now: MonotonicInstant) {
        guard now - lastPrune >= .seconds(1) else { return }
        lastPrune = now
        let full = fullCredit
        buckets = buckets.filter { _, bucket in
            bucket.credit.saturatingAdd((now - bucket.updated).nanoseconds) < full
        }
    }
}
