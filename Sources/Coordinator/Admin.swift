import IP
import TernCrypto

// Operations of admins (users, keys, renames, deletion) and the small
// node-initiated ones (endpoints, logout, online state).

extension Registry {
    /// Adds a user named `name` (see `Names.isValidUserName`); refuses a taken name.
    public mutating func createUser(name: String, now: Int64) throws(RegistryError) -> (user: User, changes: RegistryChanges) {
        guard Names.isValidUserName(name) else {
            throw RegistryError(.invalidArgument,
                "'" + name + "' is not a valid user name: use 1 to 64 letters, digits and . _ - @ +")
        }
        guard userByName[name] == nil else { throw RegistryError(.conflict, "user '" + name + "' exists already") }
        let user = User(id: nextUserID, name: name, createdAt: now)
        return (user, commit(.createUser(user)))
    }

    /// Removes the user named `name` and its pre-auth keys; refuses while it has nodes.
    public mutating func deleteUser(name: String) throws(RegistryError) -> RegistryChanges {
        let user = try existingUser(name)
        let count = nodeCount(of: user.id)
        guard count == 0 else {
            throw RegistryError(.conflict,
                "user '" + name + "' still has " + String(count) + " node(s): delete them first")
        }
        return commit(.deleteUser(user.id))
    }

    /// Makes a pre-auth key for the user named `user`. The secret is returned
    /// here only (show it once); the registry keeps its hash. `expiresAt`
    /// must be in the future; `tags` must be valid (`Names.isValidTag`).
    public mutating func createPreAuthKey<R: RandomSource>(
        user: String, reusable: Bool, expiresAt: Int64?, tags: [String], now: Int64, random: inout R
    ) throws(RegistryError) -> (key: PreAuthKey, secret: String, changes: RegistryChanges) {
        try createPreAuthKey(user: user, reusable: reusable, expiresAt: expiresAt, tags: tags, now: now,
                             secret: PreAuthKeySecret.generate(random: &random))
    }

    /// `createPreAuthKey` with a given secret (tests; a well-formed, unused key).
    mutating func createPreAuthKey(user name: String, reusable: Bool, expiresAt: Int64?, tags: [String], now: Int64,
                                   secret: String) throws(RegistryError) -> (key: PreAuthKey, secret: String, changes: RegistryChanges)
    {
        let user = try existingUser(name)
        let checkedTags = try Names.checkedTags(tags)
        if let expiresAt, expiresAt <= now {
            throw RegistryError(.invalidArgument, "the key's expiry " + CivilTime.format(expiresAt) + " is not in the future")
        }
        precondition(PreAuthKeySecret.isWellFormed(secret), "malformed pre-auth key secret")
        let hash = PreAuthKeySecret.hash(secret)
        // 192 random bits do not collide; a repeat means a broken random source.
        precondition(keyByHash[hash] == nil, "pre-auth key secret generated twice")
        let key = PreAuthKey(id: nextKeyID, prefix: PreAuthKeySecret.visiblePrefix(secret), hash: hash, user: user.id,
                             reusable: reusable, expiresAt: expiresAt, tags: checkedTags, createdAt: now,
                             revoked: false, useCount: 0)
        return (key, secret, commit(.createKey(key)))
    }

    /// Revokes the key with `id`: it registers nothing from now on (nodes it
    /// registered stay). Revoking twice is allowed and stores nothing.
    public mutating func revokePreAuthKey(id: UInt64) throws(RegistryError) -> RegistryChanges {
        guard let key = keys[id] else { throw RegistryError(.notFound, "no pre-auth key with id " + String(id)) }
        if key.revoked { return RegistryChanges() }
        return commit(.revokeKey(id))
    }

    /// Renames a node (a valid DNS label, not taken by another node).
    public mutating func renameNode(id: UInt64, to name: String) throws(RegistryError) -> RegistryChanges {
        let node = try existingNode(id)
        guard Names.isValidNodeName(name) else {
            throw RegistryError(.invalidArgument,
                "'" + name + "' is not a valid node name: use 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-'")
        }
        if node.name == name { return RegistryChanges() }
        guard nodeByName[name] == nil else { throw RegistryError(.conflict, "the name '" + name + "' is taken") }
        return commit(.rename(node: id, name: name))
    }

    /// Deletes a node: it leaves every map, its addresses are freed (see
    /// `AddressPool` for when they come back), and its machine must log in
    /// with a pre-auth key to return (as a new node).
    public mutating func deleteNode(id: UInt64) throws(RegistryError) -> RegistryChanges {
        _ = try existingNode(id)
        return commit(.deleteNode(id))
    }

    /// The node asked to be forgotten: the same as `deleteNode`.
    public mutating func logout(nodeID: UInt64) throws(RegistryError) -> RegistryChanges {
        try deleteNode(id: nodeID)
    }

    /// The node reports new endpoints (its last-seen time moves to `now`).
    public mutating func updateEndpoints(nodeID: UInt64, _ endpoints: [Endpoint], now: Int64) throws(RegistryError) -> RegistryChanges {
        let node = try existingNode(nodeID)
        return commit(.seen(node: nodeID, endpoints: endpoints == node.endpoints ? nil : endpoints, routes: nil, at: now))
    }

    /// Records whether the node holds a control connection. Online state is
    /// not persisted (no record); going offline stores the last-seen time.
    public mutating func setOnline(nodeID: UInt64, _ online: Bool, now: Int64) throws(RegistryError) -> RegistryChanges {
        _ = try existingNode(nodeID)
        if online {
            guard onlineNodes.insert(nodeID).inserted else { return RegistryChanges() }
            var changed = [nodeID]
            for id in electPrimaries() where id != nodeID { changed.append(id) }
            return RegistryChanges(records: [], changedNodes: changed)
        }
        guard onlineNodes.remove(nodeID) != nil else { return RegistryChanges() }
        var changes = commit(.seen(node: nodeID, endpoints: nil, routes: nil, at: now))
        if !changes.changedNodes.contains(nodeID) { changes.changedNodes.insert(nodeID, at: 0) }
        return changes
    }

    /// Sets how long node keys stay valid after future logins (nil: forever).
    /// Keys already issued keep their expiry.
    public mutating func setKeyLifetime(_ lifetime: Int64?) throws(RegistryError) -> RegistryChanges {
        var updated = settings
        updated.keyLifetime = lifetime
        try updated.validate()
        if lifetime == settings.keyLifetime { return RegistryChanges() }
        return commit(.keyLifetime(lifetime))
    }

    func existingNode(_ id: UInt64) throws(RegistryError) -> Node {
        guard let node = nodesByID[id] else { throw RegistryError(.notFound, "no node with id " + String(id)) }
        return node
    }

    func existingUser(_ name: String) throws(RegistryError) -> User {
        guard let user = self.user(named: name) else { throw RegistryError(.notFound, "no user named '" + name + "'") }
        return user
    }
}
