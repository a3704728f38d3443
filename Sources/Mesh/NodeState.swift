import ControlProtocol
import IP
import JSON
import TernCrypto

/// What a node keeps across restarts (in `/var/lib/tern/node.state`, mode
/// 0600): its keys, where its coordination server is and which key it
/// pinned, and the last network map, so a reboot while the server is down
/// still brings the mesh up.
public struct NodeState: Equatable, Sendable {
    /// The file's format version (in its header).
    public static let formatVersion: UInt32 = 1

    /// The device's long-lived identity toward the coordination server.
    public var machineKey: PrivateKey
    /// The WireGuard key; replaced on logout.
    public var nodeKey: PrivateKey
    /// The coordination server ("http://host:port"), once `tern up` gave one.
    public var controlURL: String?
    /// The server's static key, pinned on first contact (or given).
    public var serverKey: PublicKey?
    /// The name the node asks for.
    public var hostname: String
    /// True once the server accepted this node (until logout).
    public var loggedIn: Bool
    /// True after `tern up`, false after `tern down`: whether to connect.
    public var wantRunning: Bool
    /// The last network map received.
    public var map: NetworkMap?
    /// LAN prefixes this node offers to route (`tern up --advertise-routes`).
    public var advertisedRoutes: [IPPrefix] = []
    /// Whether to use other routers' subnet routes (`tern up --accept-routes`).
    public var acceptRoutes = false
    /// Whether, as a subnet router, to masquerade mesh traffic into the LAN
    /// (`tern up --snat-subnet-routes`, on unless turned off).
    public var snatSubnetRoutes = true

    /// A fresh state with new keys.
    public init(machineKey: PrivateKey, nodeKey: PrivateKey, hostname: String) {
        self.machineKey = machineKey
        self.nodeKey = nodeKey
        self.hostname = hostname
        controlURL = nil
        serverKey = nil
        loggedIn = false
        wantRunning = false
        map = nil
    }

    /// The document stored on disk.
    public var json: JSONValue {
        var mapJSON: JSONValue = nil
        if let map { mapJSON = ServerMessage.map(map).json }
        return ["machineKey": .string(machineKey.base64), "nodeKey": .string(nodeKey.base64),
                "controlURL": controlURL.map { .string($0) } ?? nil,
                "serverKey": serverKey.map { .string($0.base64) } ?? nil,
                "hostname": .string(hostname), "loggedIn": .bool(loggedIn), "wantRunning": .bool(wantRunning),
                "advertisedRoutes": .array(advertisedRoutes.map { .string($0.description) }),
                "acceptRoutes": .bool(acceptRoutes), "snatSubnetRoutes": .bool(snatSubnetRoutes),
                "map": mapJSON]
    }

    /// Reads the stored document.
    public init(json: JSONValue) throws(ControlMessageError) {
        func privateKey(_ name: String) throws(ControlMessageError) -> PrivateKey {
            guard let text = json[name]?.string, let key = try? PrivateKey(base64: text) else {
                throw ControlMessageError(name + ": expected a base64 private key")
            }
            return key
        }
        guard let hostname = json["hostname"]?.string, let loggedIn = json["loggedIn"]?.bool,
              let wantRunning = json["wantRunning"]?.bool
        else { throw ControlMessageError("hostname, loggedIn and wantRunning are required") }
        self.init(machineKey: try privateKey("machineKey"), nodeKey: try privateKey("nodeKey"), hostname: hostname)
        self.loggedIn = loggedIn
        self.wantRunning = wantRunning
        if let url = json["controlURL"], !url.isNull {
            guard let text = url.string else { throw ControlMessageError("controlURL: expected a string") }
            controlURL = text
        }
        if let key = json["serverKey"], !key.isNull {
            guard let text = key.string, let parsed = try? PublicKey(base64: text) else {
                throw ControlMessageError("serverKey: expected a base64 public key")
            }
            serverKey = parsed
        }
        // Absent in files written before subnet routing: the defaults.
        if let routes = json["advertisedRoutes"] {
            guard let items = routes.array else { throw ControlMessageError("advertisedRoutes: expected an array") }
            for item in items {
                guard let text = item.string, let prefix = try? IPPrefix(text) else {
                    throw ControlMessageError("advertisedRoutes: expected prefixes")
                }
                advertisedRoutes.append(prefix)
            }
        }
        if let value = json["acceptRoutes"] {
            guard let flag = value.bool else { throw ControlMessageError("acceptRoutes: expected true or false") }
            acceptRoutes = flag
        }
        if let value = json["snatSubnetRoutes"] {
            guard let flag = value.bool else { throw ControlMessageError("snatSubnetRoutes: expected true or false") }
            snatSubnetRoutes = flag
        }
        if let stored = json["map"], !stored.isNull {
            guard case .map(let map) = try ServerMessage(json: stored) else { throw ControlMessageError("map: expected a map") }
            self.map = map
        }
    }
}
