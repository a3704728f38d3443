import ControlProtocol
import ControlServer
import Coordinator
import IP
import JSON
import Logging
@testable import Mesh
import ServerTestSupport
import TernCrypto
import Time

/// A coordination server core and mesh engines wired together in memory,
/// with one manual clock: what the shells do with sockets, done with
/// function calls. `run()` carries effects back and forth until all is quiet.
final class MeshNetwork {
    let journal = MemoryJournal()
    let server: ServerCore<SeededRandom>
    let serverKey: PrivateKey
    let secret: String
    var now = MeshTime(monotonic: MonotonicInstant(nanoseconds: 1_000_000_000), wallNanoseconds: 1_767_225_600_000_000_000)
    var serverTime: ServerTime { ServerTime(monotonic: now.monotonic, wall: now.wall) }
    var nodes: [MeshNode] = []
    /// Which node each server connection belongs to.
    var connections: [ConnectionID: MeshNode] = [:]
    var nextConnection: ConnectionID = 1
    var serverLogs: [LogLine] = []
    /// While true, nothing gets through between nodes and server (a
    /// partition): connects hang, bytes vanish.
    var partitioned = false

    init(policy: ServerPolicy = ServerPolicy()) {
        var random = SeededRandom(seed: 99)
        serverKey = random.privateKey()
        server = ServerCore(journal: journal, policy: policy, serverKey: serverKey, random: SeededRandom(seed: 5))
        let user = try! journal.registry.createUser(name: "alice", now: now.wall.seconds)
        var keyRandom = SeededRandom(seed: 6)
        let key = try! journal.registry.createPreAuthKey(user: "alice", reusable: true, expiresAt: nil, tags: [],
                                                         now: now.wall.seconds, random: &keyRandom)
        secret = key.secret
        precondition(server.apply(user.changes) && server.apply(key.changes))
        run()
    }

    /// A new node with fresh keys.
    func node(_ hostname: String, seed: UInt64) -> MeshNode {
        var random = SeededRandom(seed: seed)
        var state = NodeState(machineKey: random.privateKey(), nodeKey: random.privateKey(), hostname: hostname)
        state.controlURL = "http://192.0.2.1:8080"
        state.serverKey = serverKey.publicKey
        let node = MeshNode(network: self, state: state, seed: seed)
        nodes.append(node)
        run()
        return node
    }

    /// Moves the clock on in steps of at most `step`, ticking the engines
    /// and the server at each, as their loops would.
    func advance(_ interval: Interval, step: Interval = .milliseconds(250)) {
        var left = interval
        while left > .zero {
            let move = min(left, step)
            left = left - move
            now = now + move
            for node in nodes { node.nextTick = node.engine.tick(now: now) }
            server.tick(now: serverTime) { _ in false }
            run()
        }
    }

    /// Carries effects until nobody has anything left to do.
    func run() {
        var busy = true
        while busy {
            busy = false
            for effect in server.takeEffects() {
                busy = true
                switch effect {
                case .send(let id, let bytes):
                    if let node = connections[id], !node.isCutOff { node.engine.controlReceived(bytes, now: now) }
                case .finish(let id), .close(let id):
                    if case .finish = effect { server.closed(id, now: serverTime) }
                    if let node = connections.removeValue(forKey: id), node.connection == id {
                        node.connection = nil
                        node.engine.controlClosed(now: now)
                    }
                case .log(let line): serverLogs.append(line)
                }
            }
            for node in nodes {
                let effects = node.engine.takeEffects()
                if !effects.isEmpty { busy = true }
                for effect in effects { node.carryOut(effect) }
            }
        }
    }

    /// Opens a server connection for `node`.
    func connect(_ node: MeshNode) {
        node.connectTimes.append(now.monotonic)
        guard !node.isCutOff else { return }     // the SYN goes nowhere: the engine's connect timeout ends it
        let id = nextConnection
        nextConnection += 1
        guard server.open(id, from: try! IPAddress("192.0.2.10"), now: serverTime) else {
            node.engine.controlFailed("connection refused", now: now)
            return
        }
        connections[id] = node
        node.connection = id
        node.connects += 1
        node.engine.controlConnected(now: now)
    }
}

/// One node: an engine and a record of what it asked its shell to do.
final class MeshNode: MeshObserver {
    unowned let network: MeshNetwork
    var engine: MeshEngine<SeededRandom>!
    var connection: ConnectionID?
    var connects = 0
    /// When the engine asked for a connection, in order.
    var connectTimes: [MonotonicInstant] = []
    /// While true, nothing gets through between this node and the server.
    var cutOff = false
    var isCutOff: Bool { cutOff || network.partitioned }
    var nextTick = MonotonicInstant.origin
    /// The peers as last synced, the filter, the host plan.
    var peers: [NodeView] = []
    var filter: FilterSetting?
    var hostPlan: MeshHostPlan?
    var nodeKey: PrivateKey?
    var stateWrites: [NodeState] = []
    var answers: [MeshRequestID: (status: Int, body: JSONValue)] = [:]
    var logs: [LogLine] = []
    var closes = 0
    private var nextRequest: MeshRequestID = 1

    init(network: MeshNetwork, state: NodeState, seed: UInt64) {
        self.network = network
        engine = MeshEngine(state: state, host: HostFacts(globalAddresses: [try! IPAddress("198.51.100.\(seed % 200 + 1)")],
                                                          listenPort: 41641),
                            observer: self, random: SeededRandom(seed: seed &* 7919), now: network.now)
    }

    /// A local API request; the answer now, or nil when deferred (see `answers`).
    @discardableResult
    func request(_ method: String, _ path: String, _ body: JSONValue = nil) -> (id: MeshRequestID, answer: MeshAnswer) {
        let id = nextRequest
        nextRequest += 1
        let answer = engine.request(MeshRequest(id: id, method: method, path: path, body: body), now: network.now)
        network.run()
        return (id, answer)
    }

    /// `tern up --auth-key` and the clock run until the login's outcome.
    @discardableResult
    func up(authKey: String? = nil, extra: [String: JSONValue] = [:]) -> (status: Int, body: JSONValue)? {
        var object = JSONObject()
        if let authKey { _ = object.insert("authKey", .string(authKey)) }
        for (key, value) in extra { _ = object.insert(key, value) }
        let (id, answer) = request("POST", "/v1/up", .object(object))
        if case .respond(let status, let body) = answer { return (status, body) }
        for _ in 0..<40 where answers[id] == nil { network.advance(.milliseconds(250)) }
        return answers[id]
    }

    var map: NetworkMap? { engine.state.map }
    var name: String? { map?.node.name }
    var peerNames: [String] { peers.compactMap { view in map?.peers.first { $0.nodeKey == view.nodeKey }?.name }.sorted() }

    func carryOut(_ effect: MeshEffect) {
        switch effect {
        case .connectControl: network.connect(self)
        case .writeControl(let bytes):
            if !isCutOff, let connection {
                bytes.withUnsafeBytes { network.server.received($0, on: connection, now: network.serverTime) }
            }
        case .closeControl:
            closes += 1
            if let connection {
                self.connection = nil
                network.connections[connection] = nil
                if !isCutOff { network.server.closed(connection, now: network.serverTime) }
            }
        case .setNodeKey(let key): nodeKey = key
        case .syncPeers(let views): peers = views
        case .removeAllPeers: peers = []
        case .setFilter(let setting, _): filter = setting
        case .configureHost(let plan): hostPlan = plan
        case .removeHostConfiguration: hostPlan = nil
        case .inject: break
        case .writeState(let state): stateWrites.append(state)
        case .respond(let id, let status, let body): answers[id] = (status, body)
        case .log(let line): logs.append(line)
        }
    }

    func peer(_ key: PublicKey) -> PeerObservation? {
        guard let view = peers.first(where: { $0.nodeKey == key }) else { return nil }
        return PeerObservation(endpoint: view.endpoints.first?.description, lastHandshake: nil, receivedBytes: 0, sentBytes: 0,
                               allowedIPs: view.allowedIPs)
    }

    var filterStatus: JSONValue { ["policy": false] }
}
