import CTern
import ControlProtocol
import IP
import JSON
import Linux
import LocalAPI
import Mesh
import Netlink
import PacketFilter
import State
import TernCrypto
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

/// `ternd` in mesh mode: a WireGuard interface whose peers, addresses and
/// routes come from the coordination server's network map, applied live;
/// the last map and the keys persist in the state directory, so the mesh
/// comes back after a restart even while the server is down. `tern` drives
/// it through the local API.
public final class MeshDaemon {
    let options: MeshOptions
    let wg: WireGuardInterface
    let host: HostNetwork
    var api: LocalAPIServer!
    let link: ControlLink
    let lock: DirectoryLock
    var state: NodeState
    var statePath: String { options.stateDirectory + "/node.state" }

    /// Why the last control attempt failed (for `tern status`), if it did.
    var controlError: String?
    /// Why the last map was refused (`MapCheck`), while it is.
    var mapProblem: String?
    /// The server key this run took on first contact (not given with
    /// `--control-key`): `tern up` and `tern status` say so while it is pinned.
    var keyTakenOnFirstContact: PublicKey?
    /// A refusal from the server that needs a person (revoked key, expired node key).
    var loginFailure: ControlFailure?
    /// A `tern up` waiting for its login's outcome.
    var pendingUp: (id: LocalAPIServer.PendingRequest, deadline: UInt64)?
    /// A `tern logout` waiting for the server's confirmation.
    var pendingLogout: (id: LocalAPIServer.PendingRequest, deadline: UInt64)?
    /// The pre-auth key of the login in progress (never stored).
    var pendingAuthKey: String?
    /// `tern ping`s in flight.
    var probes: [Probe] = []
    var nextProbeSequence: UInt16 = 1
    /// What the mesh may send in (the policy's rules for this node), checked
    /// after decryption, before the TUN device.
    var filter = PacketFilter(policy: .allowAll, localPrefixes: [], hashSeed: UInt64(Random.uint32()) << 32 | UInt64(Random.uint32()))
    /// Subnet routes in the map this node does not use, and why.
    var skippedRoutes: [SkippedRoute] = []
    /// The endpoints last reported to the server.
    var reportedEndpoints: [Endpoint] = []
    var nextEndpointCheck: UInt64 = 0
    /// The state file needs writing (debounced to once a second).
    var stateDirty = false
    var nextStateWrite: UInt64 = 0

    enum Token {
        static let api = WireGuardInterface.firstExtensionToken
        static let apiEnd = WireGuardInterface.firstExtensionToken + 1024
        static let control = WireGuardInterface.firstExtensionToken + 2048
    }

    /// Opens the state directory (creating keys on first start), creates
    /// the interface and the local API socket, and applies the cached map.
    public init(options: MeshOptions) throws(MeshError) {
        self.options = options
        if mkdir(options.stateDirectory, 0o700) != 0 && tern_errno() != EEXIST {
            throw MeshError("cannot create state directory " + options.stateDirectory + ": "
                            + SystemError.current("mkdir").description)
        }
        do { lock = try DirectoryLock(directory: options.stateDirectory) } catch {
            throw MeshError("state directory " + options.stateDirectory + " is in use: " + error.description)
        }
        state = try MeshDaemon.loadState(options.stateDirectory + "/node.state")
        do { wg = try WireGuardInterface(name: options.interface, socketDirectory: options.wgSocketDirectory,
                                                  timeScale: options.timeScale) } catch {
            throw MeshError("cannot create interface " + options.interface + ": " + error.description)
        }
        do { host = try HostNetwork(log: { MeshDaemon.log($0) }) } catch {
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
        wg.device.setPrivateKey(state.nodeKey)
        do { try wg.setListenPort(options.port) } catch {
            MeshDaemon.log("UDP port " + String(options.port) + " is taken; using a free port")
            try? wg.setListenPort(0)
        }
        // Cycles (daemon -> interface -> closure -> daemon) the daemon breaks in `shutdown`.
        // The clock is the interface's, read once per batch, not once per packet.
        wg.datapath.inboundFilter = { packet, now in
            if self.consumeProbeReply(packet) { return true }
            return !self.filter.inbound(packet, now: now).allowed
        }
        wg.datapath.outboundObserver = { packet, now in self.filter.outbound(packet, now: now) }
        try saveState()
        if state.loggedIn, let map = state.map {
            MeshDaemon.log("bringing the mesh up from the cached map (version " + String(map.version) + ")")
            apply(map)
        }
    }

    /// Runs until SIGTERM/SIGINT; then removes what it configured.
    public func run() throws(MeshError) {
        defer { shutdown() }
        while true {
            let now = Clock.monotonicNanoseconds()
            let next = turn(now: now)
            let keepGoing: Bool
            do {
                keepGoing = try wg.runOnce(until: next) { event in self.handle(event) }
            } catch {
                throw MeshError(error.description)
            }
            if !keepGoing { return }
        }
    }

    /// Housekeeping between events: connect, time out, report endpoints,
    /// write state. Returns when it next needs to run.
    func turn(now: UInt64) -> UInt64 {
        var next = now + 1_000_000_000
        if state.wantRunning, let text = state.controlURL, !link.isActive {
            if let url = try? ControlURL(text) {
                let identity = StaticIdentity(privateKey: state.machineKey)
                link.schedule.pingInterval = ControlTiming.pingInterval(advertisedRouteCount: state.advertisedRoutes.count)
                if let problem = link.connect(to: url, machine: identity, serverKey: state.serverKey, now: now) {
                    controlError = problem
                }
            }
        }
        var events: [ControlLink.Event] = []
        if let due = link.tick(now: now, events: &events) { next = min(next, max(due, now + 1_000_000)) }
        handleLinkEvents(events, now: now)
        if link.isEstablished && now >= nextEndpointCheck {
            nextEndpointCheck = now + 10_000_000_000
            let endpoints = localEndpoints()
            if endpoints != reportedEndpoints, link.send(.endpoints(endpoints)) { reportedEndpoints = endpoints }
        }
        expireRequests(now: now)
        next = min(next, probeTick(now: now))
        if stateDirty && now >= nextStateWrite {
            do { try saveState() } catch { MeshDaemon.log(error.description) }
            nextStateWrite = now + 1_000_000_000
        }
        return next
    }

    func handle(_ event: ReadyEvent) {
        let now = Clock.monotonicNanoseconds()
        if event.token == Token.control {
            var events: [ControlLink.Event] = []
            link.handle(event, now: now, events: &events)
            handleLinkEvents(events, now: now)
        } else if api.owns(event.token) {
            api.handle(event) { request in self.answer(request, now: now) }
        }
    }

    // MARK: Control events

    func handleLinkEvents(_ events: [ControlLink.Event], now: UInt64) {
        for event in events {
            switch event {
            case .pinServerKey(let key):
                MeshDaemon.log("pinned the coordination server's key " + key.base64 + ", taken on first contact over an "
                               + "unauthenticated connection: check it against `tern-control status` on the server")
                state.serverKey = key
                keyTakenOnFirstContact = key
                markDirty()
            case .established:
                reportedEndpoints = localEndpoints()
                let credential: LoginCredential = pendingAuthKey.map { .preAuthKey($0) } ?? .none
                let login = LoginRequest(nodeKey: state.nodeKey.publicKey, hostname: state.hostname, credential: credential,
                                         endpoints: reportedEndpoints, mapVersion: state.map?.version ?? 0,
                                         advertisedRoutes: state.advertisedRoutes)
                link.send(.login(login))
            case .message(let message):
                handleServer(message, now: now)
            case .lost(let reason):
                if controlError != reason { MeshDaemon.log("control: " + reason + "; retrying") }
                controlError = reason
                if let logout = pendingLogout {
                    pendingLogout = nil
                    finishLogout(logout.id, told: false)
                }
            }
        }
    }

    func handleServer(_ message: ServerMessage, now: UInt64) {
        switch message {
        case .map(let map):
            link.succeeded()
            controlError = nil
            loginFailure = nil
            pendingAuthKey = nil
            guard apply(map) else { return refuseMap(now: now) }
            if !state.loggedIn { MeshDaemon.log("logged in as " + map.node.name) }
            state.loggedIn = true
            if let up = pendingUp {
                pendingUp = nil
                _ = api.respond(to: up.id, status: 200, body: statusDocument())
            }
        case .delta(let delta):
            guard var map = state.map else { return }
            do { try map.apply(delta) } catch {
                // Out of step: reconnecting brings a full map.
                MeshDaemon.log("control: " + error.description + "; reconnecting")
                link.close(now: now, retry: false)
                return
            }
            if !apply(map) { refuseMap(now: now) }
        case .pong:
            break
        case .failure(let failure):
            MeshDaemon.log("control: the server refused: " + failure.message)
            loginFailure = failure
            controlError = failure.message
            pendingAuthKey = nil
            let response = FailureResponse(failure.code)
            if response.stopRetrying {
                state.wantRunning = false
                if response.loggedOut { state.loggedIn = false }
                if response.forgetMap { forgetMap() }
                markDirty()
            }
            link.close(now: now, retry: !response.stopRetrying)
            if let up = pendingUp {
                pendingUp = nil
                _ = api.respond(to: up.id, status: 403, body: LocalAPIErrorBody.make(message: failure.message, code: failure.code.rawValue))
            }
        case .loggedOut:
            if let logout = pendingLogout {
                pendingLogout = nil
                finishLogout(logout.id, told: true)
            }
        }
    }

    // MARK: Map

    /// Applies `map`: peers, addresses and routes (the subnet routes this
    /// node accepts, and its own as a router), and keeps it for restarts.
    /// A map that fails `MapCheck` changes nothing: false, and the log says why.
    @discardableResult
    func apply(_ map: NetworkMap) -> Bool {
        if let problem = MapCheck.problem(with: map) {
            mapProblem = problem
            MeshDaemon.log("refusing network map version " + String(map.version) + ": " + problem)
            return false
        }
        mapProblem = nil
        let nowSeconds = Clock.wallClock().seconds
        let previous = state.map
        state.map = map
        markDirty()
        let live = map.peers.filter { $0.keyExpiry.map { $0 > nowSeconds } ?? true }
        let acceptance = RouteAcceptance(map: map, peers: live, acceptRoutes: state.acceptRoutes,
                                         advertised: state.advertisedRoutes,
                                         localNetworks: host.localNetworks(excludingInterface: wg.name))
        if acceptance.skipped != skippedRoutes {
            for route in acceptance.skipped where !skippedRoutes.contains(route) { MeshDaemon.log("not using route " + route.description) }
            skippedRoutes = acceptance.skipped
        }
        let changes = PeerSync.apply(acceptance.peers, to: wg.device, now: wg.clock.now())
        if !changes.isEmpty || previous?.version != map.version {
            MeshDaemon.log("map version " + String(map.version) + ": " + String(live.count) + (live.count == 1 ? " peer (+" : " peers (+")
                           + String(changes.added) + " -" + String(changes.removed) + " ~" + String(changes.updated) + ")")
        }
        // As a router, the LAN behind it is a destination like its own addresses.
        let local = map.node.addresses + map.node.routes
        switch map.packetFilter {
        case .allowAll: filter.update(policy: .allowAll, localPrefixes: local)
        case .rules(let rules): filter.update(policy: .rules(rules), localPrefixes: local)
        }
        var addresses: [InterfaceAddress] = []
        for prefix in map.node.addresses {
            if let address = try? InterfaceAddress(prefix.address, prefixLength: prefix.length) { addresses.append(address) }
        }
        let plan = NetworkPlan(interface: wg.name, addresses: addresses, routes: [map.ipv4Range, map.ipv6Range] + acceptance.routes,
                               subnetRoutes: state.advertisedRoutes, masquerade: state.snatSubnetRoutes)
        if host.applied != plan {
            do { try host.apply(plan) } catch { MeshDaemon.log("cannot configure " + wg.name + ": " + error.description) }
        }
        return true
    }

    /// The server sent a map this node refuses (`mapProblem` says why): the
    /// session ends and is retried with backoff, what was configured stays,
    /// and a waiting `tern up` hears the reason.
    private func refuseMap(now: UInt64) {
        let reason = "the server sent a network map this node refuses: " + (mapProblem ?? "")
        controlError = reason
        link.close(now: now, retry: true)
        if let up = pendingUp {
            pendingUp = nil
            _ = api.respond(to: up.id, status: 502, body: LocalAPIErrorBody.make(message: reason, code: "bad-map"))
        }
    }

    /// Drops the map, the peers and the host configuration.
    func forgetMap() {
        state.map = nil
        wg.device.removeAllPeers()
        try? host.remove()
        markDirty()
    }

    // MARK: Endpoints

    /// This node's addresses other peers may reach it at, with the UDP port:
    /// every global address except the mesh's own, at most as many as the
    /// server takes (the lowest, so the choice is stable).
    func localEndpoints() -> [Endpoint] {
        let port = wg.listenPort
        var endpoints: [Endpoint] = []
        for address in host.globalAddresses(excludingInterface: wg.name) {
            if let map = state.map, map.ipv4Range.contains(address) || map.ipv6Range.contains(address) { continue }
            endpoints.append(Endpoint(address, port: port))
        }
        return Array(endpoints.sorted().prefix(MessageLimits.maximumEndpoints))
    }

    // MARK: State

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

    func saveState() throws(MeshError) {
        do {
            try AtomicFile.write(JSONSerializer.bytes(state.json), to: statePath, kind: MeshDaemon.stateKind,
                                 version: NodeState.formatVersion)
        } catch {
            throw MeshError("cannot write " + statePath + ": " + error.description)
        }
        stateDirty = false
    }

    func markDirty() { stateDirty = true }

    func shutdown() {
        wg.datapath.inboundFilter = nil
        wg.datapath.outboundObserver = nil
        if stateDirty { try? saveState() }
        link.close(now: 0, retry: false)
        api.shutdown()
        do { try host.remove() } catch { MeshDaemon.log("cleaning up: " + error.description) }
        wg.shutdown()
        lock.unlock()
    }

    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, 255) == 0 else { return "node" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)
    }

    static func log(_ line: String) {
        var text = "ternd: " + line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// Why the mesh daemon cannot start or go on.
public struct MeshError: Error, CustomStringConvertible {
    /// What happened, for a person.
    public let description: String
    init(_ description: String) { self.description = description }
}
