import ControlProtocol
import IP
import TernCrypto

/// A successful login.
public struct LoginOutcome: Equatable, Sendable {
    /// The node as it is now.
    public var node: Node
    /// True if this login registered the machine.
    public var isNewNode: Bool
    /// Records to store and nodes to update.
    public var changes: RegistryChanges

    /// An outcome with these fields.
    public init(node: Node, isNewNode: Bool, changes: RegistryChanges) {
        self.node = node
        self.isNewNode = isNewNode
        self.changes = changes
    }
}

/// The answer to a login: the outcome, or the failure to send the node.
/// (`Result` would need `ControlFailure: Error`, which it is not.)
public enum LoginResult: Equatable, Sendable {
    /// The node is in; store the records, then send it its map.
    case success(LoginOutcome)
    /// Refused; nothing changed.
    case failure(ControlFailure)
}

extension Registry {
    /// Registers or resumes the machine with `machineKey`:
    ///
    /// - an unknown machine needs a usable pre-auth key: the node gets the
    ///   key's user and tags, a unique name made from the hostname, fresh
    ///   addresses and a key expiry of `now + keyLifetime`;
    /// - a known machine without a credential resumes its session if its
    ///   key has not expired and its node key is unchanged (a new node key
    ///   needs a fresh credential: `loginRequired`);
    /// - a known machine with a credential logs in again: the key's user and
    ///   tags apply, the new node key is accepted, the expiry is renewed, the
    ///   name stays.
    ///
    /// Every refusal changes nothing and carries a message saying what to do.
    public mutating func login(machineKey: PublicKey, request: LoginRequest, now: Int64) -> LoginResult {
        if machineKey.isZero || request.nodeKey.isZero {
            return .failure(ControlFailure(.badRequest, "the machine key and node key must not be all zero"))
        }
        if let problem = SubnetRoute.problem(with: request.advertisedRoutes, meshRanges: meshRanges) {
            return .failure(ControlFailure(.badRequest, "--advertise-routes: " + problem))
        }
        if let holder = nodeByNodeKey[request.nodeKey], nodesByID[holder]!.machineKey != machineKey {
            return .failure(ControlFailure(.badRequest, "this node key belongs to another node: generate a new one"))
        }
        guard let nodeID = nodeByMachine[machineKey] else {
            return register(machineKey: machineKey, request: request, now: now)
        }
        let node = nodesByID[nodeID]!
        guard case .preAuthKey(let secret) = request.credential else {
            return resume(node, request: request, now: now)
        }
        let key: PreAuthKey
        switch usableKey(secret, now: now) {
        case .success(let found): key = found
        case .failure(let failure): return .failure(failure)
        }
        let change = Change.Relogin(node: nodeID, nodeKey: request.nodeKey, user: key.user, tags: key.tags,
                                    keyExpiry: keyExpiry(loggedInAt: now), authKey: key.id,
                                    endpoints: request.endpoints, routes: request.advertisedRoutes.sorted(), at: now)
        let changes = commit(.relogin(change))
        return .success(LoginOutcome(node: nodesByID[nodeID]!, isNewNode: false, changes: changes))
    }

    /// A new machine with (it must have) a pre-auth key.
    private mutating func register(machineKey: PublicKey, request: LoginRequest, now: Int64) -> LoginResult {
        guard case .preAuthKey(let secret) = request.credential else {
            if deletedMachines.contains(machineKey) {
                return .failure(ControlFailure(.nodeDeleted,
                    "this machine's node was deleted (logged out or removed by an admin): log in again with a pre-auth key"))
            }
            return .failure(ControlFailure(.loginRequired,
                "this machine is not registered: log in with a pre-auth key (tern up --auth-key tern-auth-...)"))
        }
        let key: PreAuthKey
        switch usableKey(secret, now: now) {
        case .success(let found): key = found
        case .failure(let failure): return .failure(failure)
        }
        guard let (ipv4, ipv6) = addresses.next() else {
            return .failure(ControlFailure(.addressesExhausted,
                "no free address left in " + settings.ipv4Range.description + ": delete unused nodes"))
        }
        let node = Node(id: nextNodeID, name: uniqueName(forHostname: request.hostname), machineKey: machineKey,
                        nodeKey: request.nodeKey, user: key.user, tags: key.tags, ipv4: ipv4, ipv6: ipv6,
                        endpoints: request.endpoints, createdAt: now, lastSeen: now,
                        keyExpiry: keyExpiry(loggedInAt: now), expiryDisabled: false, expired: false,
                        authKey: key.id, advertisedRoutes: request.advertisedRoutes.sorted())
        let changes = commit(.register(node))
        return .success(LoginOutcome(node: nodesByID[node.id]!, isNewNode: true, changes: changes))
    }

    /// A known machine without a credential.
    private mutating func resume(_ node: Node, request: LoginRequest, now: Int64) -> LoginResult {
        guard node.nodeKey == request.nodeKey else {
            return .failure(ControlFailure(.loginRequired,
                "node " + node.name + " has a new node key: log in again with a pre-auth key to use it"))
        }
        if node.isExpired(now: now) {
            var text = "the node key of " + node.name + " expired"
            if let expiry = node.keyExpiry { text += " at " + CivilTime.format(expiry) }
            return .failure(ControlFailure(.nodeKeyExpired, text + ": log in again with a pre-auth key"))
        }
        let endpoints = request.endpoints == node.endpoints ? nil : request.endpoints
        let routes = request.advertisedRoutes.sorted()
        let changes = commit(.seen(node: node.id, endpoints: endpoints, routes: routes == node.advertisedRoutes ? nil : routes, at: now))
        return .success(LoginOutcome(node: nodesByID[node.id]!, isNewNode: false, changes: changes))
    }

    /// The key `secret` names if it may be used at `now`, else the failure to send.
    private func usableKey(_ secret: String, now: Int64) -> KeyLookup {
        guard PreAuthKeySecret.isWellFormed(secret), let id = keyByHash[PreAuthKeySecret.hash(secret)],
              let key = keys[id] else {
            return .failure(ControlFailure(.authKeyInvalid,
                "pre-auth key not recognised: check it was copied whole, or ask an admin for a new one"))
        }
        let shown = key.prefix + "..."
        if key.revoked {
            return .failure(ControlFailure(.authKeyRevoked, "pre-auth key " + shown + " was revoked: ask an admin for a new one"))
        }
        if let expiresAt = key.expiresAt, expiresAt <= now {
            return .failure(ControlFailure(.authKeyExpired,
                "pre-auth key " + shown + " expired at " + CivilTime.format(expiresAt) + ": ask an admin for a new one"))
        }
        if key.isUsedUp {
            return .failure(ControlFailure(.authKeyUsed,
                "pre-auth key " + shown + " was for one machine and has been used: ask an admin for a new or reusable one"))
        }
        return .success(key)
    }

    /// A free node name for `hostname`: its label form, then "-1", "-2", ... until free.
    func uniqueName(forHostname hostname: String) -> String {
        let base = Names.nodeName(fromHostname: hostname)
        if nodeByName[base] == nil { return base }
        var n = 1
        while true {
            let candidate = Names.numbered(base, n)
            if nodeByName[candidate] == nil { return candidate }
            n += 1
        }
    }
}

/// A pre-auth key lookup.
private enum KeyLookup {
    case success(PreAuthKey)
    case failure(ControlFailure)
}
