import CTern
import IP
import Mesh
import Netlink

/// What Tern wants of the host's network for its mesh interface. The
/// daemon builds one from its command line (`ternd --wg`) or from the
/// network map (mesh mode) and hands it to `HostNetwork.apply`.
public struct NetworkPlan: Equatable, Sendable {
    /// The mesh interface (Tern's TUN device).
    public var interface: String
    /// Its MTU.
    public var mtu: UInt32
    /// The node's own mesh addresses on the interface.
    public var addresses: [InterfaceAddress]
    /// Destinations routed into the mesh interface.
    public var routes: [IPPrefix]
    /// LAN prefixes this node routes for the mesh (a subnet router):
    /// forwarding on, and Tern's nftables table for them.
    public var subnetRoutes: [IPPrefix]
    /// Masquerade mesh traffic leaving toward `subnetRoutes`, so LAN hosts
    /// answer without a route back to the mesh.
    public var masquerade: Bool

    /// A plan.
    public init(interface: String, mtu: UInt32 = 1420, addresses: [InterfaceAddress] = [], routes: [IPPrefix] = [],
                subnetRoutes: [IPPrefix] = [], masquerade: Bool = true) {
        self.interface = interface
        self.mtu = mtu
        self.addresses = addresses
        self.routes = routes
        self.subnetRoutes = subnetRoutes
        self.masquerade = masquerade
    }

    /// True if the plan asks for nothing beyond the interface itself.
    public var isEmpty: Bool { addresses.isEmpty && routes.isEmpty && subnetRoutes.isEmpty }
}

/// Makes the host's network match a `NetworkPlan`, over netlink only, and
/// undoes it on a clean stop.
///
/// What Tern changes on a host:
/// - its mesh interface: MTU, addresses, up (all gone with the TUN device
///   when the daemon's process ends, however it ends);
/// - routes into the mesh interface, marked with protocol 116
///   (`ip route show proto 116`), also gone with the interface;
/// - for a subnet router, the nftables table `inet tern` (forward accept and
///   masquerade rules), which outlives a crashed daemon: `apply` replaces
///   it in one transaction and `remove` deletes it;
/// - for a subnet router, IPv4/IPv6 forwarding, turned on and never turned
///   off again (see `Forwarding`).
/// Nothing else: other tables, routes and addresses are never touched.
public final class HostNetwork {
    private let routing: RTNetlink
    private let firewall: NFTables
    private let log: (String) -> Void
    /// The plan in force, after a successful `apply`.
    public private(set) var applied: NetworkPlan?

    /// Opens the netlink sockets of the namespace at `namespacePath` (the
    /// calling thread's when nil). `log` receives one line per change worth
    /// telling an administrator about.
    public init(namespacePath: String? = nil, log: @escaping (String) -> Void) throws(NetlinkError) {
        routing = try RTNetlink(namespacePath: namespacePath)
        firewall = try NFTables(namespacePath: namespacePath)
        self.log = log
    }

    /// Brings the host to `plan`: the interface's MTU, exactly the plan's
    /// global addresses on it, up; exactly the plan's routes through it
    /// (one batch); forwarding and `inet tern` for subnet routes, or no
    /// `inet tern` without them. Applying the same plan twice changes
    /// nothing. Leftovers of a crashed run (the table) are replaced, never
    /// duplicated.
    public func apply(_ plan: NetworkPlan) throws(NetlinkError) {
        let link = try routing.link(named: plan.interface)
        if link.mtu != plan.mtu { try routing.setMTU(plan.mtu, ofLinkNamed: plan.interface) }

        // Addresses: add the missing, remove global ones the plan dropped.
        let present = try routing.addresses(interfaceIndex: link.index)
            .filter { $0.scope == UInt8(RT_SCOPE_UNIVERSE.rawValue) }.map { $0.address }
        for address in plan.addresses where !present.contains(address) {
            try routing.addAddress(address, interfaceIndex: link.index, noDAD: true)
        }
        for address in present where !plan.addresses.contains(address) {
            try routing.removeAddress(address, interfaceIndex: link.index)
        }
        if !link.isUp { try routing.setLink(named: plan.interface, up: true) }

        // Routes through this interface only: another interface's are not ours to judge.
        let desired = plan.routes.map { Route(destination: $0, interfaceIndex: link.index) }
        let current = try routing.ternRoutes().filter { $0.interfaceIndex == link.index }
        try routing.apply(RTNetlink.changes(from: current, to: desired))

        if plan.subnetRoutes.isEmpty {
            if applied == nil || applied?.subnetRoutes.isEmpty == false { try firewall.removeTable() }
        } else {
            for family in [AddressFamily.ipv4, .ipv6] where plan.subnetRoutes.contains(where: { AddressFamily(of: $0.address) == family }) {
                if try Forwarding.enable(family) { log(family.name + " forwarding was off; turned it on for subnet routing") }
            }
            if applied?.subnetRoutes != plan.subnetRoutes || applied?.masquerade != plan.masquerade
                || applied?.interface != plan.interface {
                try firewall.ensureTable(meshInterface: plan.interface, prefixes: plan.subnetRoutes, masquerade: plan.masquerade)
                log("routing for " + plan.subnetRoutes.map { $0.description }.joined(separator: ", ")
                    + (plan.masquerade ? " with SNAT (masquerade)" : " without SNAT: the LAN needs a route back to the mesh"))
            }
        }
        applied = plan
    }

    /// Undoes what `apply` did that would outlive the interface: Tern's
    /// routes through it and the `inet tern` table. Addresses go with the
    /// TUN device. Forwarding stays on.
    public func remove() throws(NetlinkError) {
        defer { applied = nil }
        if let plan = applied, let link = try? routing.link(named: plan.interface) {
            let routes = try routing.ternRoutes().filter { $0.interfaceIndex == link.index }
            try routing.apply(routes.map { .remove($0) })
        }
        try firewall.removeTable()
    }
}

extension HostNetwork {
    /// The networks of the global addresses on every interface but
    /// `excluded` and loopback: the LANs this host is directly on.
    public func localNetworks(excludingInterface excluded: String) -> [LocalNetwork] {
        guard let entries = try? routing.addresses(), let links = try? routing.links() else { return [] }
        var names: [Int32: String] = [:]
        for link in links where link.name != excluded && link.name != "lo" { names[link.index] = link.name }
        var networks: [LocalNetwork] = []
        for entry in entries where entry.scope == UInt8(RT_SCOPE_UNIVERSE.rawValue) {
            guard let name = names[entry.interfaceIndex] else { continue }
            networks.append(LocalNetwork(prefix: entry.address.network, interface: name))
        }
        return networks
    }

    /// The global-scope addresses of every interface but `excluded` and
    /// loopback: where peers may reach this host.
    public func globalAddresses(excludingInterface excluded: String) -> [IPAddress] {
        guard let entries = try? routing.addresses(), let links = try? routing.links() else { return [] }
        var skip = Set<Int32>()
        for link in links where link.name == excluded || link.name == "lo" { skip.insert(link.index) }
        return entries.filter { !skip.contains($0.interfaceIndex) && $0.scope == UInt8(RT_SCOPE_UNIVERSE.rawValue) }
            .map { $0.address.address }
    }
}
