import ControlProtocol
import IP
import JSON
import Logging
import TernCrypto
import Time

/// The local API `tern` uses: up, down, logout, status, ping.
extension MeshEngine {
    /// How long `tern up` waits for the login's outcome by default, and at most.
    public static var upTimeout: Interval { .seconds(30) }
    static var longestUpTimeout: Interval { .minutes(10) }
    /// How long `tern logout` waits for the server to confirm.
    public static var logoutTimeout: Interval { .seconds(5) }

    /// Answers `request` now, or defers it (a `respond` effect follows).
    public func request(_ request: MeshRequest, now: MeshTime) -> MeshAnswer {
        switch (request.method, request.path) {
        case ("GET", "/v1/status"): return .ok(statusDocument())
        case ("POST", "/v1/up"): return up(request, now: now)
        case ("POST", "/v1/down"): return down(now: now)
        case ("POST", "/v1/logout"): return logout(request, now: now)
        case ("POST", "/v1/ping"): return ping(request, now: now)
        case (_, "/v1/status"), (_, "/v1/up"), (_, "/v1/down"), (_, "/v1/logout"), (_, "/v1/ping"):
            return .error(status: 405, message: request.method + " is not allowed on " + request.path, code: "method-not-allowed")
        default:
            return .error(status: 404, message: "no such endpoint: " + request.path, code: "not-found")
        }
    }

    // MARK: up / down / logout

    private func up(_ request: MeshRequest, now: MeshTime) -> MeshAnswer {
        let body = request.body
        var advertised = state.advertisedRoutes
        if let value = body["advertiseRoutes"], !value.isNull {
            var routes: [IPPrefix] = []
            for item in value.array ?? [.null] {
                guard let text = item.string, let prefix = try? IPPrefix(text) else {
                    return .error(status: 400, message: "--advertise-routes: expected prefixes like 192.168.10.0/24", code: "bad-request")
                }
                routes.append(prefix)
            }
            let ranges = state.map.map { [$0.ipv4Range, $0.ipv6Range] } ?? [SubnetRoute.defaultMeshIPv4Range]
            if let problem = SubnetRoute.problem(with: routes, meshRanges: ranges) {
                return .error(status: 400, message: "--advertise-routes: " + problem, code: "bad-request")
            }
            advertised = routes.sorted()
        }
        if onlyLocalSettingsChange(body, advertised: advertised), let map = state.map {
            // Nothing the server needs to hear: apply at once, without logging in
            // again (a reconnect would hand a primary router's routes to its standby).
            if let accept = body["acceptRoutes"]?.bool { state.acceptRoutes = accept }
            if let snat = body["snatSubnetRoutes"]?.bool { state.snatSubnetRoutes = snat }
            markDirty()
            apply(map, now: now)
            return .ok(statusDocument())
        }
        if let text = body["loginServer"]?.string {
            let url: ControlURL
            do { url = try ControlURL(text) } catch {
                return .error(status: 400, message: "--login-server: " + error.description, code: "bad-request")
            }
            if state.controlURL != url.description {
                // Another server is another network: forget the old pin and map.
                if state.controlURL != nil { forgetMap() }
                state.controlURL = url.description
                state.serverKey = nil
                state.loggedIn = false
            }
        }
        if let text = body["controlKey"]?.string {
            guard let key = try? PublicKey(base64: text) else {
                return .error(status: 400, message: "--control-key: not a base64 public key", code: "bad-request")
            }
            state.serverKey = key
            keyTakenOnFirstContact = nil
        }
        if let hostname = body["hostname"]?.string {
            guard !hostname.isEmpty, hostname.utf8.count <= 63 else {
                return .error(status: 400, message: "--hostname: 1 to 63 characters", code: "bad-request")
            }
            state.hostname = hostname
        }
        state.advertisedRoutes = advertised
        if let accept = body["acceptRoutes"]?.bool { state.acceptRoutes = accept }
        if let snat = body["snatSubnetRoutes"]?.bool { state.snatSubnetRoutes = snat }
        guard state.controlURL != nil else {
            return .error(status: 400, message: "no coordination server yet: give --login-server", code: "login-required")
        }
        let authKey = body["authKey"]?.string
        if !state.loggedIn && authKey == nil {
            return .error(status: 400, message: "this node is not logged in: give --auth-key", code: "login-required")
        }
        if let current = pendingUp {
            effects.append(.respond(current.id, status: 409, body: MeshAnswer.errorBody("superseded by another tern up", code: "superseded")))
        }
        pendingAuthKey = authKey
        loginFailure = nil
        state.wantRunning = true
        markDirty()
        // Start over at once with the new settings.
        closeLink(retry: false, now: now)
        schedule.reset()
        var timeout = Self.upTimeout
        if let milliseconds = body["timeoutMilliseconds"]?.uint64, milliseconds > 0 {
            timeout = min(.milliseconds(milliseconds), Self.longestUpTimeout)
        }
        pendingUp = (request.id, now.monotonic + timeout)
        return .deferred
    }

    /// True if `tern up` on this running, connected node asks for nothing
    /// but `--accept-routes` or `--snat-subnet-routes`.
    private func onlyLocalSettingsChange(_ body: JSONValue, advertised: [IPPrefix]) -> Bool {
        guard state.loggedIn && state.wantRunning && isControlEstablished, advertised == state.advertisedRoutes,
              body["authKey"]?.string == nil, body["controlKey"]?.string == nil
        else { return false }
        if let hostname = body["hostname"]?.string, hostname != state.hostname { return false }
        if let text = body["loginServer"]?.string, (try? ControlURL(text))?.description != state.controlURL { return false }
        return true
    }

    private func down(now: MeshTime) -> MeshAnswer {
        state.wantRunning = false
        closeLink(retry: false, now: now)
        appliedPeers = []
        effects.append(.removeAllPeers)
        effects.append(.removeHostConfiguration)
        markDirty()
        log(.info("down: disconnected from the mesh (still logged in)"))
        return .ok(["state": "Stopped"])
    }

    private func logout(_ request: MeshRequest, now: MeshTime) -> MeshAnswer {
        if send(.logout) {
            pendingLogout = (request.id, now.monotonic + Self.logoutTimeout)
            return .deferred
        }
        finishLogout(nil, told: false, now: now)
        return .ok(["loggedOut": true, "serverTold": false])
    }

    /// Forgets the login: a new node key, no map, no peers, not running;
    /// the state is written at once.
    func finishLogout(_ id: MeshRequestID?, told: Bool, now: MeshTime) {
        closeLink(retry: false, now: now)
        state.loggedIn = false
        state.wantRunning = false
        state.nodeKey = random.privateKey()
        effects.append(.setNodeKey(state.nodeKey))
        forgetMap()
        writeState()
        log(.info("logged out" + (told ? "" : " (the server could not be told)")))
        if let id { effects.append(.respond(id, status: 200, body: ["loggedOut": true, "serverTold": .bool(told)])) }
    }

    /// Answers requests whose wait is over.
    func expireRequests(now: MeshTime) {
        if let up = pendingUp, now.monotonic >= up.deadline {
            pendingUp = nil
            let reason = controlError.map { ": " + $0 } ?? ""
            effects.append(.respond(up.id, status: 504, body: MeshAnswer.errorBody(
                "no answer from the coordination server" + reason, code: "server-unreachable")))
        }
        if let logout = pendingLogout, now.monotonic >= logout.deadline {
            pendingLogout = nil
            finishLogout(logout.id, told: false, now: now)
        }
    }
}
