import ControlProtocol
import IP
import Logging
import Time

/// Applying the network map: peers, packet filter and host network.
extension MeshEngine {
    /// Applies `map`: peers (the live ones, with the subnet routes this
    /// node accepts), the filter, addresses and routes (its own as a
    /// router too), and keeps it for restarts. A map that fails `MapCheck`
    /// changes nothing: false, and the log says why.
    @discardableResult
    func apply(_ map: NetworkMap, now: MeshTime) -> Bool {
        if let problem = MapCheck.problem(with: map) {
            mapProblem = problem
            log(.warning("refusing network map version " + String(map.version) + ": " + problem))
            return false
        }
        mapProblem = nil
        let previousVersion = state.map?.version
        state.map = map
        markDirty()
        let seconds = now.wall.seconds
        let live = map.peers.filter { $0.keyExpiry.map { $0 > seconds } ?? true }
        let acceptance = RouteAcceptance(map: map, peers: live, acceptRoutes: state.acceptRoutes,
                                         advertised: state.advertisedRoutes, localNetworks: host.localNetworks)
        if acceptance.skipped != skippedRoutes {
            for route in acceptance.skipped where !skippedRoutes.contains(route) { log(.info("not using route " + route.description)) }
            skippedRoutes = acceptance.skipped
        }
        let changes = PeerSync.changes(from: appliedPeers, to: acceptance.peers)
        appliedPeers = acceptance.peers
        effects.append(.syncPeers(acceptance.peers))
        if !changes.isEmpty || previousVersion != map.version {
            log(.info("map version " + String(map.version) + ": " + String(live.count) + (live.count == 1 ? " peer (+" : " peers (+")
                      + String(changes.added) + " -" + String(changes.removed) + " ~" + String(changes.updated) + ")"))
        }
        // As a router, the LAN behind it is a destination like its own addresses.
        effects.append(.setFilter(map.packetFilter, localPrefixes: map.node.addresses + map.node.routes))
        effects.append(.configureHost(MeshHostPlan(addresses: map.node.addresses,
                                                   routes: [map.ipv4Range, map.ipv6Range] + acceptance.routes,
                                                   subnetRoutes: state.advertisedRoutes, masquerade: state.snatSubnetRoutes)))
        return true
    }

    /// Drops the map, the peers and the host configuration.
    func forgetMap() {
        state.map = nil
        appliedPeers = []
        effects.append(.removeAllPeers)
        effects.append(.removeHostConfiguration)
        markDirty()
    }

    /// This node's addresses other peers may reach it at, with the UDP port:
    /// every global address except the mesh's own, at most as many as the
    /// server takes (the lowest, so the choice is stable).
    func localEndpoints() -> [Endpoint] {
        var endpoints: [Endpoint] = []
        for address in host.globalAddresses {
            if let map = state.map, map.ipv4Range.contains(address) || map.ipv6Range.contains(address) { continue }
            endpoints.append(Endpoint(address, port: host.listenPort))
        }
        return Array(endpoints.sorted().prefix(MessageLimits.maximumEndpoints))
    }
}
