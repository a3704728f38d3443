import ControlProtocol
import Mesh
import TernCrypto
import TestSupport
import Testing

private struct Seeded: RandomSource {
    var generator: SplitMix64
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: generator.next()) }
    }
}

private let second: UInt64 = 1_000_000_000

@Suite struct ControlLinkScheduleTests {
    @Test func backoffDoublesWithJitterUpToThirtySecondsAndLoginResetsIt() {
        var schedule = ControlLinkSchedule()
        var random = Seeded(generator: SplitMix64(seed: 1))
        var now: UInt64 = 1000 * second
        #expect(schedule.mayConnect(now: now))
        var waits: [UInt64] = []
        for _ in 0..<8 {
            let backoff = schedule.backoff
            schedule.connecting(now: now)
            schedule.failed(now: now, random: &random)
            let wait = schedule.retryAt! - now
            #expect(wait >= backoff && wait <= backoff + backoff / 4, "jitter within a quarter of the backoff")
            #expect(!schedule.mayConnect(now: now + wait - 1) && schedule.mayConnect(now: now + wait))
            waits.append(backoff / second)
            now += wait
        }
        #expect(waits == [1, 2, 4, 8, 16, 30, 30, 30])
        // A session that logs in starts the next failure from one second again.
        schedule.succeeded()
        schedule.failed(now: now, random: &random)
        #expect(schedule.retryAt! - now < 2 * second)
        // `tern up` tries at once.
        schedule.failed(now: now, random: &random)
        schedule.reset()
        #expect(schedule.mayConnect(now: now) && schedule.backoff == ControlLinkSchedule.minimumBackoff)
    }

    @Test func jitterSpreadsAThousandNodesReconnectingAtOnce() {
        var random = Seeded(generator: SplitMix64(seed: 2))
        var retries = Set<UInt64>()
        for _ in 0..<1000 {
            var schedule = ControlLinkSchedule()
            for _ in 0..<5 { schedule.failed(now: 0, random: &random) }     // the fifth: 16 s + up to 4 s
            retries.insert(schedule.retryAt! / 1_000_000)
        }
        // Spread over the 4,001 possible milliseconds: far fewer collisions than nodes.
        #expect(retries.count > 800)
        #expect(retries.min()! >= 16_000 && retries.max()! <= 20_000)
    }

    @Test func aConnectionMustComeUpWithinTenSeconds() {
        var schedule = ControlLinkSchedule()
        schedule.connecting(now: 0)
        #expect(schedule.tick(now: 10 * second - 1, established: false) == .wait)
        #expect(schedule.nextDeadline(established: false) == 10 * second)
        #expect(schedule.tick(now: 10 * second, established: false) == .connectTimedOut)
    }

    @Test func pingsAtTheIntervalAndGivesUpOnASilentServer() {
        var schedule = ControlLinkSchedule()
        schedule.pingInterval = ControlTiming.pingInterval(advertisedRouteCount: 0)
        schedule.connecting(now: 0)
        var pings: [UInt64] = []
        var now: UInt64 = 0
        // The server answers nothing: pings at 20 s and 40 s, then silence at 50 s.
        while now <= 60 * second {
            switch schedule.tick(now: now, established: true) {
            case .ping(let number): pings.append(number * 1000 + now / second)
            case .serverSilent:
                #expect(now == 50 * second)
                #expect(pings == [1020, 2040])
                return
            case .connectTimedOut: Issue.record("an established link cannot time out connecting")
            case .wait: break
            }
            now += second
        }
        Issue.record("a silent server was never given up on")
    }

    @Test func whatArrivesKeepsTheLinkAndARouterPingsOften() {
        var schedule = ControlLinkSchedule()
        schedule.pingInterval = ControlTiming.pingInterval(advertisedRouteCount: 1)
        schedule.connecting(now: 0)
        var pings = 0
        var now: UInt64 = 0
        while now < 120 * second {
            now += 100_000_000
            let decision = schedule.tick(now: now, established: true)
            if case .ping = decision {
                pings += 1
                schedule.heard(now: now + 1)          // the pong
            }
            #expect(decision != .serverSilent)
            #expect(schedule.nextDeadline(established: true) > now)
        }
        #expect(pings == 240)                         // every half second
    }
}
