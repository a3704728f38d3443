import Testing
import TernCrypto
@testable import ControlProtocol

/// The per-machine record of accepted handshake timestamps.
@Suite struct ReplayGuardTests {
    @Test func acceptsOnlyStrictlyNewerTimestamps() {
        var guardian = ControlReplayGuard(capacity: 4)
        let machine = Sample.key(1)
        #expect(guardian.isFresh(stamp(0), for: machine))
        guardian.record(stamp(5), for: machine, now: 1)
        #expect(!guardian.isFresh(stamp(5), for: machine))
        #expect(!guardian.isFresh(stamp(4), for: machine))
        #expect(guardian.isFresh(stamp(5, nanoseconds: 1 << 24), for: machine))
        #expect(guardian.isFresh(stamp(0), for: Sample.key(2)))
    }

    @Test func recordNeverGoesBackwards() {
        var guardian = ControlReplayGuard(capacity: 4)
        let machine = Sample.key(1)
        guardian.record(stamp(10), for: machine, now: 1)
        guardian.record(stamp(3), for: machine, now: 2)
        #expect(guardian.latest(for: machine) == stamp(10))
        guardian.restore(stamp(8), for: machine, acceptedAt: 0)
        #expect(guardian.latest(for: machine) == stamp(10))
        guardian.restore(stamp(12), for: machine, acceptedAt: 0)
        #expect(guardian.latest(for: machine) == stamp(12))
    }

    @Test func evictsTheKeyAcceptedLongestAgo() {
        var guardian = ControlReplayGuard(capacity: 3)
        guardian.record(stamp(1), for: Sample.key(1), now: 10)
        guardian.record(stamp(1), for: Sample.key(2), now: 20)
        guardian.record(stamp(1), for: Sample.key(3), now: 30)
        // Key 1 reconnects: now key 2 is the oldest.
        guardian.record(stamp(2), for: Sample.key(1), now: 40)
        guardian.record(stamp(1), for: Sample.key(4), now: 50)
        #expect(guardian.count == 3)
        #expect(guardian.latest(for: Sample.key(2)) == nil)
        #expect(guardian.latest(for: Sample.key(1)) == stamp(2))
        #expect(guardian.latest(for: Sample.key(3)) == stamp(1))
        #expect(guardian.latest(for: Sample.key(4)) == stamp(1))
        // An update at capacity evicts nothing.
        guardian.record(stamp(3), for: Sample.key(3), now: 60)
        #expect(guardian.count == 3)
    }

    private func key(_ index: Int) -> PublicKey {
        var bytes = [UInt8](repeating: 0x5a, count: 32)
        bytes[0] = UInt8(truncatingIfNeeded: index)
        bytes[1] = UInt8(truncatingIfNeeded: index >> 8)
        return bytes.withUnsafeBytes { PublicKey(raw: $0) }
    }

    /// Far more keys than capacity, each recorded many times: eviction
    /// stays exact (oldest newest-record first) and the bookkeeping small.
    @Test func evictionAtScaleIsExact() {
        var guardian = ControlReplayGuard(capacity: 1000)
        var now: UInt64 = 0
        for round in 0..<20 {
            for index in 0..<1000 {
                now += 1
                guardian.record(stamp(Int64(round + 1)), for: key(index), now: now)
            }
        }
        #expect(guardian.count == 1000)
        // 500 new keys push out the 500 recorded longest ago: indices 0..<500.
        for index in 0..<500 {
            now += 1
            guardian.record(stamp(1), for: key(10_000 + index), now: now)
        }
        #expect(guardian.count == 1000)
        #expect(guardian.latest(for: key(0)) == nil)
        #expect(guardian.latest(for: key(499)) == nil)
        #expect(guardian.latest(for: key(500)) == stamp(20))
        #expect(guardian.latest(for: key(10_499)) == stamp(1))
    }

    @Test func forgetDropsAKey() {
        var guardian = ControlReplayGuard()
        guardian.record(stamp(1), for: Sample.key(1), now: 1)
        guardian.forget(Sample.key(1))
        #expect(guardian.count == 0)
        #expect(guardian.isFresh(stamp(0), for: Sample.key(1)))
    }
}
