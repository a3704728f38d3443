import ControlProtocol
import TernCrypto

/// When the node's link to its coordination server connects, pings, gives
/// up and tries again: the timing rules of `ControlLink`, with time and
/// randomness passed in so they are unit-tested with a manual clock.
///
/// - A failed attempt waits `backoff` plus up to a quarter of it at random
///   (so a thousand nodes do not reconnect in step after a server restart),
///   then the backoff doubles, up to `maximumBackoff`; a session that logs
///   in resets it, and so does `tern up`.
/// - A connection must be up (connected and handshaken) within
///   `connectTimeout`.
/// - Once up, the node pings every `pingInterval` and gives up when nothing
///   at all arrived for `silenceLimit`.
public struct ControlLinkSchedule: Sendable {
    /// Backoff bounds after a failed attempt (nanoseconds).
    public static let minimumBackoff: UInt64 = 1_000_000_000
    public static let maximumBackoff: UInt64 = 30_000_000_000
    /// How long a connect plus handshake may take.
    public static let connectTimeout: UInt64 = 10_000_000_000
    /// How long without any message from the server before giving up.
    public static let silenceLimit: UInt64 = 50_000_000_000

    /// How often to ping (subnet routers ping often: `ControlTiming`).
    public var pingInterval = ControlTiming.pingInterval
    /// The wait before the next attempt after a failure (before jitter).
    public private(set) var backoff = ControlLinkSchedule.minimumBackoff
    /// When the next attempt may start (nil: at once).
    public private(set) var retryAt: UInt64?
    private var connectDeadline: UInt64 = 0
    private var lastHeard: UInt64 = 0
    private var nextPing: UInt64 = 0
    private var pingNumber: UInt64 = 0

    /// What `tick` decided.
    public enum Decision: Equatable, Sendable {
        /// Nothing to do now.
        case wait
        /// The connection did not come up in time: fail it.
        case connectTimedOut
        /// The server said nothing for `silenceLimit`: fail the connection.
        case serverSilent
        /// Send ping number `n`.
        case ping(UInt64)
    }

    /// A schedule that may connect at once.
    public init() {}

    /// True if an attempt may start at `now`.
    public func mayConnect(now: UInt64) -> Bool { retryAt.map { now >= $0 } ?? true }

    /// An attempt started at `now`.
    public mutating func connecting(now: UInt64) {
        connectDeadline = now + Self.connectTimeout
        lastHeard = now
        nextPing = now + pingInterval
    }

    /// Something arrived from the server at `now`.
    public mutating func heard(now: UInt64) { lastHeard = now }

    /// The attempt or session failed at `now`: the next waits the backoff
    /// plus jitter, and the backoff doubles.
    public mutating func failed<R: RandomSource>(now: UInt64, random: inout R) {
        let jitterMilliseconds = random.uniform(backoff / 4_000_000 + 1)
        retryAt = now + backoff + jitterMilliseconds * 1_000_000
        backoff = min(backoff * 2, Self.maximumBackoff)
    }

    /// Closed on purpose (logout, `tern down`): no attempt is scheduled.
    public mutating func stopped() { retryAt = nil }

    /// The node logged in: the next failure starts from the minimum again.
    public mutating func succeeded() { backoff = Self.minimumBackoff }

    /// Try at once, from the minimum backoff (`tern up`).
    public mutating func reset() {
        backoff = Self.minimumBackoff
        retryAt = nil
    }

    /// What is due at `now` for a connection that exists (`established`:
    /// its secure channel is up).
    public mutating func tick(now: UInt64, established: Bool) -> Decision {
        guard established else { return now >= connectDeadline ? .connectTimedOut : .wait }
        if now >= lastHeard + Self.silenceLimit { return .serverSilent }
        guard now >= nextPing else { return .wait }
        pingNumber += 1
        nextPing = now + pingInterval
        return .ping(pingNumber)
    }

    /// When `tick` next has something to do for a connection that exists.
    public func nextDeadline(established: Bool) -> UInt64 {
        established ? min(nextPing, lastHeard + Self.silenceLimit) : connectDeadline
    }
}
