import IP
import JSON
import TernCrypto

/// One node as the coordination server describes it: to itself (`self` of a
/// map) or to its peers.
public struct NodeView: Equatable, Sendable {
    /// The server's stable identifier of the node (never reused).
    public var id: UInt64
    /// The node's name in the mesh (unique in the network).
    public var name: String
    /// The node's WireGuard public key.
    public var nodeKey: PublicKey
    /// The node's own mesh addresses: one IPv4 /32 and one IPv6 /128.
    public var addresses: [IPPrefix]
    /// What the node may send from and is sent to: its addresses plus the
    /// subnet routes it is the primary router for.
    public var allowedIPs: [IPPrefix]
    /// The subnet routes it advertises that are approved (by an admin or
    /// the policy's `autoApprovers`), primary or standby.
    public var routes: [IPPrefix]
    /// The approved routes it is the primary router for: the ones in `allowedIPs`.
    public var primaryRoutes: [IPPrefix]
    /// Where the node says it can be reached (local addresses + UDP port).
    public var endpoints: [Endpoint]
    /// When the node key expires (Unix seconds); nil when expiry is disabled.
    public var keyExpiry: Int64?
    /// Whether the node holds a control connection right now.
    public var online: Bool
    /// The user who owns the node.
    public var user: String
    /// Tags given at registration (`tag:name`).
    public var tags: [String]

    /// A node description.
    public init(id: UInt64, name: String, nodeKey: PublicKey, addresses: [IPPrefix], allowedIPs: [IPPrefix],
                routes: [IPPrefix] = [], primaryRoutes: [IPPrefix] = [],
                endpoints: [Endpoint], keyExpiry: Int64?, online: Bool, user: String, tags: [String]) {
        self.id = id
        self.name = name
        self.nodeKey = nodeKey
        self.addresses = addresses
        self.allowedIPs = allowedIPs
        self.routes = routes
        self.primaryRoutes = primaryRoutes
        self.endpoints = endpoints
        self.keyExpiry = keyExpiry
        self.online = online
        self.user = user
        self.tags = tags
    }
}

/// The mesh as one node sees it: itself, the peers it may talk to, and the
/// network's address ranges.
public struct NetworkMap: Equatable, Sendable {
    /// Grows by one with every change the server makes to this node's view.
    public var version: UInt64
    /// The network's IPv4 range (100.64.0.0/10).
    public var ipv4Range: IPPrefix
    /// The network's IPv6 range (a ULA /48 generated once per network).
    public var ipv6Range: IPPrefix
    /// The receiving node itself.
    public var node: NodeView
    /// Its peers, ordered by id.
    public var peers: [NodeView]
    /// What the node lets in from the mesh.
    public var packetFilter: FilterSetting

    /// A network map.
    public init(version: UInt64, ipv4Range: IPPrefix, ipv6Range: IPPrefix, node: NodeView, peers: [NodeView],
                packetFilter: FilterSetting = .allowAll) {
        self.version = version
        self.ipv4Range = ipv4Range
        self.ipv6Range = ipv6Range
        self.node = node
        self.peers = peers
        self.packetFilter = packetFilter
    }

    /// Applies `delta`, which must start at this map's version.
    public mutating func apply(_ delta: MapDelta) throws(ControlMessageError) {
        guard delta.baseVersion == version else {
            throw ControlMessageError("delta from version " + String(delta.baseVersion)
                                      + " does not apply to map version " + String(version))
        }
        if let node = delta.node { self.node = node }
        if let filter = delta.packetFilter { packetFilter = filter }
        peers.removeAll { peer in delta.removed.contains(peer.id) }
        for peer in delta.upserted {
            if let index = peers.firstIndex(where: { $0.id == peer.id }) {
                peers[index] = peer
            } else {
                peers.append(peer)
            }
        }
        peers.sort { $0.id < $1.id }
        version = delta.version
    }
}

/// What changed in one node's map between two versions.
public struct MapDelta: Equatable, Sendable {
    /// The version this delta produces.
    public var version: UInt64
    /// The version it applies to.
    public var baseVersion: UInt64
    /// The receiving node itself, when it changed (renamed, key expiry, endpoints).
    public var node: NodeView?
    /// Peers added or changed, whole.
    public var upserted: [NodeView]
    /// Ids of peers that are gone.
    public var removed: [UInt64]
    /// The node's new packet filter, when it changed.
    public var packetFilter: FilterSetting?

    /// A delta.
    public init(version: UInt64, baseVersion: UInt64, node: NodeView?, upserted: [NodeView], removed: [UInt64],
                packetFilter: FilterSetting? = nil) {
        self.version = version
        self.baseVersion = baseVersion
        self.node = node
        self.upserted = upserted
        self.removed = removed
        self.packetFilter = packetFilter
    }
}

/// A node's packet filter: no policy (everything from the mesh may come
/// in), or the rules compiled for it.
public enum FilterSetting: Equatable, Sendable {
    /// No policy: allow all.
    case allowAll
    /// Only what these rules allow (replies aside); none at all denies everything.
    case rules([FilterRule])
}

/// How a node proves it may join. OpenID Connect adds a case here.
public enum LoginCredential: Equatable, Sendable {
    /// No new credential: the machine is registered already and renews its session.
    case none
    /// A pre-auth key made by an admin.
    case preAuthKey(String)
}

/// The first message on a control connection, from the node.
public struct LoginRequest: Equatable, Sendable {
    /// The node's current WireGuard public key (may be new: key rotation).
    public var nodeKey: PublicKey
    /// The name the node asks for; the server makes it unique.
    public var hostname: String
    /// The credential, if any.
    public var credential: LoginCredential
    /// The node's endpoints.
    public var endpoints: [Endpoint]
    /// The map version the node holds (0 for none), so a reconnect can be answered with a delta.
    public var mapVersion: UInt64
    /// The LAN prefixes the node offers to route for the mesh (`tern up --advertise-routes`).
    public var advertisedRoutes: [IPPrefix]

    /// A login request.
    public init(nodeKey: PublicKey, hostname: String, credential: LoginCredential, endpoints: [Endpoint], mapVersion: UInt64,
                advertisedRoutes: [IPPrefix] = []) {
        self.nodeKey = nodeKey
        self.hostname = hostname
        self.credential = credential
        self.endpoints = endpoints
        self.mapVersion = mapVersion
        self.advertisedRoutes = advertisedRoutes
    }
}

/// Why the server refused or ended a session: a code a program can act on
/// and a sentence a person can.
public struct ControlFailure: Equatable, Sendable {
    /// Machine-readable reasons.
    public enum Code: String, Equatable, Sendable {
        case authKeyInvalid = "auth-key-invalid"
        case authKeyRevoked = "auth-key-revoked"
        case authKeyExpired = "auth-key-expired"
        case authKeyUsed = "auth-key-used"
        case loginRequired = "login-required"
        case nodeKeyExpired = "node-key-expired"
        case nodeDeleted = "node-deleted"
        case badRequest = "bad-request"
        case addressesExhausted = "addresses-exhausted"
        case internalError = "internal-error"
    }

    /// The reason.
    public var code: Code
    /// What a person should read.
    public var message: String

    /// A failure.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Node → server messages after the handshake.
public enum NodeMessage: Equatable, Sendable {
    /// Register or resume; answered with a full map or a failure.
    case login(LoginRequest)
    /// The node's endpoints changed.
    case endpoints([Endpoint])
    /// Forget this node (the node key is no longer valid anywhere).
    case logout
    /// Liveness probe; the server answers `pong` with the same number.
    case ping(UInt64)
}

/// Server → node messages after the handshake.
public enum ServerMessage: Equatable, Sendable {
    /// The whole map (after login, or when a delta would not be smaller).
    case map(NetworkMap)
    /// A change to the map the node holds.
    case delta(MapDelta)
    /// The answer to `ping`.
    case pong(UInt64)
    /// The session ends for this reason.
    case failure(ControlFailure)
    /// The logout was recorded.
    case loggedOut
}

/// A control message that does not parse or does not make sense.
public struct ControlMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, for a log line.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
