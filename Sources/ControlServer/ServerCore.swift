import ControlProtocol
import Coordinator
import HTTP
import IP
import JSON
import Logging
import Policy
import TernCrypto
import Time
import WireGuard

/// tern-control's decisions as a sans-I/O core: which connections may stay,
/// the HTTP endpoints, the Noise handshake, logins and session takeover,
/// liveness, and the maps pushed after every change.
///
/// The shell owns the sockets and the clock. It reports what happens
/// (`open`, `received`, `closed`, `tick`) with the time, then carries out
/// `takeEffects()` in order: bytes to queue, connections to finish or
/// close, log lines. Every change is recorded in the journal before any node
/// hears of it; a journal that fails stops the server (`failure`).
public final class ServerCore<Random: RandomSource> {
    /// Where the registry is kept durable (and the registry itself).
    public let journal: any RegistryJournal
    /// The policy in force.
    public internal(set) var policy: ServerPolicy
    /// Who may connect, and which strangers must go.
    public internal(set) var admission: ConnectionAdmission
    /// The rate at which each source may start handshakes.
    public private(set) var handshakeRate = HandshakeRateLimit()
    /// The server's static key and handshake answers.
    public let responder: ControlResponder
    /// Set when the server must stop: the journal could not be written.
    public internal(set) var failure: JournalFailure?

    var random: Random
    var tracker = MapTracker()
    /// Handshake timestamps of machines that logged in (strangers never reach it).
    var replayGuard = ControlReplayGuard()
    var connections: [ConnectionID: ServerConnection] = [:]
    /// The connection of each logged-in node.
    var sessionOfNode: [UInt64: ConnectionID] = [:]
    var effects: [ServerEffect] = []
    /// When the log last said the connection budget is full (nil: it is not).
    private var fullSince: MonotonicInstant?
    private var lastFullReport = MonotonicInstant.origin
    private var nextLivenessCheck = MonotonicInstant.origin
    private var nextExpiryCheck = MonotonicInstant.origin

    /// The most a stranger may send in one frame: exactly a handshake
    /// initiation. Once the channel is up, frames may carry a node message.
    public static var handshakeFrameLimit: Int { Initiation.size }
    /// The largest node message frame.
    public static var messageFrameLimit: Int { 128 * 1024 }
    /// How often silent sessions are looked for: a fraction of a router's
    /// silence limit, so failover is not delayed by the check.
    public static var livenessCheckInterval: Interval { .milliseconds(250) }
    /// How often key expiry is looked for.
    public static var expiryCheckInterval: Interval { .seconds(1) }
    /// How often a full connection budget is reported while it lasts.
    public static var fullReportInterval: Interval { .seconds(10) }

    /// A core over `journal`'s registry with `policy` in force, answering
    /// handshakes for `serverKey`.
    public init(journal: any RegistryJournal, policy: ServerPolicy, serverKey: PrivateKey, random: Random,
                limits: ConnectionLimits = .standard) {
        self.journal = journal
        self.policy = policy
        self.random = random
        admission = ConnectionAdmission(limits: limits)
        responder = ControlResponder(identity: StaticIdentity(privateKey: serverKey))
        _ = journal.registry.setRouteApprover(policy.routeApprover)
        if let compiled = self.policy.recompile(journal.registry) {
            _ = tracker.setVisibility(compiled.visibility, filters: compiled.filters, registry: journal.registry)
        }
    }

    /// The registry (read it; change it through the admin operations and `apply`).
    public var registry: Registry { journal.registry }

    /// Connections open now.
    public var connectionCount: Int { connections.count }

    /// What to do, in order, since the last call.
    public func takeEffects() -> [ServerEffect] {
        defer { effects.removeAll(keepingCapacity: true) }
        return effects
    }

    /// The earliest time `tick` has work to do.
    public var nextDeadline: MonotonicInstant {
        var deadline = min(nextLivenessCheck, nextExpiryCheck)
        if let login = admission.nextDeadline() { deadline = min(deadline, login) }
        return deadline
    }

    // MARK: Connections

    /// A client connected from `source`. False: it may not stay (the shell
    /// closes it at once); a stranger it displaced is closed by an effect.
    public func open(_ id: ConnectionID, from source: IPAddress, now: ServerTime) -> Bool {
        switch admission.admit(token: id, from: source, now: now.monotonic) {
        case .refuse:
            reportFull(now: now.monotonic)
            return false
        case .admit(let evicted):
            if let evicted { forget(evicted, now: now, effect: .close(evicted)) }
        }
        connections[id] = ServerConnection(id: id, source: source, now: now.monotonic,
                                           handshakeFrameLimit: Self.handshakeFrameLimit)
        reportFull(now: now.monotonic)
        return true
    }

    /// The shell closed `id` (the client left, a write failed, or after
    /// `finish`/`close`): a logged-in node goes offline.
    public func closed(_ id: ConnectionID, now: ServerTime) {
        forget(id, now: now, effect: nil)
    }

    /// Whether the shell should read from `id` (not once it is finishing).
    public func wantsInput(_ id: ConnectionID) -> Bool {
        guard let connection = connections[id] else { return false }
        return connection.phase != .closing
    }

    /// Bytes arrived on `id`.
    public func received(_ bytes: UnsafeRawBufferPointer, on id: ConnectionID, now: ServerTime) {
        guard let connection = connections[id] else { return }
        connection.lastHeard = now.monotonic
        let keep: Bool
        switch connection.phase {
        case .http:
            connection.http.append(bytes)
            keep = serveHTTP(connection, now: now)
        case .handshake, .established:
            connection.frames.append(bytes)
            keep = serveFrames(connection, now: now)
        case .closing:
            keep = true
        }
        if !keep { forget(id, now: now, effect: .close(id)) }
    }

    /// Timers: strangers past their login deadline, sessions whose node fell
    /// silent (unless `hasPendingInput` says it spoke while the loop was
    /// busy), key expiry.
    public func tick(now: ServerTime, hasPendingInput: (ConnectionID) -> Bool) {
        for id in admission.expired(now: now.monotonic) { forget(id, now: now, effect: .close(id)) }
        if now.monotonic >= nextLivenessCheck {
            dropSilentSessions(now: now, hasPendingInput: hasPendingInput)
            nextLivenessCheck = now.monotonic + Self.livenessCheckInterval
        }
        if now.monotonic >= nextExpiryCheck {
            expireKeys(now: now)
            nextExpiryCheck = now.monotonic + Self.expiryCheckInterval
        }
    }

    /// Drops a connection from every table; a logged-in node goes offline.
    /// `effect` tells the shell to close it (nil when the shell already did).
    func forget(_ id: ConnectionID, now: ServerTime, effect: ServerEffect?) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        if let effect { effects.append(effect) }
        admission.closed(token: id)
        if fullSince != nil { reportFull(now: now.monotonic) }
        connection.session?.wipe()
        if let nodeID = connection.nodeID, sessionOfNode[nodeID] == id {
            sessionOfNode[nodeID] = nil
            tracker.disconnect(nodeID: nodeID)
            if journal.registry.node(id: nodeID) != nil,
               let changes = try? journal.registry.setOnline(nodeID: nodeID, false, now: now.wall.seconds) {
                apply(changes)
            }
        }
    }

    /// Says in the log when the connection budget fills, every
    /// `fullReportInterval` while it stays full, and when it no longer is.
    private func reportFull(now: MonotonicInstant) {
        let counts = String(admission.count) + " connections, " + String(admission.unauthenticatedCount)
            + " not logged in; " + String(admission.refusedCount) + " refused and " + String(admission.evictedCount)
            + " evicted since start"
        guard admission.isFull else {
            if fullSince != nil {
                log(.info("connection budget no longer full (" + counts + ")"))
                fullSince = nil
            }
            return
        }
        if fullSince == nil {
            fullSince = now
            lastFullReport = now
            log(.warning("connection budget full (" + counts + "): logged-in nodes are still served; "
                         + "new connections evict the oldest that have not logged in"))
        } else if now >= lastFullReport + Self.fullReportInterval {
            lastFullReport = now
            log(.warning("connection budget still full (" + counts + ")"))
        }
    }

    /// Drops sessions whose node fell silent (a router's routes then move
    /// to a standby). Connections that have not logged in have an absolute
    /// deadline instead (`ConnectionAdmission`).
    private func dropSilentSessions(now: ServerTime, hasPendingInput: (ConnectionID) -> Bool) {
        for (id, connection) in connections {
            guard connection.phase == .established, let nodeID = connection.nodeID else { continue }
            let routes = journal.registry.node(id: nodeID)?.advertisedRoutes.count ?? 0
            let limit = Interval(nanoseconds: ControlTiming.silenceLimit(advertisedRouteCount: routes))
            guard now.monotonic >= connection.lastHeard + limit else { continue }
            // Unread input means the node spoke while the loop was busy elsewhere.
            if hasPendingInput(id) {
                connection.lastHeard = now.monotonic
                continue
            }
            if let node = journal.registry.node(id: nodeID), !node.advertisedRoutes.isEmpty {
                log(.warning("subnet router " + node.name + " fell silent; its routes go to a standby if there is one"))
            }
            forget(id, now: now, effect: .close(id))
        }
    }

    private func expireKeys(now: ServerTime) {
        let changes = journal.registry.expireDue(now: now.wall.seconds)
        guard !changes.isEmpty else { return }
        for id in changes.changedNodes {
            if let node = journal.registry.node(id: id), node.isExpired(now: now.wall.seconds) {
                log(.info("node " + node.name + ": key expired"))
            }
        }
        apply(changes)
    }

    func log(_ line: LogLine) { effects.append(.log(line)) }

    // MARK: HTTP and the handshake

    private func serveHTTP(_ connection: ServerConnection, now: ServerTime) -> Bool {
        while connection.phase == .http {
            let request: HTTPRequest?
            do { request = try connection.http.next() } catch {
                send(HTTPResponse(error: error).serialized(), to: connection)
                finish(connection)
                return true
            }
            guard let request else { return true }
            switch (request.method, request.path) {
            case ("GET", "/control/v1/key"):
                respond(connection, status: 200,
                        ["publicKey": .string(responder.identity.publicKey.base64), "protocol": 1], keepAlive: request.keepAlive)
            case ("GET", "/health"):
                respond(connection, status: 200, ["ok": true], keepAlive: request.keepAlive)
            case ("POST", "/control/v1"):
                guard request.upgradeProtocol == "tern-control/1" else {
                    connection.http.declineUpgrade()
                    respond(connection, status: 426, ["error": "this endpoint needs Upgrade: tern-control/1"], keepAlive: false)
                    return true
                }
                send(HTTPResponse(status: 101, headers: ["Connection": "Upgrade", "Upgrade": "tern-control/1"]).serialized(),
                     to: connection)
                connection.phase = .handshake
                connection.frames.append(connection.http.takeRemainingBytes())
                return serveFrames(connection, now: now)
            default:
                if request.upgradeProtocol != nil { connection.http.declineUpgrade() }
                respond(connection, status: 404, ["error": .string("no such endpoint: " + request.path)],
                        keepAlive: request.keepAlive)
            }
        }
        return true
    }

    private func respond(_ connection: ServerConnection, status: Int, _ body: JSONValue, keepAlive: Bool) {
        send(connection.response(status: status, body, keepAlive: keepAlive), to: connection)
        if !keepAlive { finish(connection) }
    }

    /// Handshake, then node messages; false to drop the connection.
    private func serveFrames(_ connection: ServerConnection, now: ServerTime) -> Bool {
        while connection.phase == .handshake || connection.phase == .established {
            let body: [UInt8]?
            do { body = try connection.frames.next() } catch { return false }
            guard let body else { return true }
            if connection.phase == .handshake {
                guard acceptHandshake(body, on: connection, now: now) else { return false }
                continue
            }
            if connection.nodeID == nil {
                connection.messagesBeforeLogin += 1
                // A node logs in with its first message; a stranger that chats is not one.
                if connection.messagesBeforeLogin > admission.limits.maximumMessagesBeforeLogin { return false }
            }
            let message: NodeMessage
            do { message = try connection.session!.openNodeMessage(body) } catch {
                if case .badMessage(let text) = error {
                    refuse(connection, ControlFailure(.badRequest, "malformed message: " + text))
                    return true
                }
                return false
            }
            handle(message, on: connection, now: now)
        }
        return true
    }

    private func acceptHandshake(_ initiation: [UInt8], on connection: ServerConnection, now: ServerTime) -> Bool {
        // Before any Diffie-Hellman work: a source over its handshake rate gets none.
        guard handshakeRate.allow(connection.source, now: now.monotonic) else { return false }
        let acceptance: ControlAcceptance
        do {
            acceptance = try responder.accept(initiation: initiation, replayGuard: replayGuard,
                                              ephemeral: random.privateKey(), index: 0, now: now.monotonic.nanoseconds)
        } catch {
            // Not for this server, replayed, or garbage: no answer.
            return false
        }
        connection.handshakeTimestamp = acceptance.timestamp
        connection.machineKey = acceptance.machineKey
        connection.session = acceptance.session
        connection.phase = .established
        connection.frames.maximumFrameLength = Self.messageFrameLimit
        send(acceptance.response, to: connection)
        return true
    }

    // MARK: Output

    func send(_ bytes: [UInt8], to connection: ServerConnection) {
        effects.append(.send(connection.id, bytes))
    }

    /// Stop reading `connection`; it closes once its output is written.
    func finish(_ connection: ServerConnection) {
        guard connection.phase != .closing else { return }
        connection.phase = .closing
        effects.append(.finish(connection.id))
    }

    /// Seals and sends `message`; a message that cannot go ends the session
    /// (the node reconnects for a full map), and so does a failure.
    func deliver(_ message: ServerMessage, to connection: ServerConnection) {
        let sealed = connection.seal(message)
        if let bytes = sealed.bytes { send(bytes, to: connection) }
        if let length = sealed.tooLarge {
            log(.warning("a message for node " + (connection.nodeID.map { String($0) } ?? "?") + " is " + String(length)
                         + " bytes, more than the " + String(ControlFraming.maxFrameLength) + " a frame carries"))
        }
        if sealed.bytes == nil { finish(connection) }
        if case .failure = message { finish(connection) }
    }
}
