import IP
import JSON
import TernCrypto

/// One state change, as journaled: every mutating operation produces
/// exactly one `Change` (so a torn journal never holds half an operation),
/// applies it with `Registry.apply`, and hands the shell its JSON record.
/// Replay applies the same records in the same way; everything drawn at
/// random or allocated (ids, addresses, names, the ULA, key hashes) is in
/// the record, never derived again.
enum Change: Equatable {
    /// The network's settings: the first record of a network without a snapshot.
    case network(NetworkSettings)
    /// A new node-key lifetime for future logins.
    case keyLifetime(Int64?)
    /// A new user.
    case createUser(User)
    /// A user (without nodes) and its pre-auth keys are gone.
    case deleteUser(UInt64)
    /// A new pre-auth key (its hash, never the secret).
    case createKey(PreAuthKey)
    /// A key revoked.
    case revokeKey(UInt64)
    /// A new node; its `authKey`'s use count goes up.
    case register(Node)
    /// A registered machine logged in again with a credential.
    case relogin(Relogin)
    /// A node was seen at `at`, with new endpoints and advertised routes where not nil.
    case seen(node: UInt64, endpoints: [Endpoint]?, routes: [IPPrefix]?, at: Int64)
    /// An admin decided on a node's routes: the approved and rejected lists, whole.
    case routeDecisions(node: UInt64, approved: [IPPrefix], rejected: [IPPrefix])
    /// An admin renamed a node.
    case rename(node: UInt64, name: String)
    /// An admin expired a node's key at `at`.
    case expireNode(node: UInt64, at: Int64)
    /// These nodes' keys were found expired.
    case markExpired([UInt64])
    /// An admin disabled (or enabled again) a node's key expiry.
    case expiryDisabled(node: UInt64, disabled: Bool)
    /// A node is gone (logout or an admin).
    case deleteNode(UInt64)

    /// What a credential login changes on an existing node.
    struct Relogin: Equatable {
        var node: UInt64
        var nodeKey: PublicKey
        var user: UInt64
        var tags: [String]
        var keyExpiry: Int64?
        var authKey: UInt64
        var endpoints: [Endpoint]
        var routes: [IPPrefix]
        var at: Int64
    }
}

extension Change {
    /// The record: one compact JSON object with an "op" member.
    var json: JSONValue {
        switch self {
        case .network(let settings):
            return reorderedOp(settings.storedJSON, op: "network")
        case .keyLifetime(let lifetime):
            return ["op": "keyLifetime", "keyLifetime": JSONForms.integer(lifetime)]
        case .createUser(let user):
            return reorderedOp(user.storedJSON, op: "createUser")
        case .deleteUser(let id):
            return ["op": "deleteUser", "id": .number(JSONNumber(id))]
        case .createKey(let key):
            return reorderedOp(key.storedJSON, op: "createKey")
        case .revokeKey(let id):
            return ["op": "revokeKey", "id": .number(JSONNumber(id))]
        case .register(let node):
            return reorderedOp(node.storedJSON, op: "register")
        case .relogin(let change):
            return ["op": "relogin", "node": .number(JSONNumber(change.node)), "nodeKey": .string(change.nodeKey.base64),
                    "user": .number(JSONNumber(change.user)), "tags": JSONForms.strings(change.tags),
                    "keyExpiry": JSONForms.integer(change.keyExpiry), "authKey": .number(JSONNumber(change.authKey)),
                    "endpoints": JSONForms.endpoints(change.endpoints), "routes": JSONForms.prefixes(change.routes),
                    "at": .number(JSONNumber(change.at))]
        case .seen(let node, let endpoints, let routes, let at):
            var record: JSONValue = ["op": "seen", "node": .number(JSONNumber(node)),
                                     "endpoints": endpoints.map(JSONForms.endpoints) ?? .null, "at": .number(JSONNumber(at))]
            if let routes { record["routes"] = JSONForms.prefixes(routes) }
            return record
        case .routeDecisions(let node, let approved, let rejected):
            return ["op": "routeDecisions", "node": .number(JSONNumber(node)), "approved": JSONForms.prefixes(approved),
                    "rejected": JSONForms.prefixes(rejected)]
        case .rename(let node, let name):
            return ["op": "rename", "node": .number(JSONNumber(node)), "name": .string(name)]
        case .expireNode(let node, let at):
            return ["op": "expireNode", "node": .number(JSONNumber(node)), "at": .number(JSONNumber(at))]
        case .markExpired(let nodes):
            return ["op": "expired", "nodes": .array(nodes.map { .number(JSONNumber($0)) })]
        case .expiryDisabled(let node, let disabled):
            return ["op": "expiryDisabled", "node": .number(JSONNumber(node)), "disabled": .bool(disabled)]
        case .deleteNode(let id):
            return ["op": "deleteNode", "id": .number(JSONNumber(id))]
        }
    }

    /// The record's bytes.
    var record: [UInt8] { JSONSerializer.bytes(json) }

    /// Reads a record.
    init(record: [UInt8]) throws(RegistryError) {
        let value: JSONValue
        do { value = try JSONParser.parse(record) } catch {
            throw RegistryError(.corruptState, "not JSON: " + error.description)
        }
        let fields = try JSONFields(value)
        let op = try fields.string("op")
        do throws(RegistryError) {
            self = try Change.decode(op, fields)
        } catch {
            throw error.within("'" + op + "' record")
        }
    }

    private static func decode(_ op: String, _ fields: JSONFields) throws(RegistryError) -> Change {
        switch op {
        case "network": return .network(try NetworkSettings(stored: fields))
        case "keyLifetime": return .keyLifetime(try fields.optionalInt64("keyLifetime"))
        case "createUser": return .createUser(try User(stored: fields))
        case "deleteUser": return .deleteUser(try fields.uint64("id"))
        case "createKey": return .createKey(try PreAuthKey(stored: fields))
        case "revokeKey": return .revokeKey(try fields.uint64("id"))
        case "register": return .register(try Node(stored: fields))
        case "relogin":
            return .relogin(Relogin(node: try fields.uint64("node"), nodeKey: try fields.key("nodeKey"),
                                    user: try fields.uint64("user"), tags: try fields.strings("tags"),
                                    keyExpiry: try fields.optionalInt64("keyExpiry"), authKey: try fields.uint64("authKey"),
                                    endpoints: try fields.endpoints("endpoints"),
                                    routes: try fields.prefixesIfPresent("routes"), at: try fields.int64("at")))
        case "seen":
            return .seen(node: try fields.uint64("node"), endpoints: try fields.optionalEndpoints("endpoints"),
                         routes: try fields.optionalPrefixes("routes"), at: try fields.int64("at"))
        case "routeDecisions":
            return .routeDecisions(node: try fields.uint64("node"), approved: try fields.prefixesIfPresent("approved"),
                                   rejected: try fields.prefixesIfPresent("rejected"))
        case "rename": return .rename(node: try fields.uint64("node"), name: try fields.string("name"))
        case "expireNode": return .expireNode(node: try fields.uint64("node"), at: try fields.int64("at"))
        case "expired": return .markExpired(try fields.uint64s("nodes"))
        case "expiryDisabled": return .expiryDisabled(node: try fields.uint64("node"), disabled: try fields.bool("disabled"))
        case "deleteNode": return .deleteNode(try fields.uint64("id"))
        default: throw RegistryError(.corruptState, "unknown operation")
        }
    }
}

/// `object`'s members after an "op" member (records read better with the operation first).
private func reorderedOp(_ object: JSONValue, op: String) -> JSONValue {
    var result: JSONValue = ["op": .string(op)]
    if let members = object.object {
        for member in members { result[member.key] = member.value }
    }
    return result
}

// The stored forms (records and snapshots) of the model types.

extension NetworkSettings {
    var storedJSON: JSONValue {
        ["ipv4Range": .string(ipv4Range.description), "ipv6Range": .string(ipv6Range.description),
         "keyLifetime": JSONForms.integer(keyLifetime)]
    }

    init(stored fields: JSONFields) throws(RegistryError) {
        self.init(ipv4Range: try fields.prefix("ipv4Range"), ipv6Range: try fields.prefix("ipv6Range"),
                  keyLifetime: try fields.optionalInt64("keyLifetime"))
    }
}

extension User {
    var storedJSON: JSONValue {
        ["id": .number(JSONNumber(id)), "name": .string(name), "createdAt": .number(JSONNumber(createdAt))]
    }

    init(stored fields: JSONFields) throws(RegistryError) {
        self.init(id: try fields.uint64("id"), name: try fields.string("name"), createdAt: try fields.int64("createdAt"))
    }
}

extension PreAuthKey {
    var storedJSON: JSONValue {
        ["id": .number(JSONNumber(id)), "prefix": .string(prefix), "hash": .string(hash), "user": .number(JSONNumber(user)),
         "reusable": .bool(reusable), "expiresAt": JSONForms.integer(expiresAt), "tags": JSONForms.strings(tags),
         "createdAt": .number(JSONNumber(createdAt)), "revoked": .bool(revoked), "useCount": .number(JSONNumber(useCount))]
    }

    init(stored fields: JSONFields) throws(RegistryError) {
        self.init(id: try fields.uint64("id"), prefix: try fields.string("prefix"), hash: try fields.string("hash"),
                  user: try fields.uint64("user"), reusable: try fields.bool("reusable"),
                  expiresAt: try fields.optionalInt64("expiresAt"), tags: try fields.strings("tags"),
                  createdAt: try fields.int64("createdAt"), revoked: try fields.bool("revoked"),
                  useCount: try fields.uint64("useCount"))
    }
}

extension Node {
    var storedJSON: JSONValue {
        ["id": .number(JSONNumber(id)), "name": .string(name), "machineKey": .string(machineKey.base64),
         "nodeKey": .string(nodeKey.base64), "user": .number(JSONNumber(user)), "tags": JSONForms.strings(tags),
         "ipv4": .string(ipv4.description), "ipv6": .string(ipv6.description),
         "endpoints": JSONForms.endpoints(endpoints), "createdAt": .number(JSONNumber(createdAt)),
         "lastSeen": .number(JSONNumber(lastSeen)), "keyExpiry": JSONForms.integer(keyExpiry),
         "expiryDisabled": .bool(expiryDisabled), "expired": .bool(expired), "authKey": JSONForms.unsigned(authKey),
         "advertisedRoutes": JSONForms.prefixes(advertisedRoutes), "approvedRoutes": JSONForms.prefixes(approvedRoutes),
         "rejectedRoutes": JSONForms.prefixes(rejectedRoutes)]
    }

    init(stored fields: JSONFields) throws(RegistryError) {
        self.init(id: try fields.uint64("id"), name: try fields.string("name"), machineKey: try fields.key("machineKey"),
                  nodeKey: try fields.key("nodeKey"), user: try fields.uint64("user"), tags: try fields.strings("tags"),
                  ipv4: try fields.address("ipv4"), ipv6: try fields.address("ipv6"),
                  endpoints: try fields.endpoints("endpoints"), createdAt: try fields.int64("createdAt"),
                  lastSeen: try fields.int64("lastSeen"), keyExpiry: try fields.optionalInt64("keyExpiry"),
                  expiryDisabled: try fields.bool("expiryDisabled"), expired: try fields.bool("expired"),
                  authKey: try fields.optionalUInt64("authKey"),
                  advertisedRoutes: try fields.prefixesIfPresent("advertisedRoutes"),
                  approvedRoutes: try fields.prefixesIfPresent("approvedRoutes"),
                  rejectedRoutes: try fields.prefixesIfPresent("rejectedRoutes"))
    }
}
