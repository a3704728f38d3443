import CTern
import ControlProtocol
import Coordinator
import CoordinatorStore
import HTTP
import IP
import JSON
import Linux
import LocalAPI
import State
import TernCrypto
import Policy
import Time
import WireGuard

/// `tern-control serve`: one thread, one epoll loop. Nodes connect over
/// TCP (HTTP, upgraded to the Noise-secured control channel); admins talk
/// to the local API on a Unix socket. Every change is journaled before it
/// is acknowledged, then pushed to the affected nodes as map deltas.
final class ControlService {
    let store: RegistryStore
    var tracker = MapTracker()
    var policy: PolicyState
    let stateDirectory: String
    let responder: ControlResponder
    /// Handshake timestamps of machines that logged in (strangers never
    /// reach it), and the rate at which each source may start handshakes.
    var replayGuard = ControlReplayGuard()
    var handshakeRate = HandshakeRateLimit()
    let loop: EventLoop
    let listener: TCPListener
    var admin: LocalAPIServer!
    let signals: SignalSource
    var connections: [UInt64: NodeConnection] = [:]
    /// Who may connect, and which strangers must go (see `ConnectionAdmission`).
    var admission: ConnectionAdmission
    /// When the log last said the connection budget is full (0: it is not).
    var fullSince: UInt64 = 0
    var lastFullReport: UInt64 = 0
    /// True while the listener is not watched after an accept error.
    var acceptPaused = false
    /// The connection of each logged-in node.
    var sessionOfNode: [UInt64: UInt64] = [:]
    var nextToken = Token.firstConnection
    var running = true
    /// Set when the server must stop because of a failure (the state cannot
    /// be written): `run` then throws it, so the process exits non-zero and
    /// `Restart=on-failure` brings it back.
    var fatal: ServiceError?
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
    let startedAt: Int64

    enum Token {
        static let listener: UInt64 = 1
        static let signals: UInt64 = 2
        static let admin: UInt64 = 1 << 40
        static let adminEnd: UInt64 = (1 << 40) + 1024
        static let firstConnection: UInt64 = 1000
    }

    /// How often silent sessions are looked for: a fraction of a router's
    /// silence limit, so failover is not delayed by the check.
    static let livenessCheckInterval: UInt64 = 250_000_000
    /// The most a stranger may send in one frame: exactly a handshake
    /// initiation. Once the channel is up, frames may carry a node message.
    static let handshakeFrameLimit = Initiation.size
    static let messageFrameLimit = 128 * 1024
    /// What one connection may be read in one turn of the loop, so one busy
    /// client cannot keep the one thread from the others.
    static let readBudget = 64 * 1024
    /// A client whose answers pile up unread past this is not read from
    /// until it catches up.
    static let outputBacklogLimit = 256 * 1024
    /// What may wait unsent on one connection: the largest frame (a full
    /// map of a big mesh), its header, and 1 MiB of deltas behind it. The
    /// queue grows only while bytes wait, so idle connections cost nothing.
    static let outputCapacity = ControlFraming.headerLength + ControlFraming.maxFrameLength + 1024 * 1024
    /// Connections taken from the listener per turn of the loop.
    static let acceptBudget = 64
    /// How often a full connection budget is reported while it lasts.
    static let fullReportInterval: UInt64 = 10_000_000_000

    init(store: RegistryStore, stateDirectory: String, serverKey: PrivateKey, listen: Endpoint,
         adminSocket: String, limits: ConnectionLimits = .standard) throws(ServiceError) {
        self.store = store
        admission = ConnectionAdmission(limits: limits)
        self.stateDirectory = stateDirectory
        policy = try PolicyState(directory: stateDirectory)
        _ = store.registry.setRouteApprover(policy.routeApprover)
        if let compiled = policy.recompile(store.registry) {
            _ = tracker.setVisibility(compiled.visibility, filters: compiled.filters, registry: store.registry)
        }
        responder = ControlResponder(identity: StaticIdentity(privateKey: serverKey))
        startedAt = Clock.wallClock().seconds
        do {
            loop = try EventLoop(capacity: 256)
            signals = try SignalSource()
            listener = try TCPListener(endpoint: listen, backlog: 4096)
            try loop.register(listener.fileDescriptor, token: Token.listener, interest: .readable)
            try loop.register(signals.fileDescriptor, token: Token.signals, interest: .readable)
        } catch {
            throw ServiceError("cannot listen on " + listen.description + ": " + error.description)
        }
        do { admin = try LocalAPIServer(path: adminSocket, loop: loop, tokens: Token.admin..<Token.adminEnd) } catch {
            listener.close()
            throw ServiceError("cannot listen on " + adminSocket + ": " + error.description)
        }
    }

    deinit { scratch.deallocate() }

    /// Serves until SIGTERM/SIGINT.
    func run() throws(ServiceError) {
        var nextHousekeeping: UInt64 = 0
        var nextLivenessCheck: UInt64 = 0
        while running {
            let now = Clock.monotonicNanoseconds()
            if now >= nextLivenessCheck {
                dropSilentConnections(now: now)
                nextLivenessCheck = now + ControlService.livenessCheckInterval
            }
            if now >= nextHousekeeping {
                housekeeping(now: now)
                nextHousekeeping = now + 1_000_000_000
            }
            for token in admission.expired(now: MonotonicInstant(nanoseconds: now)) { drop(token) }
            var wakeUp = min(nextHousekeeping, nextLivenessCheck)
            if let deadline = admission.nextDeadline() { wakeUp = min(wakeUp, deadline.nanoseconds) }
            do { _ = try loop.wait(until: wakeUp) } catch { throw ServiceError(error.description) }
            let eventNow = Clock.monotonicNanoseconds()
            for event in loop.readyEvents {
                switch event.token {
                case Token.listener: acceptAll(now: eventNow)
                case Token.signals: handleSignals()
                case Token.admin..<Token.adminEnd:
                    admin.handle(event) { request in self.answerAdmin(request) }
                default: serve(event, now: eventNow)
                }
            }
        }
        for token in Array(connections.keys) { drop(token) }
        admin.shutdown()
        listener.close()
        do { try store.close() } catch { ControlService.log("closing the state: " + error.description) }
        if let fatal { throw fatal }
    }

    // MARK: Connections

    /// Takes what waits on the listener, a bounded number per turn. Every
    /// connection is accepted, so the queue drains and the loop never spins
    /// on a listener it cannot serve; one that may not stay is closed at once.
    private func acceptAll(now: UInt64) {
        for _ in 0..<ControlService.acceptBudget {
            let accepted: TCPConnection?
            do {
                accepted = try listener.accept(outputCapacity: ControlService.outputCapacity,
                                               keepalive: TCPKeepalive(idleSeconds: 30, intervalSeconds: 10, probeCount: 3))
            } catch {
                // EMFILE and the like: the listener stays readable, so stop
                // watching it until the next housekeeping (a second) rather
                // than spin on it.
                ControlService.log("accept: " + error.description + "; pausing new connections for a second")
                try? loop.modify(listener.fileDescriptor, token: Token.listener, interest: [])
                acceptPaused = true
                return
            }
            guard let tcp = accepted else { return }
            let token = nextToken
            nextToken += 1
            switch admission.admit(token: token, from: tcp.peer.address, now: MonotonicInstant(nanoseconds: now)) {
            case .refuse:
                tcp.close()
                reportFull(now: now)
                continue
            case .admit(let evicted):
                if let evicted { drop(evicted) }
            }
            do { try loop.register(tcp.fileDescriptor, token: token, interest: .readable) } catch {
                admission.closed(token: token)
                tcp.close()
                continue
            }
            connections[token] = NodeConnection(tcp: tcp, token: token, now: now,
                                                handshakeFrameLimit: ControlService.handshakeFrameLimit)
            reportFull(now: now)
        }
    }

    /// Says in the log when the connection budget fills, every
    /// `fullReportInterval` while it stays full, and when it no longer is.
    private func reportFull(now: UInt64) {
        let counts = String(admission.count) + " connections, " + String(admission.unauthenticatedCount)
            + " not logged in; " + String(admission.refusedCount) + " refused and " + String(admission.evictedCount)
            + " evicted since start"
        guard admission.isFull else {
            if fullSince != 0 {
                ControlService.log("connection budget no longer full (" + counts + ")")
                fullSince = 0
            }
            return
        }
        if fullSince == 0 {
            fullSince = now
            lastFullReport = now
            ControlService.log("connection budget full (" + counts + "): logged-in nodes are still served; "
                               + "new connections evict the oldest that have not logged in")
        } else if now >= lastFullReport + ControlService.fullReportInterval {
            lastFullReport = now
            ControlService.log("connection budget still full (" + counts + ")")
        }
    }

    private func serve(_ event: ReadyEvent, now: UInt64) {
        guard let connection = connections[event.token] else { return }
        if event.isWritable {
            do { _ = try connection.tcp.flush() } catch { drop(event.token); return }
        }
        // One read of at most `readBudget` per turn: what is left waits for
        // the next turn (the descriptor stays readable), after the others.
        if (event.isReadable || event.isError) && connection.phase != .closing && !connection.isBackedUp {
            let count: Int?
            do {
                count = try connection.tcp.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<ControlService.readBudget]))
            } catch { drop(event.token); return }
            if count == 0 { drop(event.token); return }
            if let count {
                connection.lastHeard = now
                let bytes = UnsafeRawBufferPointer(rebasing: scratch[0..<count])
                if !consume(bytes, on: connection, now: now) { drop(event.token); return }
            }
        }
        if connection.phase == .closing && !connection.tcp.hasPendingOutput {
            drop(event.token)
            return
        }
        try? loop.modify(connection.tcp.fileDescriptor, token: event.token, interest: connection.interest)
    }

    /// Feeds bytes into the connection's current phase; false to drop it.
    private func consume(_ bytes: UnsafeRawBufferPointer, on connection: NodeConnection, now: UInt64) -> Bool {
        switch connection.phase {
        case .http:
            connection.http.append(bytes)
            return serveHTTP(connection, now: now)
        case .handshake, .established:
            connection.frames.append(bytes)
            return serveFrames(connection, now: now)
        case .closing:
            return true
        }
    }

    private func serveHTTP(_ connection: NodeConnection, now: UInt64) -> Bool {
        while connection.phase == .http {
            let request: HTTPRequest?
            do { request = try connection.http.next() } catch {
                let response = HTTPResponse(error: error)
                _ = connection.send(response.serialized())
                connection.phase = .closing
                return true
            }
            guard let request else { return true }
            switch (request.method, request.path) {
            case ("GET", "/control/v1/key"):
                connection.respond(status: 200, ["publicKey": .string(responder.identity.publicKey.base64), "protocol": 1],
                                   keepAlive: request.keepAlive)
            case ("GET", "/health"):
                connection.respond(status: 200, ["ok": true], keepAlive: request.keepAlive)
            case ("POST", "/control/v1"):
                guard request.upgradeProtocol == "tern-control/1" else {
                    connection.http.declineUpgrade()
                    connection.respond(status: 426, ["error": "this endpoint needs Upgrade: tern-control/1"], keepAlive: false)
                    return true
                }
                _ = connection.send(HTTPResponse(status: 101, headers: ["Connection": "Upgrade", "Upgrade": "tern-control/1"]).serialized())
                connection.phase = .handshake
                connection.frames.append(connection.http.takeRemainingBytes())
                return serveFrames(connection, now: now)
            default:
                if request.upgradeProtocol != nil { connection.http.declineUpgrade() }
                connection.respond(status: 404, ["error": .string("no such endpoint: " + request.path)], keepAlive: request.keepAlive)
            }
        }
        return true
    }

    private func serveFrames(_ connection: NodeConnection, now: UInt64) -> Bool {
        while connection.phase == .handshake || connection.phase == .established {
            let body: [UInt8]?
            do { body = try connection.frames.next() } catch { return false }
            guard let body else { return true }
            if connection.phase == .handshake {
                // Before any Diffie-Hellman work: a source over its handshake rate gets none.
                guard handshakeRate.allow(connection.tcp.peer.address, now: MonotonicInstant(nanoseconds: now)) else {
                    return false
                }
                let acceptance: ControlAcceptance
                do {
                    acceptance = try responder.accept(initiation: body, replayGuard: replayGuard,
                                                      ephemeral: PrivateKey.generate(), index: 0, now: now)
                } catch {
                    // Not for this server, replayed, or garbage: no answer.
                    return false
                }
                connection.handshakeTimestamp = acceptance.timestamp
                connection.machineKey = acceptance.machineKey
                connection.session = acceptance.session
                connection.phase = .established
                connection.frames.maximumFrameLength = ControlService.messageFrameLimit
                _ = connection.send(acceptance.response)
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
                    _ = connection.send(.failure(ControlFailure(.badRequest, "malformed message: " + text)))
                    connection.phase = .closing
                    return true
                }
                return false
            }
            handle(message, on: connection, now: now)
        }
        return true
    }

    /// Closes and forgets a connection; a logged-in node goes offline.
    func drop(_ token: UInt64) {
        guard let connection = connections.removeValue(forKey: token) else { return }
        admission.closed(token: token)
        if fullSince != 0 { reportFull(now: Clock.monotonicNanoseconds()) }
        try? loop.unregister(connection.tcp.fileDescriptor)
        connection.tcp.close()
        connection.session?.wipe()
        if let nodeID = connection.nodeID, sessionOfNode[nodeID] == token {
            sessionOfNode[nodeID] = nil
            tracker.disconnect(nodeID: nodeID)
            if store.registry.node(id: nodeID) != nil,
               let changes = try? store.registry.setOnline(nodeID: nodeID, false, now: Clock.wallClock().seconds) {
                commitAndPush(changes)
            }
        }
    }

    // MARK: Housekeeping

    /// Drops sessions whose node fell silent (a router's routes then move
    /// to a standby). Connections that have not logged in have an absolute
    /// deadline instead (`ConnectionAdmission`).
    private func dropSilentConnections(now: UInt64) {
        for (token, connection) in connections {
            guard connection.phase == .established, let nodeID = connection.nodeID else { continue }
            let routes = store.registry.node(id: nodeID)?.advertisedRoutes.count ?? 0
            let limit = ControlTiming.silenceLimit(advertisedRouteCount: routes)
            if now >= connection.lastHeard + limit {
                // Unread input means the node spoke while the loop was busy elsewhere.
                if connection.tcp.hasPendingInput {
                    connection.lastHeard = now
                    continue
                }
                if let node = store.registry.node(id: nodeID), !node.advertisedRoutes.isEmpty {
                    ControlService.log("subnet router " + node.name + " fell silent; its routes go to a standby if there is one")
                }
                drop(token)
            }
        }
    }

    private func housekeeping(now: UInt64) {
        if acceptPaused, (try? loop.modify(listener.fileDescriptor, token: Token.listener, interest: .readable)) != nil {
            acceptPaused = false
        }
        let changes = store.registry.expireDue(now: Clock.wallClock().seconds)
        if !changes.isEmpty {
            for id in changes.changedNodes {
                if let node = store.registry.node(id: id), node.isExpired(now: Clock.wallClock().seconds) {
                    ControlService.log("node " + node.name + ": key expired")
                }
            }
            commitAndPush(changes)
        }
    }

    private func handleSignals() {
        while let signal = try? signals.next() {
            if signal == SIGTERM || signal == SIGINT {
                ControlService.log("signal " + String(signal) + ": stopping")
                running = false
            }
        }
    }

    static func log(_ line: String) {
        var text = "tern-control: " + line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// Why the service cannot run.
struct ServiceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
