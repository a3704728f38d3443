import CTern
import ControlProtocol
import Coordinator
import HTTP
import IP
import JSON
import Linux
import LocalAPI
import State
import TernCrypto
import Policy
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
    var replayGuard = ControlReplayGuard()
    let loop: EventLoop
    let listener: TCPListener
    var admin: LocalAPIServer!
    let signals: SignalSource
    var connections: [UInt64: NodeConnection] = [:]
    /// The connection of each logged-in node.
    var sessionOfNode: [UInt64: UInt64] = [:]
    var nextToken = Token.firstConnection
    var running = true
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
    let startedAt: Int64

    enum Token {
        static let listener: UInt64 = 1
        static let signals: UInt64 = 2
        static let admin: UInt64 = 1 << 40
        static let adminEnd: UInt64 = (1 << 40) + 1024
        static let firstConnection: UInt64 = 1000
    }

    /// A handshake must finish this quickly; sessions must hear from their
    /// node as often as `ControlTiming` says.
    static let handshakeTimeout: UInt64 = 10_000_000_000
    static let maximumConnections = 8192
    /// How often silent connections are looked for: a fraction of a
    /// router's silence limit, so failover is not delayed by the check.
    static let livenessCheckInterval: UInt64 = 250_000_000

    init(store: RegistryStore, stateDirectory: String, serverKey: PrivateKey, listen: Endpoint,
         adminSocket: String) throws(ServiceError) {
        self.store = store
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
            do { _ = try loop.wait(until: min(nextHousekeeping, nextLivenessCheck)) } catch { throw ServiceError(error.description) }
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
    }

    // MARK: Connections

    private func acceptAll(now: UInt64) {
        while connections.count < ControlService.maximumConnections {
            let accepted: TCPConnection?
            do { accepted = try listener.accept(keepalive: TCPKeepalive(idleSeconds: 30, intervalSeconds: 10, probeCount: 3)) } catch {
                ControlService.log("accept: " + error.description)
                return
            }
            guard let tcp = accepted else { return }
            let token = nextToken
            nextToken += 1
            do { try loop.register(tcp.fileDescriptor, token: token, interest: .readable) } catch {
                tcp.close()
                continue
            }
            connections[token] = NodeConnection(tcp: tcp, token: token, now: now)
        }
    }

    private func serve(_ event: ReadyEvent, now: UInt64) {
        guard let connection = connections[event.token] else { return }
        if event.isWritable {
            do { _ = try connection.tcp.flush() } catch { drop(event.token); return }
        }
        if event.isReadable || event.isError {
            while connection.phase != .closing {
                let count: Int?
                do { count = try connection.tcp.read(into: scratch) } catch { drop(event.token); return }
                guard let count else { break }
                if count == 0 { drop(event.token); return }
                connection.lastHeard = now
                let bytes = UnsafeRawBufferPointer(rebasing: scratch[0..<count])
                if !consume(bytes, on: connection, now: now) { drop(event.token); return }
            }
        }
        if connection.phase == .closing && !connection.tcp.hasPendingOutput {
            drop(event.token)
            return
        }
        try? loop.modify(connection.tcp.fileDescriptor, token: event.token, interest: connection.tcp.interest)
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
                let acceptance: ControlAcceptance
                do {
                    acceptance = try responder.accept(initiation: body, replayGuard: &replayGuard,
                                                      ephemeral: PrivateKey.generate(), index: 0, now: now)
                } catch {
                    // Not for this server, replayed, or garbage: no answer.
                    return false
                }
                connection.machineKey = acceptance.machineKey
                connection.session = acceptance.session
                connection.phase = .established
                _ = connection.send(acceptance.response)
                continue
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

    /// Drops connections whose handshake takes too long and sessions whose
    /// node fell silent (a router's routes then move to a standby).
    private func dropSilentConnections(now: UInt64) {
        for (token, connection) in connections {
            var limit = ControlService.handshakeTimeout
            if connection.phase == .established, let nodeID = connection.nodeID {
                let routes = store.registry.node(id: nodeID)?.advertisedRoutes.count ?? 0
                limit = ControlTiming.silenceLimit(advertisedRouteCount: routes)
            }
            if now >= connection.lastHeard + limit {
                // Unread input means the node spoke while the loop was busy elsewhere.
                if connection.tcp.hasPendingInput {
                    connection.lastHeard = now
                    continue
                }
                if let nodeID = connection.nodeID, let node = store.registry.node(id: nodeID), !node.advertisedRoutes.isEmpty {
                    ControlService.log("subnet router " + node.name + " fell silent; its routes go to a standby if there is one")
                }
                drop(token)
            }
        }
    }

    private func housekeeping(now: UInt64) {
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
