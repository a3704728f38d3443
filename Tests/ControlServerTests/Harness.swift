import ControlProtocol
import ControlServer
import Coordinator
import IP
import Logging
import ServerTestSupport
import TernCrypto
import TestSupport
import WireGuard
import Time

/// A server core with a manual clock, and the clients connected to it.
final class Server {
    let journal = MemoryJournal()
    let core: ServerCore<SeededRandom>
    let serverKey: PrivateKey
    var now = ServerTime(monotonic: MonotonicInstant(nanoseconds: 1_000_000_000), wall: WallClockTime(seconds: 1_767_225_600))
    var clients: [ConnectionID: Client] = [:]
    /// Connections the core closed or finished, in order.
    var closed: [ConnectionID] = []
    var logs: [LogLine] = []
    var nextID: ConnectionID = 1
    var random = SeededRandom(seed: 99)
    /// Connections that have unread input in the shell (the pending-input rule).
    var pendingInput: Set<ConnectionID> = []
    let secret: String

    init(limits: ConnectionLimits = .standard) {
        serverKey = random.privateKey()
        core = ServerCore(journal: journal, policy: ServerPolicy(), serverKey: serverKey, random: SeededRandom(seed: 5),
                          limits: limits)
        let user = try! journal.registry.createUser(name: "alice", now: now.wall.seconds)
        var keyRandom = SeededRandom(seed: 6)
        let key = try! journal.registry.createPreAuthKey(user: "alice", reusable: true, expiresAt: nil, tags: [],
                                                         now: now.wall.seconds, random: &keyRandom)
        secret = key.secret
        precondition(core.apply(user.changes) && core.apply(key.changes))
        run()
    }

    /// Moves the clock and runs the timers.
    func advance(_ interval: Interval) {
        now.monotonic += interval
        now.wall = now.wall.adding(seconds: Int64(interval.nanoseconds / 1_000_000_000))
        core.tick(now: now) { self.pendingInput.contains($0) }
        run()
    }

    /// Carries out the core's effects like the shell does: bytes go to the
    /// client, finished connections close once "written" (at once here).
    func run() {
        while true {
            let effects = core.takeEffects()
            if effects.isEmpty { return }
            for effect in effects {
                switch effect {
                case .send(let id, let bytes): clients[id]?.receive(bytes)
                case .finish(let id):
                    closed.append(id)
                    clients[id]?.isOpen = false
                    core.closed(id, now: now)
                case .close(let id):
                    closed.append(id)
                    clients[id]?.isOpen = false
                case .log(let line): logs.append(line)
                }
            }
        }
    }

    /// A new client connection from `address`.
    func connect(_ client: Client, from address: String = "192.0.2.10") -> Bool {
        let id = nextID
        nextID += 1
        guard core.open(id, from: try! IPAddress(address), now: now) else { run(); return false }
        client.connection = id
        client.isOpen = true
        client.reset()
        clients[id] = client
        run()
        return true
    }

    func send(_ bytes: [UInt8], from client: Client) {
        bytes.withUnsafeBytes { core.received($0, on: client.connection, now: now) }
        run()
    }

    /// The shell saw the client go away.
    func hangUp(_ client: Client) {
        client.isOpen = false
        core.closed(client.connection, now: now)
        run()
    }
}

/// A node's side of the control channel, over the harness.
final class Client {
    let server: Server
    let machine: StaticIdentity
    let nodeKey: PublicKey
    let hostname: String
    var routes: [IPPrefix]
    var connection: ConnectionID = 0
    var isOpen = false
    var handshake: ControlClientHandshake
    var session: ControlSession?
    var messages: [ServerMessage] = []
    var map: NetworkMap?
    private var input: [UInt8] = []
    private var upgraded = false
    private var frames = ControlFrameDecoder()
    private var timestamp: Int64 = 1_767_225_600

    init(_ server: Server, _ hostname: String, seed: UInt64, routes: [IPPrefix] = []) {
        self.server = server
        var random = SeededRandom(seed: seed)
        machine = StaticIdentity(privateKey: random.privateKey())
        nodeKey = random.privateKey().publicKey
        self.hostname = hostname
        self.routes = routes
        handshake = ControlClientHandshake(machine: machine, serverKey: server.serverKey.publicKey)
    }

    func reset() {
        input = []
        upgraded = false
        frames = ControlFrameDecoder()
        session = nil
    }

    /// Connects, upgrades, completes the handshake and logs in; returns the first answer.
    @discardableResult
    func logIn(from address: String = "192.0.2.10", secret: String? = nil) -> ServerMessage? {
        guard server.connect(self, from: address) else { return nil }
        timestamp += 1
        var random = SeededRandom(seed: UInt64(timestamp))
        let first = try! handshake.initiation(ephemeral: random.privateKey(),
                                              timestamp: TAI64N(unixSeconds: timestamp, nanoseconds: 0),
                                              now: server.now.monotonic.nanoseconds)
        let upgrade = "POST /control/v1 HTTP/1.1\r\nHost: control\r\nConnection: Upgrade\r\nUpgrade: tern-control/1\r\n"
            + "Content-Length: 0\r\n\r\n"
        server.send(Array(upgrade.utf8) + first, from: self)
        guard session != nil else { return nil }
        let before = messages.count
        send(.login(LoginRequest(nodeKey: nodeKey, hostname: hostname, credential: .preAuthKey(secret ?? server.secret),
                                 endpoints: [], mapVersion: 0, advertisedRoutes: routes)))
        return messages.count > before ? messages[before] : nil
    }

    func send(_ message: NodeMessage) {
        server.send(try! session!.seal(message), from: self)      // sealed and framed
    }

    /// Bytes from the server: the 101 answer, then frames.
    func receive(_ bytes: [UInt8]) {
        input += bytes
        if !upgraded {
            guard let end = headEnd() else { return }
            let head = String(decoding: input[0..<end], as: UTF8.self)
            precondition(head.hasPrefix("HTTP/1.1 101"), "not upgraded: " + head)
            upgraded = true
            input.removeFirst(end)
        }
        frames.append(input)
        input = []
        while let body = try! frames.next() {
            if session == nil {
                session = try! handshake.finish(response: body)
                continue
            }
            let message = try! session!.openServerMessage(body)
            messages.append(message)
            switch message {
            case .map(let full): map = full
            case .delta(let delta): try! map!.apply(delta)
            default: break
            }
        }
    }

    private func headEnd() -> Int? {
        guard input.count >= 4 else { return nil }
        for i in 0...(input.count - 4) where input[i] == 13 && input[i + 1] == 10 && input[i + 2] == 13 && input[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    /// This node's id in the registry.
    var nodeID: UInt64? { map?.node.id }
}
