import IP
import Testing
import Time
@testable import Coordinator

/// Handshakes each source may start before the server does DH work for it.
@Suite struct HandshakeRateLimitTests {
    private let t0 = MonotonicInstant(nanoseconds: 5_000_000_000)

    /// `allow` for each (address, time), in order: what each answered.
    private func answers(_ limit: inout HandshakeRateLimit, _ tries: [(String, MonotonicInstant)]) -> [Bool] {
        tries.map { limit.allow(try! IPAddress($0.0), now: $0.1) }
    }

    @Test func aBurstThenTheRate() {
        var limit = HandshakeRateLimit(ratePerSecond: 20, burst: 5)
        let source = "198.51.100.7"
        #expect(answers(&limit, Array(repeating: (source, t0), count: 6)) == [true, true, true, true, true, false])
        // 20 a second: 50 ms of credit per handshake, and never more than the burst.
        #expect(answers(&limit, [(source, t0 + .milliseconds(49)), (source, t0 + .milliseconds(100)),
                                 (source, t0 + .milliseconds(100))]) == [false, true, true])
        let later = answers(&limit, Array(repeating: (source, t0 + .seconds(60)), count: 50))
        #expect(later.filter { $0 }.count == 5)
        #expect(limit.refusedCount == 1 + 1 + 45)
    }

    @Test func sourcesAreSeparateAndIPv6CountsBySlash64() {
        var limit = HandshakeRateLimit(ratePerSecond: 1, burst: 1)
        let tries = ["192.0.2.1", "192.0.2.1", "::ffff:192.0.2.1", "192.0.2.2",
                     "2001:db8:0:1::1", "2001:db8:0:1::ffff", "2001:db8:0:2::1"].map { ($0, t0) }
        #expect(answers(&limit, tries) == [true, false, false, true, true, false, true])
    }

    /// More sources than it tracks: the tracked keep their own rate, the
    /// rest share one bucket, and idle ones are forgotten.
    @Test func manySourcesShareTheOverflowBucket() {
        var limit = HandshakeRateLimit(ratePerSecond: 10, burst: 2, maximumSources: 100)
        let tracked = answers(&limit, (0..<100).map { ("10.0.0.\($0)", t0) })
        #expect(tracked.allSatisfy { $0 })
        #expect(limit.trackedSources == 100)
        #expect(answers(&limit, [("10.0.1.1", t0), ("10.0.1.2", t0), ("10.0.1.3", t0), ("10.0.0.5", t0)])
            == [true, true, false, true])
        // After the buckets refill, the idle sources are forgotten and new ones tracked.
        #expect(answers(&limit, [("10.0.2.1", t0 + .seconds(2))]) == [true])
        #expect(limit.trackedSources == 1)
    }
}
