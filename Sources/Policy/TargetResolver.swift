import IP

/// What a target resolves to in a network: whole nodes (each contributes
/// all its addresses) and literal prefixes.
struct ResolvedTarget {
    var nodes: NodeSet
    var prefixes: [IPPrefix]
}

/// Resolves targets against one network, each target once (results are
/// cached), with the nodes indexed by user, tag, address and route so no
/// lookup scans every node.
struct TargetResolver {
    let nodes: [PolicyNode]
    /// Each node's addresses as /32 and /128 prefixes.
    let hostPrefixes: [[IPPrefix]]
    let all: NodeSet
    let untagged: NodeSet
    let tagged: NodeSet
    /// User name → that user's untagged nodes.
    let byUser: [String: NodeSet]
    /// Tag → the nodes carrying it.
    let byTag: [String: NodeSet]
    /// Every node address with its node, sorted by address.
    let addressIndex: [(address: IPAddress, node: Int)]
    /// Every approved route with its node.
    let routes: [(prefix: IPPrefix, node: Int)]
    let groups: [String: [String]]
    let meshRanges: [IPPrefix]
    /// `*` as a source: every node, the mesh ranges and every route.
    let anySource: ResolvedTarget
    /// `*` as a destination: every node and every address (which reaches the routes).
    let anyDestination: ResolvedTarget
    private var cache: [PolicyTarget: ResolvedTarget] = [:]

    init(groups: [String: [String]], network: PolicyNetwork) {
        nodes = network.nodes
        self.groups = groups
        meshRanges = network.meshRanges
        let count = nodes.count
        var untagged = NodeSet(capacity: count)
        var tagged = NodeSet(capacity: count)
        var byUser: [String: NodeSet] = [:]
        var byTag: [String: NodeSet] = [:]
        var addressIndex: [(address: IPAddress, node: Int)] = []
        var routes: [(prefix: IPPrefix, node: Int)] = []
        var hostPrefixes: [[IPPrefix]] = []
        hostPrefixes.reserveCapacity(count)
        for index in 0..<count {
            let node = nodes[index]
            if node.isTagged {
                tagged.insert(index)
                for tag in node.tags { byTag[tag, default: NodeSet(capacity: count)].insert(index) }
            } else {
                untagged.insert(index)
                byUser[node.user, default: NodeSet(capacity: count)].insert(index)
            }
            for address in node.addresses { addressIndex.append((address, index)) }
            for route in node.approvedRoutes { routes.append((route, index)) }
            hostPrefixes.append(node.addresses.map(hostPrefix))
        }
        addressIndex.sort { $0.address < $1.address }
        self.untagged = untagged
        self.tagged = tagged
        self.byUser = byUser
        self.byTag = byTag
        self.addressIndex = addressIndex
        self.routes = routes
        self.hostPrefixes = hostPrefixes
        all = NodeSet.full(capacity: count)
        anySource = ResolvedTarget(nodes: all, prefixes: network.meshRanges + routes.map { $0.prefix })
        anyDestination = ResolvedTarget(nodes: all, prefixes: everything)
    }

    /// The nodes and prefixes `target` stands for in `role`.
    mutating func resolve(_ target: PolicyTarget, asSource: Bool) -> ResolvedTarget {
        if target == .any { return asSource ? anySource : anyDestination }
        if let known = cache[target] { return known }
        var result = ResolvedTarget(nodes: NodeSet(capacity: nodes.count), prefixes: [])
        switch target {
        case .any:
            break
        case .user(let name):
            result.nodes = userNodes(name)
        case .group(let name):
            for member in groups[name] ?? [] { result.nodes.formUnion(userNodes(member)) }
        case .tag(let name):
            if let set = byTag[name] { result.nodes = set }
        case .host(_, let prefix), .prefix(let prefix):
            result.prefixes = [prefix]
        case .autogroupMember, .autogroupSelf:
            result.nodes = untagged
        case .autogroupTagged:
            result.nodes = tagged
        case .autogroupInternet:
            break  // no exit nodes: nothing
        case .autogroupDangerAll:
            result.prefixes = everything
        }
        cache[target] = result
        return result
    }

    /// The untagged nodes of the user a `.user` target (or group member) names.
    func userNodes(_ written: String) -> NodeSet {
        var set = byUser[written] ?? NodeSet(capacity: nodes.count)
        if written.utf8.last == UInt8(ascii: "@") {
            if let stripped = byUser[String(decoding: written.utf8.dropLast(), as: UTF8.self)] { set.formUnion(stripped) }
        }
        return set
    }

    /// Calls `body` with every node address inside `prefix` (binary search,
    /// then a walk over the matching run).
    func forEachAddress(in prefix: IPPrefix, _ body: (IPAddress, Int) -> Void) {
        var low = 0
        var high = addressIndex.count
        while low < high {
            let middle = low + (high - low) / 2
            if addressIndex[middle].address < prefix.address { low = middle + 1 } else { high = middle }
        }
        while low < addressIndex.count, prefix.contains(addressIndex[low].address) {
            body(addressIndex[low].address, addressIndex[low].node)
            low += 1
        }
    }

    /// The nodes with an address in, or an approved route overlapping, one of `prefixes`.
    func nodesTouching(_ prefixes: [IPPrefix]) -> NodeSet {
        var set = NodeSet(capacity: nodes.count)
        for prefix in prefixes {
            forEachAddress(in: prefix) { _, node in set.insert(node) }
            for route in routes where route.prefix.overlaps(prefix) { set.insert(route.node) }
        }
        return set
    }

    /// The nodes that own `address`: the node with that mesh address, or the
    /// subnet routers whose approved routes contain it.
    func owners(of address: IPAddress) -> [Int] {
        var result: [Int] = []
        forEachAddress(in: hostPrefix(address)) { _, node in result.append(node) }
        for route in routes where route.prefix.contains(address) && !result.contains(route.node) {
            result.append(route.node)
        }
        return result
    }

    /// The host prefixes of the nodes in `set` plus `prefixes`, sorted, with
    /// prefixes inside others dropped.
    func sourcePrefixes(_ set: NodeSet, _ prefixes: [IPPrefix]) -> [IPPrefix] {
        var list = prefixes
        set.forEach { node in list.append(contentsOf: hostPrefixes[node]) }
        return normalized(list)
    }
}

/// 0.0.0.0/0 and ::/0.
let everything: [IPPrefix] = [hostPrefix(.v4(.unspecified), length: 0), hostPrefix(.v6(.unspecified), length: 0)]

/// `address` as a /32 or /128 (or shorter, with `length`).
func hostPrefix(_ address: IPAddress) -> IPPrefix {
    hostPrefix(address, length: address.bitWidth)
}

func hostPrefix(_ address: IPAddress, length: Int) -> IPPrefix {
    do {
        return try IPPrefix(address, length: length)
    } catch {
        preconditionFailure("prefix length out of range")
    }
}

/// The common part of two overlapping prefixes: the longer one.
func intersection(_ a: IPPrefix, _ b: IPPrefix) -> IPPrefix {
    a.length >= b.length ? a : b
}

/// `prefixes` sorted, without duplicates or prefixes inside another.
func normalized(_ prefixes: [IPPrefix]) -> [IPPrefix] {
    let sorted = prefixes.sorted()
    var result: [IPPrefix] = []
    result.reserveCapacity(sorted.count)
    // Sorted by address then length, a prefix inside any kept one is inside the last kept one.
    for prefix in sorted {
        if let last = result.last, last.contains(prefix) { continue }
        result.append(prefix)
    }
    return result
}
