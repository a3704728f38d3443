import CTern
import ControlProtocol
import IP
import JSON
import Linux
import LocalAPI
import Logging
import Mesh
import Netlink
import PacketFilter
import State
import TernCrypto
import Time
import WireGuard

/// Where the mesh daemon keeps things, and how it listens.
public struct MeshOptions: Sendable {
    /// The state directory (keys, pinned server key, last map).
    public var stateDirectory = "/var/lib/tern"
    /// The local API socket `tern` talks to.
    public var socketPath = "/run/tern/ternd.sock"
    /// The mesh interface's name.
    public var interface = "tern0"
    /// The directory of its `wg` configuration socket `<interface>.sock`.
    public var wgSocketDirectory = WireGuardInterface.defaultSocketDirectory
    /// The WireGuard UDP port (0: any free port).
    public var port: UInt16 = 41641
    /// Protocol clock speed-up, for tests only.
    public var timeScale: UInt64 = 1

    /// The defaults.
    public init() {}
}

/// `ternd` in mesh mode: the Linux shell around a `MeshEngine`. It owns
/// the WireGuard interface, the control connection's socket, the local
/// API socket, netlink and the state file; the engine decides, and the
/// daemon carries out its effects after every event.
public final class MeshDaemon: MeshObserver {
    let options: MeshOptions
    let wg: WireGuardInterface
    let host: HostNetwork
    var api: LocalAPIServer!
    let link: ControlLink
    let lock: DirectoryLock
    var engine: MeshEngine<SystemRandom>!
    var statePath: String { options.stateDirectory + "/node.state" }
    /// What the mesh may send in (the policy's rules for this node), checked
    /// after decryption, before the TUN device.
    var filter = PacketFilter(policy: .allowAll, localPrefixes: [], hashSeed: UInt64(Random.uint32()) << 32 | UInt64(Random.uint32()))
    /// Local API requests the engine answers later, by the id it knows them by.
    var deferred: [MeshRequestID: LocalAPIServer.PendingRequest] = [:]
    var nextRequestID: MeshRequestID = 1
    /// When the host's addresses are read again (besides before each control read).
    var nextHostCheck: UInt64 = 0

    /// How often the host's addresses are read while nothing else happens.
    static let hostCheckInterval: UInt64 = 10_000_000_000

    enum Token {
        static let api = WireGuardInterface.firstExtensionToken
        static let apiEnd = WireGuardInterface.firstExtensionToken + 1024
        static let control = WireGuardInterface.firstExtensionToken + 2048
    }

    /// Opens the state directory (creating keys on first start), creates
    /// the interface and the local API socket, and starts the engine,
    /// which brings the cached map up.
    public init(options: MeshOptions) throws(MeshError) {
        self.options = options
        Log.program = "ternd"
        if mkdir(options.stateDirectory, 0o700) != 0 && tern_errno() != EEXIST {
            throw MeshError("cannot create state directory " + options.stateDirectory + ": "
                            + SystemError.current("mkdir").description)
        }
        do { lock = try DirectoryLock(directory: options.stateDirectory) } catch {
            throw MeshError("state directory " + options.stateDirectory + " is in use: " + error.description)
        }
        let state = try MeshDaemon.loadState(options.stateDirectory + "/node.state")
        do { wg = try WireGuardInterface(name: options.interface, socketDirectory: options.wgSocketDirectory,
                                                  timeScale: options.timeScale) } catch {
            throw MeshError("cannot create interface " + options.interface + ": " + error.description)
        }
        do { host = try HostNetwork(log: { Log.info($0) }) } catch {
            wg.shutdown()
            throw MeshError("cannot open netlink: " + error.description)
        }
        link = ControlLink(loop: wg.loop, token: Token.control)
        do {
            api = try LocalAPIServer(path: options.socketPath, loop: wg.loop, tokens: Token.api..<Token.apiEnd)
        } catch {
            wg.shutdown()
            throw MeshError("cannot listen on " + options.socketPath + ": " + error.description)
        }
        do { try wg.setListenPort(options.port) } catch {
            Log.info("UDP port " + String(options.port) + " is taken; using a free port")
            try? wg.setListenPort(0)
        }
        // New keys are kept before anything uses them.
        try MeshDaemon.writeState(state, to: statePath)
        // Cycles (daemon -> interface -> closure -> daemon) the daemon breaks in `shutdown`.
        // The clock is the interface's, read once per batch, not once per packet.
        wg.datapath.inboundFilter = { packet, now in
            if self.engine.awaitsProbeReplies, let reply = EchoProbe.reply(packet, to: self.engine.meshAddresses),
               self.engine.probeReplied(from: reply.from, sequence: reply.sequence, now: MeshDaemon.now()) {
                return true
            }
            return !self.filter.inbound(packet, now: now).allowed
        }
        wg.datapath.outboundObserver = { packet, now in self.filter.outbound(packet, now: now) }
        engine = MeshEngine(state: state, host: hostFacts(), observer: self, random: SystemRandom(), now: MeshDaemon.now())
        perform()
    }

    /// Runs until SIGTERM/SIGINT; then removes what it configured.
    public func run() throws(MeshError) {
        defer { shutdown() }
        while true {
            let next = turn()
            let keepGoing: Bool
            do {
                keepGoing = try wg.runOnce(until: next) { event in self.handle(event) }
            } catch {
                throw MeshError(error.description)
            }
            if !keepGoing { return }
        }
    }

    /// The engine's housekeeping, a lookup under way, the host's addresses
    /// now and then. Returns when it next needs to run.
    func turn() -> UInt64 {
        let now = MeshDaemon.now()
        if now.monotonic.nanoseconds >= nextHostCheck {
            nextHostCheck = now.monotonic.nanoseconds + MeshDaemon.hostCheckInterval
            engine.hostChanged(hostFacts(), now: now)
        }
        if let event = link.poll() { deliver(event) }
        var next = engine.tick(now: now).nanoseconds
        perform()
        if link.isLookingUp { next = min(next, now.monotonic.nanoseconds + ControlLink.lookupPollInterval) }
        return next
    }

    func handle(_ event: ReadyEvent) {
        if event.token == Token.control {
            for linkEvent in link.handle(event) { deliver(linkEvent) }
        } else if api.owns(event.token) {
            api.handle(event) { request in self.answer(request) }
        }
        perform()
    }

    /// Hands what happened on the control socket to the engine.
    func deliver(_ event: ControlLink.Event) {
        let now = MeshDaemon.now()
        switch event {
        case .connected: engine.controlConnected(now: now)
        case .received(let bytes):
            // A map's subnet routes are judged against the LANs the host is on now.
            engine.hostChanged(hostFacts(), now: now)
            engine.controlReceived(bytes, now: now)
        case .closed: engine.controlClosed(now: now)
        case .failed(let reason): engine.controlFailed(reason, now: now)
        }
    }

    func answer(_ request: LocalAPIRequest) -> LocalAPIAnswer {
        let id = nextRequestID
        nextRequestID += 1
        let now = MeshDaemon.now()
        engine.hostChanged(hostFacts(), now: now)
        switch engine.request(MeshRequest(id: id, method: request.method, path: request.path, body: request.body), now: now) {
        case .respond(let status, let body): return .respond(status: status, body: body)
        case .deferred:
            deferred[id] = request.id
            return .deferred
        }
    }

    // MARK: Effects

    /// Carries out what the engine asked for, including what doing so
    /// leads it to ask next.
    func perform() {
        while true {
            let effects = engine.takeEffects()
            if effects.isEmpty { return }
            for effect in effects { carryOut(effect) }
        }
    }

    private func carryOut(_ effect: MeshEffect) {
        switch effect {
        case .connectControl(let url):
            if let event = link.open(url) { deliver(event) }
        case .writeControl(let bytes):
            if let event = link.write(bytes) { deliver(event) }
        case .closeControl:
            link.close()
        case .setNodeKey(let key):
            wg.device.setPrivateKey(key)
        case .syncPeers(let views):
            PeerSync.apply(views, to: wg.device, now: wg.clock.now())
        case .removeAllPeers:
            wg.device.removeAllPeers()
        case .setFilter(let setting, let local):
            switch setting {
            case .allowAll: filter.update(policy: .allowAll, localPrefixes: local)
            case .rules(let rules): filter.update(policy: .rules(rules), localPrefixes: local)
            }
        case .configureHost(let plan):
            configureHost(plan)
        case .removeHostConfiguration:
            try? host.remove()
        case .inject(let packet):
            wg.inject(packet)
        case .writeState(let state):
            do { try MeshDaemon.writeState(state, to: statePath) } catch { Log.error(error.description) }
        case .respond(let id, let status, let body):
            if let pending = deferred.removeValue(forKey: id) { _ = api.respond(to: pending, status: status, body: body) }
        case .log(let line):
            Log.write(line)
        }
    }

    private func configureHost(_ plan: MeshHostPlan) {
        var addresses: [InterfaceAddress] = []
        for prefix in plan.addresses {
            if let address = try? InterfaceAddress(prefix.address, prefixLength: prefix.length) { addresses.append(address) }
        }
        let network = NetworkPlan(interface: wg.name, addresses: addresses, routes: plan.routes,
                                  subnetRoutes: plan.subnetRoutes, masquerade: plan.masquerade)
        guard host.applied != network else { return }
        do { try host.apply(network) } catch { Log.error("cannot configure " + wg.name + ": " + error.description) }
    }

    // MARK: What the engine reads

    func hostFacts() -> HostFacts {
        HostFacts(globalAddresses: host.globalAddresses(excludingInterface: wg.name),
                  localNetworks: host.localNetworks(excludingInterface: wg.name), listenPort: wg.listenPort)
    }

    public func peer(_ key: PublicKey) -> PeerObservation? {
        guard let peer = wg.device.peer(for: key) else { return nil }
        let wallOffset = wg.clock.wallClock(at: 0)
        return PeerObservation(endpoint: peer.endpoint?.description,
                               lastHandshake: peer.lastHandshake.map { Int64((wallOffset &+ $0) / 1_000_000_000) },
                               receivedBytes: peer.receivedBytes, sentBytes: peer.sentBytes,
                               allowedIPs: wg.device.allowedIPs(of: peer.id))
    }

    /// The packet filter: whether a policy applies, its rule count, and packets accepted and dropped (by reason).
    public var filterStatus: JSONValue {
        var drops = JSONObject()
        for reason in [FilterReason.empty, .malformed, .fragment, .notLocal, .noRule, .icmpUnrelated] {
            let count = filter.counters.packets(reason)
            if count > 0 { _ = drops.insert(reason.description, .number(JSONNumber(count))) }
        }
        return ["policy": .bool(!filter.isAllowAll), "rules": .number(JSONNumber(filter.ruleCount)),
                "accepted": .number(JSONNumber(filter.counters.acceptedPackets)),
                "dropped": .number(JSONNumber(filter.counters.droppedPackets)), "drops": .object(drops)]
    }

    /// Both clocks, read once.
    static func now() -> MeshTime {
        MeshTime(monotonic: MonotonicInstant(nanoseconds: Clock.monotonicNanoseconds()), wallNanoseconds: Clock.wallClockNanoseconds())
    }

    // MARK: State file

    static func loadState(_ path: String) throws(MeshError) -> NodeState {
        let stored: StoredFile?
        do { stored = try AtomicFile.readIfPresent(path, kind: MeshDaemon.stateKind, supportedVersion: NodeState.formatVersion) } catch {
            throw MeshError("cannot read " + path + ": " + error.description)
        }
        guard let stored else {
            return NodeState(machineKey: PrivateKey.generate(), nodeKey: PrivateKey.generate(), hostname: systemHostname())
        }
        let document: JSONValue
        do { document = try JSONParser.parse(stored.payload) } catch {
            throw MeshError(path + " is damaged (" + error.description + "); move it away to start over")
        }
        do { return try NodeState(json: document) } catch {
            throw MeshError(path + " is damaged (" + error.description + "); move it away to start over")
        }
    }

    static let stateKind = FileKind("NODE")

    static func writeState(_ state: NodeState, to path: String) throws(MeshError) {
        do {
            try AtomicFile.write(JSONSerializer.bytes(state.json), to: path, kind: MeshDaemon.stateKind, version: NodeState.formatVersion)
        } catch {
            throw MeshError("cannot write " + path + ": " + error.description)
        }
    }

    func shutdown() {
        wg.datapath.inboundFilter = nil
        wg.datapath.outboundObserver = nil
        engine.shutdown(now: MeshDaemon.now())
        perform()
        link.close()
        api.shutdown()
        do { try host.remove() } catch { Log.warning("cleaning up: " + error.description) }
        wg.shutdown()
        lock.unlock()
    }

    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, 255) == 0 else { return "node" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)
    }
}

/// Why the mesh daemon cannot start or go on.
public struct MeshError: Error, CustomStringConvertible {
    /// What happened, for a person.
    public let description: String
    init(_ description: String) { self.description = description }
}
