import ControlProtocol
import IP

/// A policy compiled against the network's current nodes: the packet filter
/// each node enforces, and who appears in whose network map.
///
/// Per node, the filter holds the rules whose destinations overlap the
/// node's own addresses or its approved subnet routes, each narrowed to the
/// overlapping part (`FilterRule.policyRule` is the ACL's index): a `*`
/// destination becomes the node's own /32 and /128 and its routes, a
/// 10.0.0.0/8 destination on a router for 10.1.0.0/16 becomes 10.1.0.0/16.
/// `autogroup:self` rules are made per node, with the source nodes (taken
/// whole, untagged only) of the node's own user as sources. A node
/// sees a peer iff one can reach the other through some rule: the source
/// side matches by address, or by an approved route that overlaps the
/// rule's sources; the destination side by address or by an approved route.
///
/// No policy, or a policy without `acls`, allows everything: every node gets
/// one rule from 0.0.0.0/0 and ::/0 to 0.0.0.0/0 and ::/0 on all ports (with
/// `policyRule` 0), and everyone sees everyone. An empty `acls` denies all.
///
/// Cost: each target is resolved to a node bit set once; destinations are
/// found through an address index and the route list, and visibility is a
/// union of bit sets per rule, so compiling is about O(rules × (matched
/// nodes + nodes / 64 × matched nodes)) rather than O(nodes² × rules).
public struct CompiledPolicy: Sendable {
    private let ids: [UInt64]
    private let indexByID: [UInt64: Int]
    private let filters: [[FilterRule]]
    private let visibility: [NodeSet]
    /// True when the policy allows everything (no policy, or no `acls`).
    public let allowsAll: Bool
    /// What the policy's `tests` did against this compilation.
    public private(set) var testReport: PolicyCheckReport

    /// The rule every node gets when there is no `acls` section.
    public static let allowAllRule = FilterRule(
        sources: everything, destinations: everything.map { FilterDestination(prefix: $0, ports: .all) },
        protocols: [], policyRule: 0)

    /// Compiles `policy` (nil: allow all) for `network` and runs its tests
    /// (see `testReport`; `Policy.compile(for:)` turns a failure into an error).
    public init(_ policy: Policy?, network: PolicyNetwork) {
        var resolver = TargetResolver(groups: policy?.groups ?? [:], network: network)
        let count = network.nodes.count
        ids = network.nodes.map { $0.id }
        var indexByID: [UInt64: Int] = [:]
        for index in 0..<count { indexByID[ids[index]] = index }
        self.indexByID = indexByID
        testReport = PolicyCheckReport(tests: [])
        if let acls = policy?.acls {
            allowsAll = false
            var compiler = RuleCompiler(count: count)
            for index in 0..<acls.count { compiler.compile(acls[index], index: index, resolver: &resolver) }
            filters = compiler.filters
            visibility = compiler.visibility
        } else {
            allowsAll = true
            filters = [[FilterRule]](repeating: [CompiledPolicy.allowAllRule], count: count)
            visibility = [NodeSet](repeating: NodeSet.full(capacity: count), count: count)
        }
        if let tests = policy?.tests, !tests.isEmpty {
            testReport = runTests(tests, resolver: &resolver, users: network.users)
        }
    }

    /// The filter node `nodeID` enforces on incoming connections; empty for
    /// an unknown node (deny all).
    public func rules(for nodeID: UInt64) -> [FilterRule] {
        guard let index = indexByID[nodeID] else { return [] }
        return filters[index]
    }

    /// Whether `viewer` gets `peer` in its map: one may reach the other.
    /// False for the node itself and for unknown nodes.
    public func sees(_ viewer: UInt64, _ peer: UInt64) -> Bool {
        guard viewer != peer, let a = indexByID[viewer], let b = indexByID[peer] else { return false }
        return visibility[a].contains(b)
    }

    /// The ids of every peer `nodeID` sees.
    public func visiblePeers(of nodeID: UInt64) -> Set<UInt64> {
        guard let index = indexByID[nodeID] else { return [] }
        var result = Set<UInt64>()
        visibility[index].forEach { peer in
            if peer != index { result.insert(ids[peer]) }
        }
        return result
    }

    /// The filter of the node at `index` (for the tests runner).
    func filter(at index: Int) -> [FilterRule] { filters[index] }
}

extension Policy {
    /// Compiles the policy for `network` and requires every `tests` entry to
    /// hold; a failing test throws a `.testFailed` error naming the test and
    /// entry (the full picture is in `CompiledPolicy.testReport`).
    public func compile(for network: PolicyNetwork) throws(PolicyError) -> CompiledPolicy {
        let compiled = CompiledPolicy(self, network: network)
        if let failure = compiled.testReport.failures.first { throw failure }
        return compiled
    }
}

/// Builds the per-node filters and the visibility relation, one ACL at a time.
private struct RuleCompiler {
    let count: Int
    var filters: [[FilterRule]]
    var visibility: [NodeSet]
    /// Destinations gathered for each node for the ACL at hand, and which nodes have some.
    private var pending: [[FilterDestination]]
    private var touched: [Int] = []
    /// Sources per distinct `src` list: many ACLs share one.
    private var sourceCache: [[PolicyTarget]: (prefixes: [IPPrefix], side: NodeSet)] = [:]

    init(count: Int) {
        self.count = count
        filters = [[FilterRule]](repeating: [], count: count)
        visibility = [NodeSet](repeating: NodeSet(capacity: count), count: count)
        pending = [[FilterDestination]](repeating: [], count: count)
    }

    mutating func compile(_ acl: PolicyACL, index: Int, resolver: inout TargetResolver) {
        let (sources, sourceSide) = sourcesOf(acl.sources, resolver: &resolver)
        guard !sources.isEmpty else { return }  // nobody may connect: no rule
        let protocols: [UInt8] = acl.proto.map { [$0] } ?? []

        var selfPorts: [PortRange] = []
        for destination in acl.destinations {
            if destination.target == .autogroupSelf {
                selfPorts.append(contentsOf: destination.ports)
                continue
            }
            let resolved = resolver.resolve(destination.target, asSource: false)
            resolved.nodes.forEach { node in
                for prefix in resolver.hostPrefixes[node] { add(prefix, destination.ports, to: node) }
            }
            for prefix in resolved.prefixes {
                resolver.forEachAddress(in: prefix) { address, node in
                    // Nodes named whole have all their addresses already.
                    if !resolved.nodes.contains(node) { add(hostPrefix(address), destination.ports, to: node) }
                }
                for route in resolver.routes where route.prefix.overlaps(prefix) {
                    add(intersection(route.prefix, prefix), destination.ports, to: route.node)
                }
            }
        }

        var destinationSide = NodeSet(capacity: count)
        for node in touched {
            filters[node].append(FilterRule(sources: sources, destinations: pending[node], protocols: protocols, policyRule: index))
            pending[node] = []
            destinationSide.insert(node)
        }
        touched.removeAll(keepingCapacity: true)
        connect(sourceSide, destinationSide)

        if !selfPorts.isEmpty {
            compileSelf(ports: selfPorts, sourceSide: sourceSide, protocols: protocols, index: index, resolver: resolver)
        }
    }

    /// `autogroup:self`: each untagged node accepts the ACL's source nodes
    /// that belong to its own user (untagged ones only).
    private mutating func compileSelf(ports: [PortRange], sourceSide: NodeSet, protocols: [UInt8], index: Int,
                                      resolver: TargetResolver) {
        let sourceNodes = sourceSide.intersection(resolver.untagged)
        for (_, own) in resolver.byUser {
            let allowed = sourceNodes.intersection(own)
            if allowed.isEmpty { continue }
            let sources = resolver.sourcePrefixes(allowed, [])
            own.forEach { node in
                var destinations: [FilterDestination] = []
                for prefix in resolver.hostPrefixes[node] {
                    for range in ports { destinations.append(FilterDestination(prefix: prefix, ports: range)) }
                }
                guard !destinations.isEmpty else { return }
                filters[node].append(FilterRule(sources: sources, destinations: destinations, protocols: protocols, policyRule: index))
            }
            connect(allowed, own)
        }
    }

    /// Records that every node of `sources` may reach every node of `destinations`.
    private mutating func connect(_ sources: NodeSet, _ destinations: NodeSet) {
        if sources.isEmpty || destinations.isEmpty { return }
        sources.forEach { node in visibility[node].formUnion(destinations) }
        destinations.forEach { node in visibility[node].formUnion(sources) }
    }

    /// Adds `prefix` × `ports` to the pending destinations of `node`, once.
    private mutating func add(_ prefix: IPPrefix, _ ports: [PortRange], to node: Int) {
        if pending[node].isEmpty { touched.append(node) }
        for range in ports {
            let destination = FilterDestination(prefix: prefix, ports: range)
            if !pending[node].contains(destination) { pending[node].append(destination) }
        }
    }

    /// The filter sources of a `src` list and the nodes on the source side
    /// (by address, or by an approved route overlapping a literal prefix).
    private mutating func sourcesOf(_ targets: [PolicyTarget],
                                    resolver: inout TargetResolver) -> (prefixes: [IPPrefix], side: NodeSet) {
        if let known = sourceCache[targets] { return known }
        var nodes = NodeSet(capacity: count)
        var prefixes: [IPPrefix] = []
        for target in targets {
            let resolved = resolver.resolve(target, asSource: true)
            nodes.formUnion(resolved.nodes)
            prefixes.append(contentsOf: resolved.prefixes)
        }
        var side = resolver.nodesTouching(prefixes)
        side.formUnion(nodes)
        let result = (prefixes: resolver.sourcePrefixes(nodes, prefixes), side: side)
        sourceCache[targets] = result
        return result
    }
}
