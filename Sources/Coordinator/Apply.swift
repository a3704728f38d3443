import IP
import TernCrypto

// Applying one change: the only place the registry's contents change, used
// alike by live operations and by replay. Each case checks that the change
// fits the current state, so a journal that does not belong to its
// snapshot is refused instead of silently merged.

extension Registry {
    /// Applies `change`; returns the ids of nodes whose entry changed.
    mutating func apply(_ change: Change) throws(RegistryError) -> [UInt64] {
        switch change {
        case .network:
            throw RegistryError(.corruptState, "network settings may only start a journal without a snapshot")

        case .keyLifetime(let lifetime):
            var updated = settings
            updated.keyLifetime = lifetime
            try updated.validate()
            settings = updated
            return []

        case .createUser(let user):
            guard user.id >= nextUserID else { throw corrupt("user id " + String(user.id) + " was used before") }
            guard user.id < UInt64.max else { throw corrupt("user id " + String(user.id) + " is out of range") }
            guard Names.isValidUserName(user.name) else { throw corrupt("invalid user name '" + user.name + "'") }
            guard userByName[user.name] == nil else { throw corrupt("user '" + user.name + "' exists already") }
            users[user.id] = user
            userByName[user.name] = user.id
            nextUserID = user.id + 1
            return []

        case .deleteUser(let id):
            guard let user = users[id] else { throw corrupt("no user " + String(id)) }
            for nodeID in nodeOrder where nodesByID[nodeID]!.user == id {
                throw corrupt("user '" + user.name + "' still has nodes")
            }
            users[id] = nil
            userByName[user.name] = nil
            for key in keys.values where key.user == id {
                keys[key.id] = nil
                keyByHash[key.hash] = nil
            }
            return []

        case .createKey(let key):
            guard key.id >= nextKeyID else { throw corrupt("key id " + String(key.id) + " was used before") }
            guard key.id < UInt64.max else { throw corrupt("key id " + String(key.id) + " is out of range") }
            guard users[key.user] != nil else { throw corrupt("key for unknown user " + String(key.user)) }
            guard keyByHash[key.hash] == nil else { throw corrupt("a key with the same hash exists") }
            keys[key.id] = key
            keyByHash[key.hash] = key.id
            nextKeyID = key.id + 1
            return []

        case .revokeKey(let id):
            guard keys[id] != nil else { throw corrupt("no key " + String(id)) }
            keys[id]!.revoked = true
            return []

        case .register(let node):
            guard node.id >= nextNodeID else { throw corrupt("node id " + String(node.id) + " was used before") }
            if let keyID = node.authKey {
                guard let key = keys[keyID] else { throw corrupt("unknown pre-auth key " + String(keyID)) }
                guard key.useCount < UInt64.max else { throw corrupt("pre-auth key " + String(keyID) + " has been used too often") }
            }
            try insert(node)
            if let keyID = node.authKey { keys[keyID]!.useCount += 1 }
            deletedMachines.remove(node.machineKey)
            nextNodeID = node.id + 1
            return [node.id]

        case .relogin(let change):
            guard var node = nodesByID[change.node] else { throw corrupt("no node " + String(change.node)) }
            guard users[change.user] != nil else { throw corrupt("unknown user " + String(change.user)) }
            guard let key = keys[change.authKey] else { throw corrupt("unknown pre-auth key " + String(change.authKey)) }
            guard key.useCount < UInt64.max else { throw corrupt("pre-auth key " + String(key.id) + " has been used too often") }
            if let holder = nodeByNodeKey[change.nodeKey], holder != node.id {
                throw corrupt("node key in use by node " + String(holder))
            }
            nodeByNodeKey[node.nodeKey] = nil
            nodeByNodeKey[change.nodeKey] = node.id
            node.nodeKey = change.nodeKey
            node.user = change.user
            node.tags = change.tags
            node.keyExpiry = change.keyExpiry
            node.expired = false
            node.authKey = change.authKey
            node.endpoints = change.endpoints
            node.advertisedRoutes = change.routes
            node.lastSeen = change.at
            nodesByID[node.id] = node
            keys[change.authKey]!.useCount += 1
            return [node.id]

        case .seen(let id, let endpoints, let routes, let at):
            guard nodesByID[id] != nil else { throw corrupt("no node " + String(id)) }
            nodesByID[id]!.lastSeen = at
            if let endpoints { nodesByID[id]!.endpoints = endpoints }
            if let routes { nodesByID[id]!.advertisedRoutes = routes }
            return endpoints == nil && routes == nil ? [] : [id]

        case .routeDecisions(let id, let approved, let rejected):
            guard nodesByID[id] != nil else { throw corrupt("no node " + String(id)) }
            nodesByID[id]!.approvedRoutes = approved
            nodesByID[id]!.rejectedRoutes = rejected
            return [id]

        case .rename(let id, let name):
            guard let node = nodesByID[id] else { throw corrupt("no node " + String(id)) }
            guard Names.isValidNodeName(name) else { throw corrupt("invalid node name '" + name + "'") }
            if let holder = nodeByName[name], holder != id { throw corrupt("name '" + name + "' is taken") }
            nodeByName[node.name] = nil
            nodeByName[name] = id
            nodesByID[id]!.name = name
            return [id]

        case .expireNode(let id, let at):
            guard nodesByID[id] != nil else { throw corrupt("no node " + String(id)) }
            nodesByID[id]!.keyExpiry = at
            nodesByID[id]!.expired = true
            return [id]

        case .markExpired(let ids):
            for id in ids {
                guard nodesByID[id] != nil else { throw corrupt("no node " + String(id)) }
                nodesByID[id]!.expired = true
            }
            return ids

        case .expiryDisabled(let id, let disabled):
            guard nodesByID[id] != nil else { throw corrupt("no node " + String(id)) }
            nodesByID[id]!.expiryDisabled = disabled
            return [id]

        case .deleteNode(let id):
            guard let node = nodesByID[id] else { throw corrupt("no node " + String(id)) }
            nodesByID[id] = nil
            if let index = nodeIndex(id) { nodeOrder.remove(at: index) }
            nodeByMachine[node.machineKey] = nil
            nodeByNodeKey[node.nodeKey] = nil
            nodeByName[node.name] = nil
            addresses.release(ipv4: node.ipv4)
            deletedMachines.insert(node.machineKey)
            onlineNodes.remove(id)
            return [id]
        }
    }

    /// Adds `node` to every index after checking it fits (used by
    /// registration and by snapshot restore).
    mutating func insert(_ node: Node) throws(RegistryError) {
        guard nodesByID[node.id] == nil else { throw corrupt("node id " + String(node.id) + " exists already") }
        guard node.id < UInt64.max else { throw corrupt("node id " + String(node.id) + " is out of range") }
        if let last = nodeOrder.last, last >= node.id { throw corrupt("node ids out of order at " + String(node.id)) }
        guard users[node.user] != nil else { throw corrupt("node of unknown user " + String(node.user)) }
        guard Names.isValidNodeName(node.name) else { throw corrupt("invalid node name '" + node.name + "'") }
        guard nodeByName[node.name] == nil else { throw corrupt("name '" + node.name + "' is taken") }
        guard nodeByMachine[node.machineKey] == nil else { throw corrupt("machine key registered twice") }
        guard nodeByNodeKey[node.nodeKey] == nil else { throw corrupt("node key registered twice") }
        try addresses.claim(ipv4: node.ipv4, ipv6: node.ipv6)
        nodesByID[node.id] = node
        nodeOrder.append(node.id)
        nodeByMachine[node.machineKey] = node.id
        nodeByNodeKey[node.nodeKey] = node.id
        nodeByName[node.name] = node.id
    }

    /// The position of `id` in `nodeOrder` (binary search).
    func nodeIndex(_ id: UInt64) -> Int? {
        var low = 0
        var high = nodeOrder.count
        while low < high {
            let middle = low + (high - low) / 2
            if nodeOrder[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < nodeOrder.count && nodeOrder[low] == id ? low : nil
    }

    private func corrupt(_ text: String) -> RegistryError { RegistryError(.corruptState, text) }
}
