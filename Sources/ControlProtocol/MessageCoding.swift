import IP
import JSON
import TernCrypto

// JSON forms of the control messages: one object per message with a "type"
// member, keys and addresses as the strings `wg` and `ip` print.

extension NodeMessage {
    /// The JSON document for this message.
    public var json: JSONValue {
        switch self {
        case .login(let request):
            var credential: JSONValue = nil
            if case .preAuthKey(let key) = request.credential { credential = ["preAuthKey": .string(key)] }
            return ["type": "login", "nodeKey": .string(request.nodeKey.base64), "hostname": .string(request.hostname),
                    "credential": credential, "endpoints": endpointsJSON(request.endpoints),
                    "mapVersion": .number(JSONNumber(request.mapVersion)), "routes": prefixesJSON(request.advertisedRoutes)]
        case .endpoints(let endpoints):
            return ["type": "endpoints", "endpoints": endpointsJSON(endpoints)]
        case .logout:
            return ["type": "logout"]
        case .ping(let number):
            return ["type": "ping", "number": .number(JSONNumber(number))]
        }
    }

    /// Reads a message from its JSON document.
    public init(json: JSONValue) throws(ControlMessageError) {
        let reader = Fields(json)
        switch try reader.string("type") {
        case "login":
            var credential = LoginCredential.none
            if let value = json["credential"], !value.isNull {
                let key = try Fields(value).string("preAuthKey")
                guard key.utf8.count <= MessageLimits.maximumPreAuthKeyBytes else {
                    throw ControlMessageError("preAuthKey longer than " + String(MessageLimits.maximumPreAuthKeyBytes) + " bytes")
                }
                credential = .preAuthKey(key)
            }
            let hostname = try reader.string("hostname")
            guard hostname.utf8.count <= MessageLimits.maximumHostnameBytes else {
                throw ControlMessageError("hostname longer than " + String(MessageLimits.maximumHostnameBytes) + " bytes")
            }
            self = .login(LoginRequest(nodeKey: try reader.key("nodeKey"), hostname: hostname, credential: credential,
                                       endpoints: try reader.endpoints("endpoints", atMost: MessageLimits.maximumEndpoints),
                                       mapVersion: try reader.uint64("mapVersion"),
                                       advertisedRoutes: try reader.optionalPrefixes("routes", atMost: MessageLimits.maximumAdvertisedRoutes)))
        case "endpoints":
            self = .endpoints(try reader.endpoints("endpoints", atMost: MessageLimits.maximumEndpoints))
        case "logout":
            self = .logout
        case "ping":
            self = .ping(try reader.uint64("number"))
        case let other:
            throw ControlMessageError("unknown node message type '" + other + "'")
        }
    }
}

extension ServerMessage {
    /// The JSON document for this message.
    public var json: JSONValue {
        switch self {
        case .map(let map):
            return ["type": "map", "version": .number(JSONNumber(map.version)),
                    "ipv4Range": .string(map.ipv4Range.description), "ipv6Range": .string(map.ipv6Range.description),
                    "node": map.node.json, "peers": .array(map.peers.map { $0.json }),
                    "packetFilter": map.packetFilter.json]
        case .delta(let delta):
            var object: JSONObject = ["type": "delta", "version": .number(JSONNumber(delta.version)),
                                      "baseVersion": .number(JSONNumber(delta.baseVersion)),
                                      "node": delta.node?.json ?? nil, "upserted": .array(delta.upserted.map { $0.json }),
                                      "removed": .array(delta.removed.map { .number(JSONNumber($0)) })]
            // Absent: unchanged; null: allow all; an array: these rules.
            if let filter = delta.packetFilter { object.insert("packetFilter", filter.json) }
            return .object(object)
        case .pong(let number):
            return ["type": "pong", "number": .number(JSONNumber(number))]
        case .failure(let failure):
            return ["type": "failure", "code": .string(failure.code.rawValue), "message": .string(failure.message)]
        case .loggedOut:
            return ["type": "loggedOut"]
        }
    }

    /// Reads a message from its JSON document.
    public init(json: JSONValue) throws(ControlMessageError) {
        let reader = Fields(json)
        switch try reader.string("type") {
        case "map":
            self = .map(NetworkMap(version: try reader.uint64("version"), ipv4Range: try reader.prefix("ipv4Range"),
                                   ipv6Range: try reader.prefix("ipv6Range"), node: try NodeView(json: reader.value("node")),
                                   peers: try reader.array("peers") { value throws(ControlMessageError) in try NodeView(json: value) },
                                   packetFilter: try FilterSetting(json: json["packetFilter"] ?? nil)))
        case "delta":
            var node: NodeView? = nil
            if let value = json["node"], !value.isNull { node = try NodeView(json: value) }
            self = .delta(MapDelta(version: try reader.uint64("version"), baseVersion: try reader.uint64("baseVersion"),
                                   node: node,
                                   upserted: try reader.array("upserted") { value throws(ControlMessageError) in try NodeView(json: value) },
                                   removed: try reader.array("removed") { value throws(ControlMessageError) in
                                       guard let id = value.uint64 else { throw ControlMessageError("removed: expected node ids") }
                                       return id
                                   },
                                   packetFilter: try json["packetFilter"].map { value throws(ControlMessageError) in
                                       try FilterSetting(json: value)
                                   }))
        case "pong":
            self = .pong(try reader.uint64("number"))
        case "failure":
            let code = try reader.string("code")
            self = .failure(ControlFailure(ControlFailure.Code(rawValue: code) ?? .internalError, try reader.string("message")))
        case "loggedOut":
            self = .loggedOut
        case let other:
            throw ControlMessageError("unknown server message type '" + other + "'")
        }
    }
}

extension NodeView {
    /// The JSON object for this node.
    public var json: JSONValue {
        ["id": .number(JSONNumber(id)), "name": .string(name), "nodeKey": .string(nodeKey.base64),
         "addresses": prefixesJSON(addresses), "allowedIPs": prefixesJSON(allowedIPs),
         "routes": prefixesJSON(routes), "primaryRoutes": prefixesJSON(primaryRoutes),
         "endpoints": endpointsJSON(endpoints), "keyExpiry": keyExpiry.map { .number(JSONNumber($0)) } ?? nil,
         "online": .bool(online), "user": .string(user), "tags": .array(tags.map { .string($0) })]
    }

    /// Reads a node from its JSON object.
    public init(json: JSONValue) throws(ControlMessageError) {
        let reader = Fields(json)
        var expiry: Int64? = nil
        if let value = json["keyExpiry"], !value.isNull {
            guard let seconds = value.int64 else { throw ControlMessageError("keyExpiry: expected Unix seconds") }
            expiry = seconds
        }
        guard let online = json["online"]?.bool else { throw ControlMessageError("online: expected true or false") }
        self.init(id: try reader.uint64("id"), name: try reader.string("name"), nodeKey: try reader.key("nodeKey"),
                  addresses: try reader.prefixes("addresses"), allowedIPs: try reader.prefixes("allowedIPs"),
                  routes: try reader.optionalPrefixes("routes"), primaryRoutes: try reader.optionalPrefixes("primaryRoutes"),
                  endpoints: try reader.endpoints("endpoints"), keyExpiry: expiry, online: online,
                  user: try reader.string("user"),
                  tags: try reader.array("tags") { value throws(ControlMessageError) in
                      guard let tag = value.string else { throw ControlMessageError("tags: expected strings") }
                      return tag
                  })
    }
}

extension FilterSetting {
    /// `null` for allow-all, else the array of rules.
    public var json: JSONValue {
        switch self {
        case .allowAll: return nil
        case .rules(let rules): return .array(rules.map { $0.json })
        }
    }

    /// Reads `null` (allow all) or an array of rules.
    public init(json: JSONValue) throws(ControlMessageError) {
        if json.isNull { self = .allowAll; return }
        guard let values = json.array else { throw ControlMessageError("packetFilter: expected null or an array of rules") }
        var rules: [FilterRule] = []
        for value in values { rules.append(try FilterRule(json: value)) }
        self = .rules(rules)
    }
}

private func endpointsJSON(_ endpoints: [Endpoint]) -> JSONValue { .array(endpoints.map { .string($0.description) }) }
private func prefixesJSON(_ prefixes: [IPPrefix]) -> JSONValue { .array(prefixes.map { .string($0.description) }) }

/// Typed access to the members of a message object, with errors that name the member.
struct Fields {
    let object: JSONValue

    init(_ object: JSONValue) { self.object = object }

    func value(_ name: String) throws(ControlMessageError) -> JSONValue {
        guard object.object != nil else { throw ControlMessageError("expected an object") }
        guard let value = object[name] else { throw ControlMessageError("missing member '" + name + "'") }
        return value
    }

    func string(_ name: String) throws(ControlMessageError) -> String {
        guard let text = try value(name).string else { throw ControlMessageError(name + ": expected a string") }
        return text
    }

    func uint64(_ name: String) throws(ControlMessageError) -> UInt64 {
        guard let number = try value(name).uint64 else { throw ControlMessageError(name + ": expected an unsigned integer") }
        return number
    }

    func key(_ name: String) throws(ControlMessageError) -> PublicKey {
        let text = try string(name)
        do { return try PublicKey(base64: text) } catch { throw ControlMessageError(name + ": not a base64 public key") }
    }

    func prefix(_ name: String) throws(ControlMessageError) -> IPPrefix {
        let text = try string(name)
        do { return try IPPrefix(text) } catch { throw ControlMessageError(name + ": '" + text + "' is not a prefix") }
    }

    /// The array `name`, each element read by `element`; longer than
    /// `maximumCount` is an error, found before any element is read.
    func array<T>(_ name: String, atMost maximumCount: Int = Int.max,
                  _ element: (JSONValue) throws(ControlMessageError) -> T) throws(ControlMessageError) -> [T] {
        guard let values = try value(name).array else { throw ControlMessageError(name + ": expected an array") }
        guard values.count <= maximumCount else {
            throw ControlMessageError(name + ": more than " + String(maximumCount) + " entries")
        }
        var result: [T] = []
        result.reserveCapacity(values.count)
        for value in values { result.append(try element(value)) }
        return result
    }

    func prefixes(_ name: String, atMost maximumCount: Int = Int.max) throws(ControlMessageError) -> [IPPrefix] {
        try array(name, atMost: maximumCount) { value throws(ControlMessageError) in
            guard let text = value.string, let prefix = try? IPPrefix(text) else {
                throw ControlMessageError(name + ": expected prefixes like 100.64.0.1/32")
            }
            return prefix
        }
    }

    /// `prefixes(name)`, or none when the member is absent (older peers do not send it).
    func optionalPrefixes(_ name: String, atMost maximumCount: Int = Int.max) throws(ControlMessageError) -> [IPPrefix] {
        object[name] == nil ? [] : try prefixes(name, atMost: maximumCount)
    }

    func endpoints(_ name: String, atMost maximumCount: Int = Int.max) throws(ControlMessageError) -> [Endpoint] {
        try array(name, atMost: maximumCount) { value throws(ControlMessageError) in
            guard let text = value.string, let endpoint = try? Endpoint(text) else {
                throw ControlMessageError(name + ": expected endpoints like 192.0.2.1:41641 or [2001:db8::1]:41641")
            }
            return endpoint
        }
    }
}
