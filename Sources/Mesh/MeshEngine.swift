import ControlProtocol
import IP
import JSON
import Logging
import TernCrypto
import WireGuard
import Time

/// A mesh node's decisions, without I/O: the control link (connect,
/// handshake, login, pings, backoff), the network map (peers, filter, host
/// network), the local API (`tern up`, `down`, `logout`, `status`, `ping`)
/// and when the state file is written. Events go in with the time; what to
/// do comes out of `takeEffects()`, in order; `tick` says when to call again.
/// `MeshDaemon` in `Node` is the Linux shell around it; the tests drive it
/// with a manual clock and an in-memory server.
public final class MeshEngine<Random: RandomSource> {
    /// What the node keeps across restarts, as the engine has it now.
    public internal(set) var state: NodeState
    let observer: any MeshObserver
    var random: Random
    var effects: [MeshEffect] = []

    /// How often the endpoints are compared with what the server was told.
    public static var endpointCheckInterval: Interval { .seconds(10) }
    /// The state file is written at most this often (map changes come in bursts).
    public static var stateWriteInterval: Interval { .seconds(1) }
    /// The longest `tick` waits between housekeeping turns.
    public static var housekeepingInterval: Interval { .seconds(1) }
    /// The shortest wait `tick` asks for, so a deadline just passed does not spin.
    static var minimumWait: Interval { .milliseconds(1) }

    // MARK: Control link

    enum LinkPhase { case idle, connecting, open }
    var linkPhase = LinkPhase.idle
    /// The connection's protocol state while the link is not idle.
    var connection: ControlConnection?
    /// Counts closed links, so outputs of a link closed midway are dropped.
    var linkGeneration: UInt64 = 0
    /// When to connect, ping, give up and retry.
    public internal(set) var schedule = ControlLinkSchedule()

    /// Why the last control attempt failed (for `tern status`), if it did.
    public internal(set) var controlError: String?
    /// Why the last map was refused (`MapCheck`), while it is.
    var mapProblem: String?
    /// The server key this run took on first contact (not given with `--control-key`).
    var keyTakenOnFirstContact: PublicKey?
    /// A refusal from the server that needs a person (revoked key, expired node key).
    var loginFailure: ControlFailure?
    /// A `tern up` waiting for its login's outcome.
    var pendingUp: (id: MeshRequestID, deadline: MonotonicInstant)?
    /// A `tern logout` waiting for the server's confirmation.
    var pendingLogout: (id: MeshRequestID, deadline: MonotonicInstant)?
    /// The pre-auth key of the login in progress (never stored).
    var pendingAuthKey: String?

    // MARK: Map and host

    /// The peers as last handed to the device.
    var appliedPeers: [NodeView] = []
    /// Subnet routes in the map this node does not use, and why.
    var skippedRoutes: [SkippedRoute] = []
    /// The host's addresses and networks, as last told.
    var host: HostFacts
    /// The endpoints last reported to the server.
    var reportedEndpoints: [Endpoint] = []
    var nextEndpointCheck = MonotonicInstant.origin
    /// The state file needs writing (debounced to `stateWriteInterval`).
    public internal(set) var stateDirty = false
    var nextStateWrite = MonotonicInstant.origin

    // MARK: Probes

    var probes: [Probe] = []
    var nextProbeSequence: UInt16 = 1

    /// An engine for `state` on a host that looks like `host`. It asks at
    /// once for its node key, and for the cached map's peers and routes when
    /// the node is logged in and running, so the mesh comes back after a
    /// restart even while the server is down.
    public init(state: NodeState, host: HostFacts, observer: any MeshObserver, random: Random, now: MeshTime) {
        self.state = state
        self.host = host
        self.observer = observer
        self.random = random
        effects.append(.setNodeKey(state.nodeKey))
        if state.loggedIn && state.wantRunning, let map = state.map {
            log(.info("bringing the mesh up from the cached map (version " + String(map.version) + ")"))
            apply(map, now: now)
        }
    }

    /// What to do, in order, since the last call.
    public func takeEffects() -> [MeshEffect] {
        defer { effects.removeAll(keepingCapacity: true) }
        return effects
    }

    /// True once the secure channel to the server is up.
    public var isControlEstablished: Bool { linkPhase == .open && connection?.phase == .established }

    // MARK: Time

    /// Housekeeping: connect when due, link timeouts and pings, endpoint
    /// reports, requests whose wait is over, probes, the state write.
    /// Returns when it next needs a call (other events may come sooner).
    public func tick(now: MeshTime) -> MonotonicInstant {
        let instant = now.monotonic
        startLinkIfDue(now: now)
        if linkPhase != .idle {
            switch schedule.tick(now: instant.nanoseconds, established: isControlEstablished) {
            case .connectTimedOut: fail("timed out connecting to the coordination server", now: now)
            case .serverSilent: fail("the coordination server stopped answering", now: now)
            case .ping(let number): send(.ping(number))
            case .wait: break
            }
        }
        if isControlEstablished && instant >= nextEndpointCheck {
            nextEndpointCheck = instant + Self.endpointCheckInterval
            let endpoints = localEndpoints()
            if endpoints != reportedEndpoints, send(.endpoints(endpoints)) { reportedEndpoints = endpoints }
        }
        expireRequests(now: now)
        var next = min(instant + Self.housekeepingInterval, probeTick(now: now))
        if stateDirty && instant >= nextStateWrite {
            writeState()
            nextStateWrite = instant + Self.stateWriteInterval
        }
        if let due = linkDeadline { next = min(next, max(due, instant + Self.minimumWait)) }
        return next
    }

    /// When the link next needs `tick`: its timers, or the next attempt.
    private var linkDeadline: MonotonicInstant? {
        if linkPhase != .idle { return MonotonicInstant(nanoseconds: schedule.nextDeadline(established: isControlEstablished)) }
        guard state.wantRunning, let retry = schedule.retryAt else { return nil }
        return MonotonicInstant(nanoseconds: retry)
    }

    /// The host's addresses or networks may have changed. New LANs change
    /// which subnet routes this node may use: the map is applied again.
    public func hostChanged(_ facts: HostFacts, now: MeshTime) {
        guard facts != host else { return }
        let networksChanged = facts.localNetworks != host.localNetworks
        host = facts
        if networksChanged && state.loggedIn && state.wantRunning, let map = state.map { apply(map, now: now) }
    }

    /// The daemon is stopping: the link closes, pending state is written.
    public func shutdown(now: MeshTime) {
        closeLink(retry: false, now: now)
        if stateDirty { writeState() }
    }

    // MARK: Control link events

    /// The TCP connection asked for with `connectControl` is up.
    public func controlConnected(now: MeshTime) {
        guard linkPhase == .connecting, connection != nil else { return }
        let outputs: [ControlConnection.Output]
        do { outputs = try connection!.start(now: now.monotonic.nanoseconds) } catch { return fail(error.description, now: now) }
        linkPhase = .open
        perform(outputs, now: now)
    }

    /// Bytes read from the control connection.
    public func controlReceived(_ bytes: [UInt8], now: MeshTime) {
        guard linkPhase == .open, connection != nil else { return }
        schedule.heard(now: now.monotonic.nanoseconds)
        let outputs: [ControlConnection.Output]
        do { outputs = try connection!.receive(bytes, now: now.monotonic.nanoseconds) } catch {
            return fail(error.description, now: now)
        }
        perform(outputs, now: now)
    }

    /// The server closed the control connection.
    public func controlClosed(now: MeshTime) {
        guard linkPhase != .idle, connection != nil else { return }
        fail(connection!.closedByServer().description, now: now)
    }

    /// The control connection could not be made or failed (`reason` says how).
    public func controlFailed(_ reason: String, now: MeshTime) {
        guard linkPhase != .idle else { return }
        fail(reason, now: now)
    }

    // MARK: Link internals

    private func startLinkIfDue(now: MeshTime) {
        guard state.wantRunning, linkPhase == .idle, schedule.mayConnect(now: now.monotonic.nanoseconds),
              let text = state.controlURL, let url = try? ControlURL(text)
        else { return }
        schedule.pingInterval = ControlTiming.pingInterval(advertisedRouteCount: state.advertisedRoutes.count)
        connection = ControlConnection(url: url, machine: StaticIdentity(privateKey: state.machineKey), serverKey: state.serverKey,
                                       ephemeral: random.privateKey(), timestamp: now.timestamp)
        linkPhase = .connecting
        schedule.connecting(now: now.monotonic.nanoseconds)
        effects.append(.connectControl(url))
    }

    /// Carries out what the connection asked for, unless handling an
    /// earlier output closed the link.
    private func perform(_ outputs: [ControlConnection.Output], now: MeshTime) {
        let generation = linkGeneration
        for output in outputs where linkGeneration == generation {
            switch output {
            case .write(let bytes): effects.append(.writeControl(bytes))
            case .pinServerKey(let key):
                log(.warning("pinned the coordination server's key " + key.base64 + ", taken on first contact over an "
                             + "unauthenticated connection: check it against `tern-control status` on the server"))
                state.serverKey = key
                keyTakenOnFirstContact = key
                markDirty()
            case .established: sendLogin()
            case .message(let message): handleServer(message, now: now)
            }
        }
    }

    private func sendLogin() {
        reportedEndpoints = localEndpoints()
        let credential: LoginCredential = pendingAuthKey.map { .preAuthKey($0) } ?? .none
        send(.login(LoginRequest(nodeKey: state.nodeKey.publicKey, hostname: state.hostname, credential: credential,
                                 endpoints: reportedEndpoints, mapVersion: state.map?.version ?? 0,
                                 advertisedRoutes: state.advertisedRoutes)))
    }

    /// Seals `message` for the server if the channel is up; false otherwise.
    @discardableResult
    func send(_ message: NodeMessage) -> Bool {
        guard isControlEstablished, let bytes = try? connection!.send(message) else { return false }
        effects.append(.writeControl(bytes))
        return true
    }

    /// Ends the link; with `retry`, the next attempt waits the backoff,
    /// without it the next attempt may start at once (if still wanted).
    func closeLink(retry: Bool, now: MeshTime) {
        if linkPhase != .idle { effects.append(.closeControl) }
        connection?.close()
        connection = nil
        linkPhase = .idle
        linkGeneration &+= 1
        if retry { schedule.failed(now: now.monotonic.nanoseconds, random: &random) } else { schedule.stopped() }
    }

    private func fail(_ reason: String, now: MeshTime) {
        closeLink(retry: true, now: now)
        if controlError != reason { log(.info("control: " + reason + "; retrying")) }
        controlError = reason
        if let logout = pendingLogout {
            pendingLogout = nil
            finishLogout(logout.id, told: false, now: now)
        }
    }

    // MARK: Server messages

    func handleServer(_ message: ServerMessage, now: MeshTime) {
        switch message {
        case .map(let map):
            schedule.succeeded()
            controlError = nil
            loginFailure = nil
            pendingAuthKey = nil
            guard apply(map, now: now) else { return refuseMap(now: now) }
            if !state.loggedIn { log(.info("logged in as " + map.node.name)) }
            state.loggedIn = true
            if let up = pendingUp {
                pendingUp = nil
                effects.append(.respond(up.id, status: 200, body: statusDocument()))
            }
        case .delta(let delta):
            guard var map = state.map else { return }
            do { try map.apply(delta) } catch {
                // Out of step: a new session brings a full map.
                log(.info("control: " + error.description + "; reconnecting"))
                closeLink(retry: false, now: now)
                return
            }
            if !apply(map, now: now) { refuseMap(now: now) }
        case .pong:
            break
        case .failure(let failure):
            log(.warning("control: the server refused: " + failure.message))
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
            closeLink(retry: !response.stopRetrying, now: now)
            if let up = pendingUp {
                pendingUp = nil
                effects.append(.respond(up.id, status: 403, body: MeshAnswer.errorBody(failure.message, code: failure.code.rawValue)))
            }
        case .loggedOut:
            if let logout = pendingLogout {
                pendingLogout = nil
                finishLogout(logout.id, told: true, now: now)
            }
        }
    }

    /// The server sent a map this node refuses (`mapProblem` says why): the
    /// session ends and is retried with backoff, what was configured stays,
    /// and a waiting `tern up` hears the reason.
    private func refuseMap(now: MeshTime) {
        let reason = "the server sent a network map this node refuses: " + (mapProblem ?? "")
        controlError = reason
        closeLink(retry: true, now: now)
        if let up = pendingUp {
            pendingUp = nil
            effects.append(.respond(up.id, status: 502, body: MeshAnswer.errorBody(reason, code: "bad-map")))
        }
    }

    // MARK: State and log

    func markDirty() { stateDirty = true }

    func writeState() {
        effects.append(.writeState(state))
        stateDirty = false
    }

    func log(_ line: LogLine) { effects.append(.log(line)) }
}
