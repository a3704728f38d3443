import IP
import TernCrypto

/// A person or service that owns nodes and pre-auth keys.
public struct User: Equatable, Sendable {
    /// The registry's identifier (never reused).
    public var id: UInt64
    /// The unique name admins type (`alice`, `alice@example.com`).
    public var name: String
    /// When the user was created (Unix seconds).
    public var createdAt: Int64

    /// A user with these fields.
    public init(id: UInt64, name: String, createdAt: Int64) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// A key an admin makes so machines can join without an interactive login.
///
/// Only a BLAKE2s-256 hash of the secret is kept (plus a short visible
/// prefix for listings): a stolen state file does not let anyone join.
public struct PreAuthKey: Equatable, Sendable {
    /// The registry's identifier (never reused).
    public var id: UInt64
    /// The first characters of the secret ("tern-auth-3f9a12bc"), for listings.
    public var prefix: String
    /// The lowercase hex BLAKE2s-256 hash of the whole secret.
    public var hash: String
    /// The id of the user whose nodes the key makes.
    public var user: UInt64
    /// Whether the key may register more than one machine.
    public var reusable: Bool
    /// When the key stops working (Unix seconds); nil for never.
    public var expiresAt: Int64?
    /// The tags every node registered with the key gets.
    public var tags: [String]
    /// When the key was made (Unix seconds).
    public var createdAt: Int64
    /// Whether an admin revoked the key.
    public var revoked: Bool
    /// How many logins used the key.
    public var useCount: UInt64

    /// A key with these fields.
    public init(id: UInt64, prefix: String, hash: String, user: UInt64, reusable: Bool, expiresAt: Int64?,
                tags: [String], createdAt: Int64, revoked: Bool, useCount: UInt64) {
        self.id = id
        self.prefix = prefix
        self.hash = hash
        self.user = user
        self.reusable = reusable
        self.expiresAt = expiresAt
        self.tags = tags
        self.createdAt = createdAt
        self.revoked = revoked
        self.useCount = useCount
    }

    /// True once `expiresAt` has come.
    public func isExpired(now: Int64) -> Bool {
        if let expiresAt { return expiresAt <= now }
        return false
    }

    /// True if a one-off key has been used.
    public var isUsedUp: Bool { !reusable && useCount > 0 }

    /// True if the key would let a machine log in at `now`.
    public func isUsable(now: Int64) -> Bool { !revoked && !isExpired(now: now) && !isUsedUp }
}

/// A registered machine.
public struct Node: Equatable, Sendable {
    /// The registry's identifier (never reused, even after deletion).
    public var id: UInt64
    /// The unique DNS-label name (`[a-z0-9-]`, at most 63 characters).
    public var name: String
    /// The long-lived identity of the machine (its control-channel key).
    public var machineKey: PublicKey
    /// The node's current WireGuard public key.
    public var nodeKey: PublicKey
    /// The id of the owning user.
    public var user: UInt64
    /// Tags from the pre-auth key used last (`tag:name`).
    public var tags: [String]
    /// The node's IPv4 mesh address (in `NetworkSettings.ipv4Range`).
    public var ipv4: IPAddress
    /// The node's IPv6 mesh address (in `NetworkSettings.ipv6Range`).
    public var ipv6: IPAddress
    /// Where the node says it can be reached.
    public var endpoints: [Endpoint]
    /// When the node registered (Unix seconds).
    public var createdAt: Int64
    /// When the node last logged in, reported endpoints or disconnected (Unix seconds).
    public var lastSeen: Int64
    /// When the node key expires (Unix seconds); nil if the network's keys never expire.
    public var keyExpiry: Int64?
    /// Whether an admin disabled key expiry for this node (then `keyExpiry` is ignored).
    public var expiryDisabled: Bool
    /// Whether the key has been found expired (or expired by an admin): the
    /// node is in no map until it logs in again with a credential.
    public var expired: Bool
    /// The pre-auth key of the last credential login, if it still matters.
    public var authKey: UInt64?
    /// The LAN prefixes the node offers to route (sorted, checked by `SubnetRoute`).
    public var advertisedRoutes: [IPPrefix]
    /// Prefixes an admin approved for this node (kept while the node stops
    /// advertising them, so advertising again needs no new approval).
    public var approvedRoutes: [IPPrefix]
    /// Prefixes an admin rejected for this node: never enabled, even when
    /// `autoApprovers` would approve them.
    public var rejectedRoutes: [IPPrefix]

    /// A node with these fields.
    public init(id: UInt64, name: String, machineKey: PublicKey, nodeKey: PublicKey, user: UInt64, tags: [String],
                ipv4: IPAddress, ipv6: IPAddress, endpoints: [Endpoint], createdAt: Int64, lastSeen: Int64,
                keyExpiry: Int64?, expiryDisabled: Bool, expired: Bool, authKey: UInt64?,
                advertisedRoutes: [IPPrefix] = [], approvedRoutes: [IPPrefix] = [], rejectedRoutes: [IPPrefix] = []) {
        self.id = id
        self.name = name
        self.machineKey = machineKey
        self.nodeKey = nodeKey
        self.user = user
        self.tags = tags
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.endpoints = endpoints
        self.createdAt = createdAt
        self.lastSeen = lastSeen
        self.keyExpiry = keyExpiry
        self.expiryDisabled = expiryDisabled
        self.expired = expired
        self.authKey = authKey
        self.advertisedRoutes = advertisedRoutes
        self.approvedRoutes = approvedRoutes
        self.rejectedRoutes = rejectedRoutes
    }

    /// The expiry that applies: nil when disabled or when keys never expire.
    public var effectiveKeyExpiry: Int64? { expiryDisabled ? nil : keyExpiry }

    /// True if the key is expired at `now` (flagged, or its time has come).
    public func isExpired(now: Int64) -> Bool {
        if expired { return true }
        if let expiry = effectiveKeyExpiry { return expiry <= now }
        return false
    }
}
