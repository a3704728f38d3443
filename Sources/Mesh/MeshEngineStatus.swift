import ControlProtocol
import IP
import JSON
import TernCrypto

/// `tern status`: the node, its peers and what stands in the way.
extension MeshEngine {
    /// The state name `tern status` shows.
    public var stateName: String {
        if !state.loggedIn { return "NeedsLogin" }
        if !state.wantRunning { return "Stopped" }
        return state.map == nil ? "Starting" : "Running"
    }

    /// Problems a person should know about, one sentence each.
    var health: [JSONValue] {
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
        return health
    }

    /// The document `GET /v1/status` returns.
    func statusDocument() -> JSONValue {
        var selfNode: JSONValue = nil
        var peers: [JSONValue] = []
        if let map = state.map {
            let node = map.node
            selfNode = ["id": .number(JSONNumber(node.id)), "name": .string(node.name), "nodeKey": .string(node.nodeKey.base64),
                        "addresses": .array(node.addresses.map { .string($0.address.description) }),
                        "endpoints": .array(reportedEndpoints.map { .string($0.description) }),
                        "keyExpiry": node.keyExpiry.map { .number(JSONNumber($0)) } ?? nil,
                        "user": .string(node.user), "tags": .array(node.tags.map { .string($0) }),
                        "advertisedRoutes": prefixes(state.advertisedRoutes), "routes": prefixes(node.routes),
                        "primaryRoutes": prefixes(node.primaryRoutes)]
            for view in map.peers { peers.append(peerDocument(view)) }
        }
        return ["state": .string(stateName), "controlURL": state.controlURL.map { .string($0) } ?? nil,
                "controlConnected": .bool(isControlEstablished), "health": .array(health),
                "mapVersion": .number(JSONNumber(state.map?.version ?? 0)), "self": selfNode, "peers": .array(peers),
                "acceptRoutes": .bool(state.acceptRoutes), "snatSubnetRoutes": .bool(state.snatSubnetRoutes),
                "skippedRoutes": .array(skippedRoutes.map { ["prefix": .string($0.prefix.description), "router": .string($0.router),
                                                               "reason": .string($0.reason)] }),
                "filter": observer.filterStatus]
    }

    private func peerDocument(_ view: NodeView) -> JSONValue {
        let peer = observer.peer(view.nodeKey)
        return ["id": .number(JSONNumber(view.id)), "name": .string(view.name), "nodeKey": .string(view.nodeKey.base64),
                "addresses": .array(view.addresses.map { .string($0.address.description) }),
                "allowedIPs": prefixes(peer?.allowedIPs ?? []),
                "routes": prefixes(view.routes), "primaryRoutes": prefixes(view.primaryRoutes),
                "endpoints": .array(view.endpoints.map { .string($0.description) }),
                "endpoint": peer?.endpoint.map { .string($0) } ?? nil,
                "online": .bool(view.online), "lastHandshake": peer?.lastHandshake.map { .number(JSONNumber($0)) } ?? nil,
                "rxBytes": .number(JSONNumber(peer?.receivedBytes ?? 0)),
                "txBytes": .number(JSONNumber(peer?.sentBytes ?? 0)),
                "keyExpiry": view.keyExpiry.map { .number(JSONNumber($0)) } ?? nil]
    }

    private func prefixes(_ prefixes: [IPPrefix]) -> JSONValue { .array(prefixes.map { .string($0.description) }) }
}
