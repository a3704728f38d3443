import IP
import Time

/// What connections that have not logged in may cost the coordination
/// server. Anyone on the network can open one, so they get a budget of
/// their own, apart from the sessions of logged-in nodes: a flood of them
/// may slow new logins down but never takes the server from the nodes it
/// already serves.
public struct ConnectionLimits: Sendable, Equatable {
    /// All connections, logged in or not (each costs a descriptor).
    public var maximumConnections: Int
    /// Connections that have not logged in yet.
    public var maximumUnauthenticated: Int
    /// Connections that have not logged in yet from one source: one IPv4
    /// address or one IPv6 /64 (what one host typically has).
    public var maximumUnauthenticatedPerSource: Int
    /// How long after it is accepted a connection must be logged in: the
    /// HTTP upgrade, the handshake and the login together. Absolute, so
    /// trickling bytes or pings never extends it.
    public var loginDeadline: Interval
    /// Control messages a connection may send before its login (the login
    /// itself included); more is not what a node does.
    public var maximumMessagesBeforeLogin: Int

    /// The limits `tern-control serve` runs with.
    public static let standard = ConnectionLimits(
        maximumConnections: 8192, maximumUnauthenticated: 1024, maximumUnauthenticatedPerSource: 16,
        loginDeadline: .seconds(10), maximumMessagesBeforeLogin: 4)

    /// Limits with every field given.
    public init(maximumConnections: Int, maximumUnauthenticated: Int, maximumUnauthenticatedPerSource: Int,
                loginDeadline: Interval, maximumMessagesBeforeLogin: Int) {
        self.maximumConnections = maximumConnections
        self.maximumUnauthenticated = maximumUnauthenticated
        self.maximumUnauthenticatedPerSource = maximumUnauthenticatedPerSource
        self.loginDeadline = loginDeadline
        self.maximumMessagesBeforeLogin = maximumMessagesBeforeLogin
    }
}

/// The coordination server's bookkeeping of its connections: whether a new
/// one may come in, which stranger makes room for it when the budget for
/// strangers is full, and which strangers ran out of time. Pure: the
/// service reports accepts, logins and closes, with the time, and does
/// what the answers say.
///
/// When the budget for connections that have not logged in is full, the
/// oldest of them is evicted for the newcomer rather than the newcomer
/// refused: an attacker who keeps the budget full then only shortens how
/// long a stranger may take, and a real node, which logs in within a few
/// round trips, still gets in. A source over its own limit is refused.
public struct ConnectionAdmission {
    /// What to do with a connection just accepted.
    public enum Decision: Equatable, Sendable {
        /// Keep it; first close `evicting`, the oldest connection that has
        /// not logged in, if there is one.
        case admit(evicting: UInt64?)
        /// Close it at once.
        case refuse(Refusal)
    }

    /// Why a connection was refused.
    public enum Refusal: Equatable, Sendable {
        /// Every slot holds a logged-in node.
        case full
        /// Its source holds its share of the slots for strangers.
        case sourceLimit
    }

    private struct Stranger {
        let source: IPAddress
        let deadline: MonotonicInstant
    }

    /// The limits in force.
    public let limits: ConnectionLimits
    private var strangers: [UInt64: Stranger] = [:]
    /// Strangers' tokens in the order they came; entries that logged in or
    /// closed are skipped when met (deadlines grow along the queue).
    private var arrivals: [UInt64] = []
    private var arrivalsHead = 0
    private var strangersBySource: [IPAddress: Int] = [:]
    private var members: Set<UInt64> = []

    /// Connections refused since the start.
    public private(set) var refusedCount: UInt64 = 0
    /// Connections that had not logged in, closed to make room for newer ones.
    public private(set) var evictedCount: UInt64 = 0
    /// Connections closed because they did not log in in time.
    public private(set) var expiredCount: UInt64 = 0

    /// No connections yet, under `limits`.
    public init(limits: ConnectionLimits = .standard) {
        self.limits = limits
    }

    /// Connections that have not logged in.
    public var unauthenticatedCount: Int { strangers.count }
    /// Connections of logged-in nodes.
    public var authenticatedCount: Int { members.count }
    /// Every connection counted.
    public var count: Int { strangers.count + members.count }
    /// True while new connections can only come in by evicting a stranger
    /// or not at all: the server says so in its log and status.
    public var isFull: Bool {
        count >= limits.maximumConnections || strangers.count >= limits.maximumUnauthenticated
    }

    /// Decides on the connection `token` just accepted from `address`;
    /// after `.admit` it counts as a stranger until `loggedIn`.
    public mutating func admit(token: UInt64, from address: IPAddress, now: MonotonicInstant) -> Decision {
        let source = ConnectionAdmission.source(of: address)
        if strangersBySource[source, default: 0] >= limits.maximumUnauthenticatedPerSource {
            refusedCount += 1
            return .refuse(.sourceLimit)
        }
        var evicted: UInt64? = nil
        if count >= limits.maximumConnections || strangers.count >= limits.maximumUnauthenticated {
            guard let oldest = oldestStranger() else {
                refusedCount += 1
                return .refuse(.full)
            }
            closed(token: oldest)
            evictedCount += 1
            evicted = oldest
        }
        strangers[token] = Stranger(source: source, deadline: now + limits.loginDeadline)
        strangersBySource[source, default: 0] += 1
        arrivals.append(token)
        return .admit(evicting: evicted)
    }

    /// The connection `token` logged in: it leaves the strangers' budget.
    public mutating func loggedIn(token: UInt64) {
        guard removeStranger(token) else { return }
        members.insert(token)
    }

    /// The connection `token` closed, for whatever reason.
    public mutating func closed(token: UInt64) {
        if !removeStranger(token) { members.remove(token) }
    }

    /// The strangers whose login deadline has passed at `now`, oldest
    /// first; each is forgotten here, and the service closes it.
    public mutating func expired(now: MonotonicInstant) -> [UInt64] {
        var due: [UInt64] = []
        while arrivalsHead < arrivals.count {
            let token = arrivals[arrivalsHead]
            if let stranger = strangers[token] {
                guard stranger.deadline <= now else { break }
                _ = removeStranger(token)
                due.append(token)
                expiredCount += 1
            }
            arrivalsHead += 1
        }
        compactArrivals()
        return due
    }

    /// When the next stranger runs out of time, if any waits.
    public mutating func nextDeadline() -> MonotonicInstant? {
        while arrivalsHead < arrivals.count {
            if let stranger = strangers[arrivals[arrivalsHead]] { return stranger.deadline }
            arrivalsHead += 1
        }
        compactArrivals()
        return nil
    }

    /// What counts as one source: an IPv4 address, or the /64 of an IPv6
    /// address (its network address; an IPv4 address mapped into IPv6
    /// counts as the IPv4 one).
    static func source(of address: IPAddress) -> IPAddress {
        guard case .v6(let ipv6) = address else { return address }
        if let ipv4 = ipv6.ipv4Mapped { return .v4(ipv4) }
        return .v6(IPv6Address(high: ipv6.high, low: 0))
    }

    private mutating func oldestStranger() -> UInt64? {
        while arrivalsHead < arrivals.count {
            let token = arrivals[arrivalsHead]
            if strangers[token] != nil { return token }
            arrivalsHead += 1
        }
        return nil
    }

    private mutating func removeStranger(_ token: UInt64) -> Bool {
        guard let stranger = strangers.removeValue(forKey: token) else { return false }
        let left = strangersBySource[stranger.source, default: 1] - 1
        strangersBySource[stranger.source] = left > 0 ? left : nil
        return true
    }

    /// Drops the skipped front of the queue once it is at least half of it,
    /// so the queue costs amortised O(1) per connection.
    private mutating func compactArrivals() {
        if arrivalsHead == arrivals.count {
            arrivals.removeAll(keepingCapacity: true)
            arrivalsHead = 0
        } else if arrivalsHead >= 1024 && arrivalsHead * 2 >= arrivals.count {
            arrivals.removeFirst(arrivalsHead)
            arrivalsHead = 0
        }
    }
}
