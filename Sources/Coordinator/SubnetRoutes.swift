import IP

/// Which advertised routes the policy approves without an admin: the seam
/// where `autoApprovers` plugs in. The default approves nothing.
public struct RouteApprover {
    private let decide: (_ route: IPPrefix, _ user: String, _ tags: [String]) -> Bool

    /// Approval decided by `decide(route, user, tags)` for a route advertised
    /// by a node of `user` with `tags`; it must depend only on its arguments.
    public init(_ decide: @escaping (_ route: IPPrefix, _ user: String, _ tags: [String]) -> Bool) {
        self.decide = decide
    }

    /// Nothing is approved without an admin.
    public static var none: RouteApprover { RouteApprover { _, _, _ in false } }

    /// Whether `route`, advertised by a node of `user` with `tags`, is approved.
    public func approves(_ route: IPPrefix, user: String, tags: [String]) -> Bool { decide(route, user, tags) }
}

/// Where one advertised route stands.
public enum RouteState: String, Equatable, Sendable {
    /// Advertised; waiting for an admin.
    case pending
    /// An admin approved it.
    case approved
    /// The policy's `autoApprovers` approved it.
    case autoApproved = "auto-approved"
    /// An admin rejected it.
    case rejected

    /// True if clients may route the prefix through the node.
    public var isEnabled: Bool { self == .approved || self == .autoApproved }
}

/// One route one node advertises, as `tern-control routes list` shows it.
public struct RouteEntry: Equatable, Sendable {
    /// The advertising node.
    public var node: UInt64
    /// Its name.
    public var nodeName: String
    /// The LAN prefix.
    public var prefix: IPPrefix
    /// Approval.
    public var state: RouteState
    /// True if clients send the prefix's traffic to this node.
    public var isPrimary: Bool
    /// Whether the node holds a control connection.
    public var online: Bool

    /// An entry with these fields.
    public init(node: UInt64, nodeName: String, prefix: IPPrefix, state: RouteState, isPrimary: Bool, online: Bool) {
        self.node = node
        self.nodeName = nodeName
        self.prefix = prefix
        self.state = state
        self.isPrimary = isPrimary
        self.online = online
    }
}

// Subnet routes: a node advertises LAN prefixes when it logs in; each needs
// an admin's approval or the policy's; of the nodes with the same enabled
// prefix, one is primary (clients route the prefix to it alone) and the
// others stand by.
//
// The primary is sticky: it keeps the prefix while it stays online, so two
// healthy routers never flap. When it goes offline (its control connection
// closes or falls silent) the online standby with the lowest id takes over;
// with no router online the prefix stays on the last primary, so clients
// keep sending it into the mesh rather than to their own default route.
extension Registry {
    /// The mesh's own ranges, which no subnet route may overlap.
    public var meshRanges: [IPPrefix] { [settings.ipv4Range, settings.ipv6Range] }

    /// How `route` (advertised by `node`) stands.
    public func routeState(_ node: Node, _ route: IPPrefix) -> RouteState {
        if node.rejectedRoutes.contains(route) { return .rejected }
        if node.approvedRoutes.contains(route) { return .approved }
        return routeApprover.approves(route, user: userName(node.user), tags: node.tags) ? .autoApproved : .pending
    }

    /// The routes `node` advertises that are approved, in order.
    public func enabledRoutes(of node: Node) -> [IPPrefix] {
        node.advertisedRoutes.filter { routeState(node, $0).isEnabled }
    }

    /// The enabled routes `nodeID` is primary for, in order.
    public func primaryRoutes(of nodeID: UInt64) -> [IPPrefix] {
        guard let node = nodesByID[nodeID], !node.advertisedRoutes.isEmpty else { return [] }
        return node.advertisedRoutes.filter { primaryRouter[$0] == nodeID }
    }

    /// Every advertised route of every node, by node id then prefix.
    public var routeEntries: [RouteEntry] {
        var entries: [RouteEntry] = []
        for id in nodeOrder {
            let node = nodesByID[id]!
            for prefix in node.advertisedRoutes {
                entries.append(RouteEntry(node: id, nodeName: node.name, prefix: prefix, state: routeState(node, prefix),
                                          isPrimary: primaryRouter[prefix] == id, online: onlineNodes.contains(id)))
            }
        }
        return entries
    }

    /// Approves `prefixes` for the node (each must be advertised by it);
    /// an earlier rejection of them is withdrawn.
    public mutating func approveRoutes(nodeID: UInt64, _ prefixes: [IPPrefix]) throws(RegistryError) -> RegistryChanges {
        let node = try existingNode(nodeID)
        for prefix in prefixes where !node.advertisedRoutes.contains(prefix) {
            throw RegistryError(.invalidArgument, "node " + node.name + " does not advertise " + prefix.description
                                + advertisedText(node))
        }
        let approved = Set(node.approvedRoutes).union(prefixes).sorted()
        let rejected = node.rejectedRoutes.filter { !prefixes.contains($0) }
        return decide(node, approved: approved, rejected: rejected)
    }

    /// Rejects `prefixes` for the node (each advertised or approved): no
    /// longer enabled, and `autoApprovers` no longer applies to them.
    public mutating func rejectRoutes(nodeID: UInt64, _ prefixes: [IPPrefix]) throws(RegistryError) -> RegistryChanges {
        let node = try existingNode(nodeID)
        for prefix in prefixes where !node.advertisedRoutes.contains(prefix) && !node.approvedRoutes.contains(prefix) {
            throw RegistryError(.invalidArgument, "node " + node.name + " does not advertise " + prefix.description
                                + advertisedText(node))
        }
        let approved = node.approvedRoutes.filter { !prefixes.contains($0) }
        let rejected = Set(node.rejectedRoutes).union(prefixes).sorted()
        return decide(node, approved: approved, rejected: rejected)
    }

    /// Replaces the policy's approval rule; returns the nodes whose enabled
    /// or primary routes changed (nothing is stored: the policy is).
    public mutating func setRouteApprover(_ approver: RouteApprover) -> RegistryChanges {
        var before: [(UInt64, [IPPrefix])] = []
        for id in nodeOrder where !nodesByID[id]!.advertisedRoutes.isEmpty {
            before.append((id, enabledRoutes(of: nodesByID[id]!)))
        }
        routeApprover = approver
        var changed: [UInt64] = []
        for (id, routes) in before where enabledRoutes(of: nodesByID[id]!) != routes { changed.append(id) }
        for id in electPrimaries() where !changed.contains(id) { changed.append(id) }
        return RegistryChanges(records: [], changedNodes: changed.sorted())
    }

    /// Chooses the primary router of every enabled route (see the notes
    /// above); returns the nodes whose set of primary routes changed.
    /// O(nodes + routes).
    mutating func electPrimaries() -> [UInt64] {
        var candidates: [IPPrefix: [UInt64]] = [:]
        for id in nodeOrder {
            let node = nodesByID[id]!
            guard !node.advertisedRoutes.isEmpty, !node.expired else { continue }
            for route in enabledRoutes(of: node) { candidates[route, default: []].append(id) }
        }
        var elected: [IPPrefix: UInt64] = [:]
        for (route, ids) in candidates {
            let current = primaryRouter[route].flatMap { ids.contains($0) ? $0 : nil }
            if let current, onlineNodes.contains(current) {
                elected[route] = current
            } else if let online = ids.first(where: { onlineNodes.contains($0) }) {
                elected[route] = online
            } else {
                elected[route] = current ?? ids[0]
            }
        }
        var changed = Set<UInt64>()
        for (route, id) in primaryRouter where elected[route] != id { changed.insert(id) }
        for (route, id) in elected where primaryRouter[route] != id { changed.insert(id) }
        primaryRouter = elected
        return changed.filter { nodesByID[$0] != nil }.sorted()
    }

    private mutating func decide(_ node: Node, approved: [IPPrefix], rejected: [IPPrefix]) -> RegistryChanges {
        if approved == node.approvedRoutes && rejected == node.rejectedRoutes { return RegistryChanges() }
        return commit(.routeDecisions(node: node.id, approved: approved, rejected: rejected))
    }

    private func advertisedText(_ node: Node) -> String {
        node.advertisedRoutes.isEmpty ? " (it advertises no routes)"
            : " (it advertises " + node.advertisedRoutes.map { $0.description }.joined(separator: ", ") + ")"
    }
}
