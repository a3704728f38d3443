import IP
import Testing
import Time
@testable import Coordinator

/// Who may connect to the coordination server before logging in, for how
/// long, and what a flood of strangers can and cannot take.
@Suite struct ConnectionAdmissionTests {
    private let small = ConnectionLimits(maximumConnections: 6, maximumUnauthenticated: 4, maximumUnauthenticatedPerSource: 2,
                                         loginDeadline: .seconds(10), maximumMessagesBeforeLogin: 4)
    private let t0 = MonotonicInstant(nanoseconds: 1_000_000_000)

    private func address(_ text: String) -> IPAddress { try! IPAddress(text) }

    @Test func aSourceGetsItsShareAndNoMore() {
        var admission = ConnectionAdmission(limits: small)
        #expect(admission.admit(token: 1, from: address("192.0.2.1"), now: t0) == .admit(evicting: nil))
        #expect(admission.admit(token: 2, from: address("192.0.2.1"), now: t0) == .admit(evicting: nil))
        #expect(admission.admit(token: 3, from: address("192.0.2.1"), now: t0) == .refuse(.sourceLimit))
        // The same IPv4 address mapped into IPv6 is the same source.
        #expect(admission.admit(token: 4, from: address("::ffff:192.0.2.1"), now: t0) == .refuse(.sourceLimit))
        #expect(admission.refusedCount == 2)
        // Another address is not held back, and a login frees a share.
        #expect(admission.admit(token: 5, from: address("192.0.2.2"), now: t0) == .admit(evicting: nil))
        admission.loggedIn(token: 1)
        #expect(admission.admit(token: 6, from: address("192.0.2.1"), now: t0) == .admit(evicting: nil))
        #expect(admission.unauthenticatedCount == 3)
        #expect(admission.authenticatedCount == 1)
    }

    @Test func anIPv6SourceIsItsSlash64() {
        var admission = ConnectionAdmission(limits: small)
        #expect(admission.admit(token: 1, from: address("2001:db8:1:2::1"), now: t0) == .admit(evicting: nil))
        #expect(admission.admit(token: 2, from: address("2001:db8:1:2:ffff::9"), now: t0) == .admit(evicting: nil))
        #expect(admission.admit(token: 3, from: address("2001:db8:1:2::77"), now: t0) == .refuse(.sourceLimit))
        #expect(admission.admit(token: 4, from: address("2001:db8:1:3::1"), now: t0) == .admit(evicting: nil))
    }

    @Test func aFullBudgetForStrangersEvictsTheOldest() {
        var admission = ConnectionAdmission(limits: small)
        for token in UInt64(1)...4 {
            #expect(admission.admit(token: token, from: address("198.51.100.\(token)"), now: t0) == .admit(evicting: nil))
        }
        #expect(admission.isFull)
        #expect(admission.admit(token: 5, from: address("198.51.100.5"), now: t0) == .admit(evicting: 1))
        admission.closed(token: 2)
        #expect(admission.admit(token: 6, from: address("198.51.100.6"), now: t0) == .admit(evicting: nil))
        #expect(admission.admit(token: 7, from: address("198.51.100.7"), now: t0) == .admit(evicting: 3))
        #expect(admission.evictedCount == 2)
        #expect(admission.unauthenticatedCount == 4)
    }

    @Test func sessionsAreNeverEvictedAndAFullServerRefuses() {
        var admission = ConnectionAdmission(limits: small)
        for token in UInt64(1)...6 {
            #expect(admission.admit(token: token, from: address("203.0.113.\(token)"), now: t0) == .admit(evicting: nil))
            admission.loggedIn(token: token)
        }
        #expect(admission.isFull)
        #expect(admission.admit(token: 7, from: address("203.0.113.7"), now: t0) == .refuse(.full))
        admission.closed(token: 3)
        #expect(admission.admit(token: 7, from: address("203.0.113.7"), now: t0) == .admit(evicting: nil))
        // Full again: the newcomer may only take the stranger's place.
        #expect(admission.admit(token: 8, from: address("203.0.113.8"), now: t0) == .admit(evicting: 7))
        #expect(admission.authenticatedCount == 5)
        // A login after eviction counts for nothing.
        admission.loggedIn(token: 7)
        #expect(admission.authenticatedCount == 5)
        #expect(admission.count == 6)
    }

    @Test func theLoginDeadlineIsAbsolute() {
        var admission = ConnectionAdmission(limits: small)
        _ = admission.admit(token: 1, from: address("192.0.2.1"), now: t0)
        _ = admission.admit(token: 2, from: address("192.0.2.2"), now: t0 + .seconds(3))
        _ = admission.admit(token: 3, from: address("192.0.2.3"), now: t0 + .seconds(4))
        admission.loggedIn(token: 2)
        #expect(admission.nextDeadline() == t0 + .seconds(10))
        #expect(admission.expired(now: t0 + .seconds(9)).isEmpty)
        #expect(admission.expired(now: t0 + .seconds(10)) == [1])
        // The logged-in one is skipped; the next stranger's deadline is next.
        #expect(admission.nextDeadline() == t0 + .seconds(14))
        #expect(admission.expired(now: t0 + .seconds(60)) == [3])
        #expect(admission.nextDeadline() == nil)
        #expect(admission.expiredCount == 2)
        #expect(admission.count == 1)
    }

    /// Churn far beyond the limits keeps the counts exact and the queue
    /// small: what a flood of connect-and-close does to the bookkeeping.
    @Test func churnKeepsTheBookkeepingExact() {
        var admission = ConnectionAdmission(limits: .standard)
        var open: [UInt64: Bool] = [:]  // token → logged in
        var now = t0
        for token in UInt64(1)...200_000 {
            now += .milliseconds(1)
            let source = address("10.\(token % 7).\(token / 256 % 256).\(token % 256)")
            switch admission.admit(token: token, from: source, now: now) {
            case .admit(let evicting):
                if let evicting { open[evicting] = nil }
                open[token] = false
            case .refuse:
                break
            }
            if token % 3 == 0, open[token] != nil { admission.loggedIn(token: token); open[token] = true }
            if token % 5 == 0, let victim = open.keys.first { admission.closed(token: victim); open[victim] = nil }
            for expired in admission.expired(now: now) { open[expired] = nil }
            if token % 1000 == 0 {
                #expect(admission.count == open.count)
                #expect(admission.authenticatedCount == open.values.filter { $0 }.count)
                #expect(admission.count <= ConnectionLimits.standard.maximumConnections)
            }
        }
    }
}
