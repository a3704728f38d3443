import CTern
import IP

/// What Tern leaves in a network namespace that outlives the daemon: routes
/// marked with Tern's protocol number and the nftables table `inet tern`.
/// (Addresses and the link itself go away with the TUN device when the
/// daemon's process ends, and so do routes through it.)
public struct TernFootprint: Equatable, Sendable {
    /// Routes with Tern's protocol number, in every table.
    public let routes: [Route]
    /// True if the table `inet tern` exists.
    public let hasFirewallTable: Bool

    /// A footprint with these parts.
    public init(routes: [Route], hasFirewallTable: Bool) {
        self.routes = routes
        self.hasFirewallTable = hasFirewallTable
    }

    /// True if Tern has nothing configured.
    public var isEmpty: Bool { routes.isEmpty && !hasFirewallTable }

    /// Reads what Tern owns through `routing` and `firewall` (sockets of
    /// the same namespace): what a daemon restarted after `kill -9` finds.
    public static func read(routing: RTNetlink, firewall: NFTables) throws(NetlinkError) -> TernFootprint {
        TernFootprint(routes: try routing.ternRoutes(), hasFirewallTable: try firewall.tableExists())
    }

    /// Removes everything Tern owns: its routes (one batch) and its table.
    /// What a clean stop does, and `tern down` after a crash.
    public static func removeAll(routing: RTNetlink, firewall: NFTables) throws(NetlinkError) {
        try routing.removeTernRoutes()
        try firewall.removeTable()
    }
}

extension RTNetlink {
    /// The routes with Tern's protocol number, in every table and family.
    public func ternRoutes() throws(NetlinkError) -> [Route] {
        try routes(protocolNumber: RouteProtocol.tern)
    }

    /// The changes that turn the routes `current` into `desired`: removals
    /// of routes not desired first, then additions of the missing ones, each
    /// in the order given. Routes already in place are left alone, and
    /// duplicates in `desired` count once.
    public static func changes(from current: [Route], to desired: [Route]) -> [RouteChange] {
        let wanted = Set(desired)
        let present = Set(current)
        var changes: [RouteChange] = []
        for route in current where !wanted.contains(route) { changes.append(.remove(route)) }
        var added = Set<Route>()
        for route in desired where !present.contains(route) && added.insert(route).inserted {
            changes.append(.add(route))
        }
        return changes
    }

    /// Makes Tern's routes exactly `desired` (each of which should carry
    /// Tern's protocol number): reads the routes Tern owns, then applies the
    /// difference in one all-or-nothing batch. After a crash this adopts
    /// what the previous run left instead of duplicating it. Returns the
    /// changes applied (empty if everything was in place).
    @discardableResult
    public func reconcileRoutes(_ desired: [Route]) throws(NetlinkError) -> [RouteChange] {
        let changes = RTNetlink.changes(from: try ternRoutes(), to: desired)
        try apply(changes)
        return changes
    }

    /// Removes every route with Tern's protocol number in one batch;
    /// returns how many there were.
    @discardableResult
    public func removeTernRoutes() throws(NetlinkError) -> Int {
        let routes = try ternRoutes()
        try apply(routes.map { .remove($0) })
        return routes.count
    }
}
