import JSON

/// The status document `ternd` answers `GET /v1/status` (and a successful
/// `POST /v1/up`) with, read leniently: a field that is missing or of the
/// wrong type takes its empty value, so an older or newer daemon still
/// prints. Only `state` is required.
///
/// ```
/// {"state": "Running"|"NeedsLogin"|"Stopped"|"Starting", "controlURL": str|null,
///  "controlConnected": bool, "health": [str], "mapVersion": int,
///  "self": {"id","name","nodeKey","addresses","endpoints","keyExpiry","user","tags",
///           "advertisedRoutes","routes","primaryRoutes"} | null,
///  "peers": [{"id","name","nodeKey","addresses","allowedIPs","routes","primaryRoutes","endpoints",
///             "endpoint","online","lastHandshake","rxBytes","txBytes","keyExpiry"}],
///  "acceptRoutes": bool, "snatSubnetRoutes": bool,
///  "skippedRoutes": [{"prefix","router","reason"}], "filter": {...}}
/// ```
public struct StatusDocument: Equatable {
    /// This node, as the daemon knows it once logged in.
    public struct SelfNode: Equatable {
        /// The node's stable id (a number's text if the daemon sent a number).
        public var id: String
        /// The node's name in the mesh.
        public var name: String
        /// The WireGuard public key, base64.
        public var nodeKey: String
        /// Mesh addresses (IPv4 first, usually), maybe with a `/bits` suffix.
        public var addresses: [String]
        /// Where peers can reach this node (`ip:port`).
        public var endpoints: [String]
        /// When the node key expires, Unix seconds; nil if never.
        public var keyExpiry: Int64?
        /// The owning user.
        public var user: String
        /// ACL tags.
        public var tags: [String]
        /// The LAN prefixes this node offers to route.
        public var advertisedRoutes: [String] = []
        /// Those of them that are approved.
        public var routes: [String] = []
        /// The approved ones clients route through this node (the others stand by).
        public var primaryRoutes: [String] = []
    }

    /// One peer in the network map.
    public struct Peer: Equatable {
        /// The peer's stable id (a number's text if the daemon sent a number).
        public var id: String
        /// The peer's name in the mesh.
        public var name: String
        /// The peer's WireGuard public key, base64.
        public var nodeKey: String
        /// The peer's mesh addresses.
        public var addresses: [String]
        /// The prefixes routed to the peer (its addresses, subnet routes).
        public var allowedIPs: [String]
        /// Its approved subnet routes, primary or standby.
        public var routes: [String] = []
        /// The subnet routes it is the primary router for.
        public var primaryRoutes: [String] = []
        /// Every endpoint the peer advertised.
        public var endpoints: [String]
        /// The endpoint in use now, or nil (none yet, or relayed).
        public var endpoint: String?
        /// Whether control sees the peer online.
        public var online: Bool
        /// The latest completed handshake, Unix seconds; nil if none.
        public var lastHandshake: Int64?
        /// Bytes received from the peer.
        public var rxBytes: Int64
        /// Bytes sent to the peer.
        public var txBytes: Int64
        /// When the peer's key expires, Unix seconds; nil if never.
        public var keyExpiry: Int64?
    }

    /// `Running`, `NeedsLogin`, `Stopped` or `Starting` (shown as is).
    public var state: String
    /// The coordination server's URL, or nil before the first login.
    public var controlURL: String?
    /// Whether the control connection is up.
    public var controlConnected: Bool
    /// Health warnings, one sentence each.
    public var health: [String]
    /// The version of the network map in use.
    public var mapVersion: Int64
    /// This node, or nil when not logged in.
    public var selfNode: SelfNode?
    /// The peers, in the daemon's order.
    public var peers: [Peer]

    /// Reads `json`; nil unless it is an object with a string `state`.
    public init?(json: JSONValue) {
        guard json.object != nil, let state = json["state"]?.string else { return nil }
        self.state = state
        controlURL = json["controlURL"]?.string
        controlConnected = json["controlConnected"]?.bool ?? false
        health = StatusDocument.strings(json["health"])
        mapVersion = json["mapVersion"]?.int64 ?? 0
        if let node = json["self"], node.object != nil {
            selfNode = SelfNode(id: StatusDocument.text(node["id"]), name: node["name"]?.string ?? "",
                                nodeKey: node["nodeKey"]?.string ?? "",
                                addresses: StatusDocument.strings(node["addresses"]),
                                endpoints: StatusDocument.strings(node["endpoints"]),
                                keyExpiry: node["keyExpiry"]?.int64, user: node["user"]?.string ?? "",
                                tags: StatusDocument.strings(node["tags"]),
                                advertisedRoutes: StatusDocument.strings(node["advertisedRoutes"]),
                                routes: StatusDocument.strings(node["routes"]),
                                primaryRoutes: StatusDocument.strings(node["primaryRoutes"]))
        } else {
            selfNode = nil
        }
        var peers: [Peer] = []
        for peer in json["peers"]?.array ?? [] where peer.object != nil {
            peers.append(Peer(id: StatusDocument.text(peer["id"]), name: peer["name"]?.string ?? "",
                              nodeKey: peer["nodeKey"]?.string ?? "",
                              addresses: StatusDocument.strings(peer["addresses"]),
                              allowedIPs: StatusDocument.strings(peer["allowedIPs"]),
                              routes: StatusDocument.strings(peer["routes"]),
                              primaryRoutes: StatusDocument.strings(peer["primaryRoutes"]),
                              endpoints: StatusDocument.strings(peer["endpoints"]),
                              endpoint: peer["endpoint"]?.string, online: peer["online"]?.bool ?? false,
                              lastHandshake: peer["lastHandshake"]?.int64,
                              rxBytes: peer["rxBytes"]?.int64 ?? 0, txBytes: peer["txBytes"]?.int64 ?? 0,
                              keyExpiry: peer["keyExpiry"]?.int64))
        }
        self.peers = peers
    }

    /// The peer called `name` — exactly, or by the first label of its
    /// name (`laptop` for `laptop.mesh.example`) — or whose address is
    /// `name`; nil if none.
    public func peer(named name: String) -> Peer? {
        for peer in peers where peer.name == name { return peer }
        for peer in peers where MeshAddress.firstLabel(of: peer.name) == name { return peer }
        for peer in peers where peer.addresses.contains(where: { MeshAddress.bare($0) == name }) { return peer }
        return nil
    }

    /// A string, or a number's text (ids may be either); empty otherwise.
    private static func text(_ value: JSONValue?) -> String {
        if let string = value?.string { return string }
        return value?.number?.text ?? ""
    }

    /// The strings of a JSON array (other elements skipped); empty if not an array.
    private static func strings(_ value: JSONValue?) -> [String] {
        var result: [String] = []
        for element in value?.array ?? [] {
            if let text = element.string { result.append(text) }
        }
        return result
    }
}
