import ControlProtocol
import Coordinator
import IP
import Policy
import State

/// The policy in force on the server: its text (kept as written, comments
/// and all, in `policy.hujson` in the state directory), the parsed policy,
/// and its compilation against the current nodes. No file means no policy:
/// every node may reach every other.
struct PolicyState {
    static let kind = FileKind("PLCY")
    static let fileName = "policy.hujson"

    private(set) var text: String?
    private(set) var policy: Policy?
    private(set) var compiled: CompiledPolicy?
    /// The network `compiled` was made for.
    private var compiledNetwork: PolicyNetwork?

    /// Loads the stored policy, if any. A stored policy that no longer
    /// parses is an error (it was valid when it was set).
    init(directory: String) throws(ServiceError) {
        let path = directory + "/" + PolicyState.fileName
        let stored: StoredFile?
        do { stored = try AtomicFile.readIfPresent(path, kind: PolicyState.kind, supportedVersion: 1) } catch {
            throw ServiceError("cannot read " + path + ": " + error.description)
        }
        guard let stored else { return }
        let text = String(decoding: stored.payload, as: UTF8.self)
        do { policy = try Policy(parsing: text) } catch {
            throw ServiceError(path + ": " + error.description)
        }
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
    var routeApprover: RouteApprover {
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
        let network = PolicyState.network(of: registry)
        if network == compiledNetwork { return nil }
        let compiled = CompiledPolicy(policy, network: network)
        self.compiled = compiled
        compiledNetwork = network
        let filters: (UInt64) -> FilterSetting = compiled.allowsAll ? { _ in .allowAll } : { .rules(compiled.rules(for: $0)) }
        return (PeerVisibility { viewer, peer in compiled.sees(viewer.id, peer.id) }, filters)
    }

    /// Checks `text` against the registry: it must parse with every
    /// reference known (else the error); the report says how each `tests`
    /// entry fared (a policy with failures must not be put in force).
    static func check(_ text: String, registry: Registry) throws(PolicyError) -> (Policy, PolicyCheckReport) {
        let policy = try Policy(parsing: text)
        return (policy, CompiledPolicy(policy, network: network(of: registry)).testReport)
    }

    /// Stores `text` (already checked) and makes it the policy in force.
    mutating func replace(with text: String, policy: Policy, directory: String) throws(ServiceError) {
        let path = directory + "/" + PolicyState.fileName
        do { try AtomicFile.write(Array(text.utf8), to: path, kind: PolicyState.kind, version: 1) } catch {
            throw ServiceError("cannot write " + path + ": " + error.description)
        }
        self.text = text
        self.policy = policy
        compiledNetwork = nil
    }
}
