import IP

/// A node as the policy sees it: the coordination server builds these from
/// its registry.
///
/// A node with tags is not user-owned (as in Tailscale): it matches `tag:`
/// targets and `autogroup:tagged`, never its user, the user's groups or
/// `autogroup:member`.
public struct PolicyNode: Equatable, Sendable {
    /// The registry's node id.
    public var id: UInt64
    /// The owning user's name (`alice`, `alice@example.com`).
    public var user: String
    /// Its tags, `tag:` included.
    public var tags: [String]
    /// Its mesh addresses (IPv4 and IPv6).
    public var addresses: [IPAddress]
    /// The subnet routes it advertises and an admin (or `autoApprovers`) approved.
    public var approvedRoutes: [IPPrefix]

    /// A node.
    public init(id: UInt64, user: String, tags: [String] = [], addresses: [IPAddress], approvedRoutes: [IPPrefix] = []) {
        self.id = id
        self.user = user
        self.tags = tags
        self.addresses = addresses
        self.approvedRoutes = approvedRoutes
    }

    /// True if the node carries at least one tag.
    public var isTagged: Bool { !tags.isEmpty }
}

/// The network a policy is compiled against.
public struct PolicyNetwork: Equatable, Sendable {
    /// Every node that may appear in maps (ids unique).
    public var nodes: [PolicyNode]
    /// Every user name, including users without nodes (a test may only name known users).
    public var users: [String]
    /// The mesh's address ranges (IPv4 and IPv6): what `*` means as a source,
    /// together with the approved routes.
    public var meshRanges: [IPPrefix]

    /// A network.
    public init(nodes: [PolicyNode], users: [String], meshRanges: [IPPrefix]) {
        self.nodes = nodes
        self.users = users
        self.meshRanges = meshRanges
    }
}
