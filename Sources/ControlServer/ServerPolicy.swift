import ControlProtocol
import Coordinator
import IP
import Policy

/// The policy in force: its text (kept as written, comments and all), the
/// parsed policy, and its compilation against the current nodes. No policy
/// means every node may reach every other. Where the text is stored is the
/// shell's business.
public struct ServerPolicy {
    /// The policy's text as it was set, or nil for none.
    public private(set) var text: String?
    private(set) var policy: Policy?
    private var compiledNetwork: PolicyNetwork?

    /// No policy.
    public init() {}

    /// The stored `text` (it was valid when it was set; now it must parse).
    public init(text: String) throws(PolicyError) {
        policy = try Policy(parsing: text)
        self.text = text
    }

    /// The policy's view of the registry: nodes with their user, tags and
    /// addresses (expired nodes are in no map, so they are left out).
    static func network(of registry: Registry) -> PolicyNetwork {
        var nodes: [PolicyNode] = []
        for node in registry.allNodes where registry.isMapped(node.id) {
            nodes.append(PolicyNode(id: node.id, user: registry.user(id: node.user)?.name ?? "", tags: node.tags,
                                    addresses: [node.ipv4, node.ipv6], approvedRoutes: registry.enabledRoutes(of: node)))
        }
        return PolicyNetwork(nodes: nodes, users: registry.allUsers.map { $0.name },
                             meshRanges: [registry.settings.ipv4Range, registry.settings.ipv6Range])
    }

    /// The policy's `autoApprovers` as the registry's approval rule (none without a policy).
    public var routeApprover: RouteApprover {
        guard let policy else { return .none }
        return RouteApprover { route, user, tags in policy.autoApproves(route, user: user, tags: tags) }
    }

    /// Recompiles against the registry when what the policy sees of it
    /// changed (nodes, their users, tags, addresses or enabled routes; not
    /// endpoints or online state); returns who sees whom and each node's
    /// filter, or nil when there is no policy (everyone sees everyone,
    /// nothing filtered) or nothing the policy depends on changed.
    mutating func recompile(_ registry: Registry) -> (visibility: PeerVisibility, filters: (UInt64) -> FilterSetting)? {
        guard let policy else { return nil }
        let network = ServerPolicy.network(of: registry)
        if network == compiledNetwork { return nil }
        let compiled = CompiledPolicy(policy, network: network)
        compiledNetwork = network
        let filters: (UInt64) -> FilterSetting = compiled.allowsAll ? { _ in .allowAll } : { .rules(compiled.rules(for: $0)) }
        return (PeerVisibility { viewer, peer in compiled.sees(viewer.id, peer.id) }, filters)
    }

    /// Checks `text` against the registry: it must parse with every
    /// reference known (else the error); the report says how each `tests`
    /// entry fared (a policy with failures must not be put in force).
    public static func check(_ text: String, registry: Registry) throws(PolicyError) -> (Policy, PolicyCheckReport) {
        let policy = try Policy(parsing: text)
        return (policy, CompiledPolicy(policy, network: network(of: registry)).testReport)
    }

    /// Makes `policy` (parsed from `text`, already checked and stored) the one in force.
    mutating func replace(with text: String, policy: Policy) {
        self.text = text
        self.policy = policy
        compiledNetwork = nil
    }
}
