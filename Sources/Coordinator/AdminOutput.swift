import IP
import JSON
import TernCrypto

// What the admin CLI prints: JSON (`--json`; times as Unix seconds) and
// text tables (times as "2026-11-21 14:03:05 UTC").

extension Registry {
    // MARK: JSON

    /// A node for `--json`: its stored fields with names instead of ids,
    /// the expiry that applies, and whether it is online.
    public func adminJSON(node: Node) -> JSONValue {
        ["id": .number(JSONNumber(node.id)), "name": .string(node.name), "user": .string(userName(node.user)),
         "tags": JSONForms.strings(node.tags), "ipv4": .string(node.ipv4.description), "ipv6": .string(node.ipv6.description),
         "machineKey": .string(node.machineKey.base64), "nodeKey": .string(node.nodeKey.base64),
         "endpoints": JSONForms.endpoints(node.endpoints), "createdAt": .number(JSONNumber(node.createdAt)),
         "lastSeen": .number(JSONNumber(node.lastSeen)), "keyExpiry": JSONForms.integer(node.effectiveKeyExpiry),
         "expiryDisabled": .bool(node.expiryDisabled), "expired": .bool(node.expired),
         "online": .bool(onlineNodes.contains(node.id)), "advertisedRoutes": JSONForms.prefixes(node.advertisedRoutes),
         "enabledRoutes": JSONForms.prefixes(enabledRoutes(of: node)), "primaryRoutes": JSONForms.prefixes(primaryRoutes(of: node.id))]
    }

    /// Every advertised route, as a JSON array of
    /// `{"node", "nodeId", "prefix", "state", "primary", "online"}`.
    public func routesJSON() -> JSONValue {
        .array(routeEntries.map { entry in
            ["node": .string(entry.nodeName), "nodeId": .number(JSONNumber(entry.node)), "prefix": .string(entry.prefix.description),
             "state": .string(entry.state.rawValue), "primary": .bool(entry.isPrimary), "online": .bool(entry.online)]
        })
    }

    /// The advertised routes as a table: prefix, node, approval, and which
    /// router clients use ("primary", "standby", or "-" when not enabled).
    public func routesTable() -> String {
        var table = TextTable(header: ["PREFIX", "NODE", "ID", "STATE", "ROLE", "STATUS"])
        for entry in routeEntries.sorted(by: { ($0.prefix, $0.node) < ($1.prefix, $1.node) }) {
            let role = entry.state.isEnabled ? (entry.isPrimary ? "primary" : "standby") : "-"
            table.append([entry.prefix.description, entry.nodeName, String(entry.node), entry.state.rawValue, role,
                          entry.online ? "online" : "offline"])
        }
        return table.text
    }

    /// A user for `--json`, with its number of nodes.
    public func adminJSON(user: User) -> JSONValue {
        ["id": .number(JSONNumber(user.id)), "name": .string(user.name), "createdAt": .number(JSONNumber(user.createdAt)),
         "nodes": .number(JSONNumber(Int64(nodeCount(of: user.id))))]
    }

    /// A pre-auth key for `--json` with its status at `now`; `secret` is
    /// included only when given (right after creation: it is shown once).
    public func adminJSON(key: PreAuthKey, now: Int64, secret: String? = nil) -> JSONValue {
        var value: JSONValue = [
            "id": .number(JSONNumber(key.id)), "prefix": .string(key.prefix), "user": .string(userName(key.user)),
            "reusable": .bool(key.reusable), "expiresAt": JSONForms.integer(key.expiresAt), "tags": JSONForms.strings(key.tags),
            "createdAt": .number(JSONNumber(key.createdAt)), "revoked": .bool(key.revoked),
            "useCount": .number(JSONNumber(key.useCount)), "status": .string(Registry.status(of: key, now: now)),
        ]
        if let secret { value["key"] = .string(secret) }
        return value
    }

    /// Every node, as a JSON array.
    public func nodesJSON() -> JSONValue { .array(allNodes.map { adminJSON(node: $0) }) }

    /// Every user, as a JSON array.
    public func usersJSON() -> JSONValue { .array(allUsers.map { adminJSON(user: $0) }) }

    /// Every pre-auth key, as a JSON array.
    public func preAuthKeysJSON(now: Int64) -> JSONValue { .array(allPreAuthKeys.map { adminJSON(key: $0, now: now) }) }

    // MARK: Text

    /// The nodes as a table: id, name, user, addresses, tags, status
    /// (online, offline or expired), last seen, key expiry.
    public func nodesTable(now: Int64) -> String {
        var table = TextTable(header: ["ID", "NAME", "USER", "IPV4", "IPV6", "TAGS", "STATUS", "LAST SEEN", "KEY EXPIRY"])
        for node in allNodes {
            let status = node.isExpired(now: now) ? "expired" : (onlineNodes.contains(node.id) ? "online" : "offline")
            let expiry = node.expiryDisabled ? "disabled" : (node.keyExpiry.map(CivilTime.format) ?? "never")
            table.append([String(node.id), node.name, userName(node.user), node.ipv4.description, node.ipv6.description,
                          Registry.list(node.tags), status, CivilTime.format(node.lastSeen), expiry])
        }
        return table.text
    }

    /// The users as a table: id, name, number of nodes, creation time.
    public func usersTable() -> String {
        var table = TextTable(header: ["ID", "NAME", "NODES", "CREATED"])
        for user in allUsers {
            table.append([String(user.id), user.name, String(nodeCount(of: user.id)), CivilTime.format(user.createdAt)])
        }
        return table.text
    }

    /// The pre-auth keys as a table: id, visible prefix, user, reusable,
    /// uses, tags, expiry, status at `now`, creation time.
    public func preAuthKeysTable(now: Int64) -> String {
        var table = TextTable(header: ["ID", "KEY", "USER", "REUSABLE", "USES", "TAGS", "EXPIRES", "STATUS", "CREATED"])
        for key in allPreAuthKeys {
            table.append([String(key.id), key.prefix + "...", userName(key.user), key.reusable ? "yes" : "no",
                          String(key.useCount), Registry.list(key.tags), key.expiresAt.map(CivilTime.format) ?? "never",
                          Registry.status(of: key, now: now), CivilTime.format(key.createdAt)])
        }
        return table.text
    }

    /// "valid", "revoked", "expired" or "used".
    static func status(of key: PreAuthKey, now: Int64) -> String {
        if key.revoked { return "revoked" }
        if key.isExpired(now: now) { return "expired" }
        if key.isUsedUp { return "used" }
        return "valid"
    }

    /// Comma-separated, or "-" for none.
    private static func list(_ items: [String]) -> String {
        if items.isEmpty { return "-" }
        var text = ""
        for item in items {
            if !text.isEmpty { text += "," }
            text += item
        }
        return text
    }

    /// How many nodes the user owns.
    func nodeCount(of user: UInt64) -> Int {
        var count = 0
        for id in nodeOrder where nodesByID[id]!.user == user { count += 1 }
        return count
    }
}
