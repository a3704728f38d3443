import ControlProtocol
import IP

/// A network this host is directly on (an address's prefix on one of its
/// interfaces, the mesh interface aside).
public struct LocalNetwork: Equatable, Sendable {
    /// The network, as the address's prefix gives it (192.168.1.0/24).
    public var prefix: IPPrefix
    /// The interface it is on.
    public var interface: String

    /// A network on `interface`.
    public init(prefix: IPPrefix, interface: String) {
        self.prefix = prefix
        self.interface = interface
    }
}

/// A subnet route in the map that this node does not use, and why.
public struct SkippedRoute: Equatable, Sendable {
    /// The LAN prefix.
    public var prefix: IPPrefix
    /// The name of the router that offers it.
    public var router: String
    /// Why it is not used, for `tern status` and the log.
    public var reason: String

    /// A skipped route.
    public init(prefix: IPPrefix, router: String, reason: String) {
        self.prefix = prefix
        self.router = router
        self.reason = reason
    }

    /// One line for a person: "192.168.10.0/24 via pi: <reason>".
    public var description: String { prefix.description + " via " + router + ": " + reason }
}

/// Which subnet routes of a map this node uses: the peers as WireGuard
/// should see them (a route this node does not use is left out of the
/// router's allowed IPs too) and the routes to install into the mesh
/// interface.
///
/// A route is used only with `--accept-routes`, and never when it overlaps
/// a prefix this node advertises itself (two routers of one LAN must not
/// route it to each other), a network the host is directly on (its own LAN
/// wins), or the mesh's ranges.
public struct RouteAcceptance: Equatable, Sendable {
    /// The peers, with allowed IPs narrowed to what this node accepts.
    public var peers: [NodeView]
    /// The subnet routes to install, in order.
    public var routes: [IPPrefix]
    /// Routes offered but not used, with the reason.
    public var skipped: [SkippedRoute]

    /// Decides for `peers` of `map`.
    public init(map: NetworkMap, peers: [NodeView], acceptRoutes: Bool, advertised: [IPPrefix], localNetworks: [LocalNetwork]) {
        self.peers = []
        routes = []
        skipped = []
        for var peer in peers {
            guard !peer.primaryRoutes.isEmpty else {
                self.peers.append(peer)
                continue
            }
            var accepted: [IPPrefix] = []
            for prefix in peer.primaryRoutes {
                if let reason = RouteAcceptance.reasonToSkip(prefix, map: map, acceptRoutes: acceptRoutes, advertised: advertised,
                                                             localNetworks: localNetworks) {
                    skipped.append(SkippedRoute(prefix: prefix, router: peer.name, reason: reason))
                } else {
                    accepted.append(prefix)
                }
            }
            peer.allowedIPs = peer.addresses + accepted
            routes += accepted
            self.peers.append(peer)
        }
        routes.sort()
    }

    /// Why this node does not use `prefix`, or nil if it does.
    static func reasonToSkip(_ prefix: IPPrefix, map: NetworkMap, acceptRoutes: Bool, advertised: [IPPrefix],
                             localNetworks: [LocalNetwork]) -> String? {
        if let problem = SubnetRoute.problem(with: prefix, meshRanges: [map.ipv4Range, map.ipv6Range]) { return problem }
        if let own = advertised.first(where: { $0.overlaps(prefix) }) {
            return "this node routes " + own.description + " itself"
        }
        if let local = localNetworks.first(where: { $0.prefix.overlaps(prefix) }) {
            return "overlaps this host's network " + local.prefix.description + " on " + local.interface
        }
        if !acceptRoutes { return notAccepted }
        return nil
    }

    /// The reason for routes skipped only because `--accept-routes` is off.
    public static let notAccepted = "not accepted (tern up --accept-routes to use it)"
}
