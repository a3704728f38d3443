import ControlProtocol
import IP
import JSON
import Linux
import LocalAPI
import Mesh
import PacketFilter
import TernCrypto
import WireGuard

/// The local API `tern` uses (HTTP/1.1 + JSON over the Unix socket).
extension MeshDaemon {
    /// How long `tern up` waits for the login's outcome by default.
    static let upTimeout: UInt64 = 30_000_000_000

    func answer(_ request: LocalAPIRequest, now: UInt64) -> LocalAPIAnswer {
        switch (request.method, request.path) {
        case ("GET", "/v1/status"): return .ok(statusDocument())
        case ("POST", "/v1/up"): return up(request, now: now)
        case ("POST", "/v1/down"): return down(now: now)
        case ("POST", "/v1/logout"): return logout(request, now: now)
        case ("POST", "/v1/ping"): return ping(request, now: now)
        case (_, "/v1/status"), (_, "/v1/up"), (_, "/v1/down"), (_, "/v1/logout"), (_, "/v1/ping"):
            return .methodNotAllowed(request.method, request.path)
        default:
            return .notFound(request.path)
        }
    }

    // MARK: up / down / logout

    private func up(_ request: LocalAPIRequest, now: UInt64) -> LocalAPIAnswer {
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
            apply(map)
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
            _ = api.respond(to: current.id, status: 409,
                            body: LocalAPIErrorBody.make(message: "superseded by another tern up", code: "superseded"))
        }
        pendingAuthKey = authKey
        loginFailure = nil
        state.wantRunning = true
        markDirty()
        // Start over at once with the new settings.
        link.close(now: now, retry: false)
        link.resetBackoff()
        var timeout = MeshDaemon.upTimeout
        if let milliseconds = body["timeoutMilliseconds"]?.uint64, milliseconds > 0 {
            timeout = min(milliseconds, 600_000) * 1_000_000
        }
        pendingUp = (request.id, now + timeout)
        return .deferred
    }

    /// True if `tern up` on this running, connected node asks for nothing
    /// but `--accept-routes` or `--snat-subnet-routes`.
    private func onlyLocalSettingsChange(_ body: JSONValue, advertised: [IPPrefix]) -> Bool {
        guard state.loggedIn && state.wantRunning && link.isEstablished, advertised == state.advertisedRoutes,
              body["authKey"]?.string == nil, body["controlKey"]?.string == nil
        else { return false }
        if let hostname = body["hostname"]?.string, hostname != state.hostname { return false }
        if let text = body["loginServer"]?.string, (try? ControlURL(text))?.description != state.controlURL { return false }
        return true
    }

    private func down(now: UInt64) -> LocalAPIAnswer {
        state.wantRunning = false
        link.close(now: now, retry: false)
        wg.device.removeAllPeers()
        try? host.remove()
        markDirty()
        MeshDaemon.log("down: disconnected from the mesh (still logged in)")
        return .ok(["state": "Stopped"])
    }

    private func logout(_ request: LocalAPIRequest, now: UInt64) -> LocalAPIAnswer {
        if link.isEstablished && link.send(.logout) {
            pendingLogout = (request.id, now + 5_000_000_000)
            return .deferred
        }
        finishLogout(nil, told: false)
        return .ok(["loggedOut": true, "serverTold": false])
    }

    /// Forgets the login: a new node key, no map, no peers, not running.
    func finishLogout(_ id: LocalAPIServer.PendingRequest?, told: Bool) {
        link.close(now: 0, retry: false)
        state.loggedIn = false
        state.wantRunning = false
        state.nodeKey = PrivateKey.generate()
        wg.device.setPrivateKey(state.nodeKey)
        forgetMap()
        do { try saveState() } catch { MeshDaemon.log(error.description) }
        MeshDaemon.log("logged out" + (told ? "" : " (the server could not be told)"))
        if let id { _ = api.respond(to: id, status: 200, body: ["loggedOut": true, "serverTold": .bool(told)]) }
    }

    /// Answers requests whose wait is over.
    func expireRequests(now: UInt64) {
        if let up = pendingUp, now >= up.deadline {
            pendingUp = nil
            let reason = controlError.map { ": " + $0 } ?? ""
            _ = api.respond(to: up.id, status: 504, body: LocalAPIErrorBody.make(
                message: "no answer from the coordination server" + reason, code: "server-unreachable"))
        }
        if let logout = pendingLogout, now >= logout.deadline {
            pendingLogout = nil
            finishLogout(logout.id, told: false)
        }
    }

    // MARK: status

    /// The packet filter: whether a policy applies, its rule count, and packets accepted and dropped (by reason).
    func filterDocument() -> JSONValue {
        var drops = JSONObject()
        for reason in [FilterReason.empty, .malformed, .fragment, .notLocal, .noRule, .icmpUnrelated] {
            let count = filter.counters.packets(reason)
            if count > 0 { _ = drops.insert(reason.description, .number(JSONNumber(count))) }
        }
        return ["policy": .bool(!filter.isAllowAll), "rules": .number(JSONNumber(filter.ruleCount)),
                "accepted": .number(JSONNumber(filter.counters.acceptedPackets)),
                "dropped": .number(JSONNumber(filter.counters.droppedPackets)), "drops": .object(drops)]
    }

    private func prefixesJSON(_ prefixes: [IPPrefix]) -> JSONValue { .array(prefixes.map { .string($0.description) }) }

    func statusDocument() -> JSONValue {
        let stateName: String
        if !state.loggedIn { stateName = "NeedsLogin" } else if !state.wantRunning { stateName = "Stopped" }
        else if state.map == nil { stateName = "Starting" } else { stateName = "Running" }
        var health: [JSONValue] = []
        if let key = keyTakenOnFirstContact, key == state.serverKey {
            health.append(.string("the coordination server's key " + key.base64 + " was taken on first contact, over an "
                                  + "unauthenticated connection: check it against `tern-control status` on the server "
                                  + "(tern up --control-key KEY pins it from the start)"))
        }
        if let failure = loginFailure { health.append(.string(failure.message)) }
        else if let controlError, state.wantRunning { health.append(.string("coordination server: " + controlError)) }
        for route in skippedRoutes where state.acceptRoutes || route.reason != RouteAcceptance.notAccepted {
            health.append(.string("route " + route.description))
        }
        var selfNode: JSONValue = nil
        var peers: [JSONValue] = []
        if let map = state.map {
            let node = map.node
            selfNode = ["id": .number(JSONNumber(node.id)), "name": .string(node.name), "nodeKey": .string(node.nodeKey.base64),
                        "addresses": .array(node.addresses.map { .string($0.address.description) }),
                        "endpoints": .array(reportedEndpoints.map { .string($0.description) }),
                        "keyExpiry": node.keyExpiry.map { .number(JSONNumber($0)) } ?? nil,
                        "user": .string(node.user), "tags": .array(node.tags.map { .string($0) }),
                        "advertisedRoutes": prefixesJSON(state.advertisedRoutes), "routes": prefixesJSON(node.routes),
                        "primaryRoutes": prefixesJSON(node.primaryRoutes)]
            let wallOffset = wg.clock.wallClock(at: 0)
            for view in map.peers {
                let peer = wg.device.peer(for: view.nodeKey)
                let handshake: JSONValue = peer?.lastHandshake.map { .number(JSONNumber(Int64((wallOffset &+ $0) / 1_000_000_000))) } ?? nil
                peers.append(["id": .number(JSONNumber(view.id)), "name": .string(view.name),
                              "nodeKey": .string(view.nodeKey.base64),
                              "addresses": .array(view.addresses.map { .string($0.address.description) }),
                              "allowedIPs": .array((peer.map { wg.device.allowedIPs(of: $0.id) } ?? []).map { .string($0.description) }),
                              "routes": prefixesJSON(view.routes), "primaryRoutes": prefixesJSON(view.primaryRoutes),
                              "endpoints": .array(view.endpoints.map { .string($0.description) }),
                              "endpoint": peer?.endpoint.map { .string($0.description) } ?? nil,
                              "online": .bool(view.online), "lastHandshake": handshake,
                              "rxBytes": .number(JSONNumber(peer?.receivedBytes ?? 0)),
                              "txBytes": .number(JSONNumber(peer?.sentBytes ?? 0)),
                              "keyExpiry": view.keyExpiry.map { .number(JSONNumber($0)) } ?? nil])
            }
        }
        return ["state": .string(stateName), "controlURL": state.controlURL.map { .string($0) } ?? nil,
                "controlConnected": .bool(link.isEstablished), "health": .array(health),
                "mapVersion": .number(JSONNumber(state.map?.version ?? 0)), "self": selfNode, "peers": .array(peers),
                "acceptRoutes": .bool(state.acceptRoutes), "snatSubnetRoutes": .bool(state.snatSubnetRoutes),
                "skippedRoutes": .array(skippedRoutes.map { ["prefix": .string($0.prefix.description), "router": .string($0.router),
                                                               "reason": .string($0.reason)] }),
                "filter": filterDocument()]
    }
}
