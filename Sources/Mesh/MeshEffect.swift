import ControlProtocol
import IP
import JSON
import Logging
import TernCrypto
import Time

/// The two clocks a mesh engine decides with: monotonic time for timers,
/// and the wall clock for key expiry and handshake timestamps. The shell
/// reads both once per turn; tests move them by hand.
public struct MeshTime: Sendable {
    /// Time for deadlines and intervals.
    public var monotonic: MonotonicInstant
    /// Unix time in nanoseconds.
    public var wallNanoseconds: Int64

    /// A time with both clocks.
    public init(monotonic: MonotonicInstant, wallNanoseconds: Int64) {
        self.monotonic = monotonic
        self.wallNanoseconds = wallNanoseconds
    }

    /// The wall clock in whole seconds.
    public var wall: WallClockTime { WallClockTime(seconds: wallNanoseconds / 1_000_000_000) }

    /// The wall clock as a handshake timestamp.
    public var timestamp: TAI64N {
        TAI64N(unixSeconds: wallNanoseconds / 1_000_000_000, nanoseconds: UInt32(wallNanoseconds % 1_000_000_000))
    }

    /// Both clocks moved on by `interval`.
    public static func + (time: MeshTime, interval: Interval) -> MeshTime {
        MeshTime(monotonic: time.monotonic + interval, wallNanoseconds: time.wallNanoseconds + Int64(interval.nanoseconds))
    }
}

/// What the host's network looks like to the engine: where peers may
/// reach this node and which LANs it is directly on. The shell reads it
/// from netlink and passes it in whenever it may have changed.
public struct HostFacts: Equatable, Sendable {
    /// Global addresses of every interface but the mesh's and loopback.
    public var globalAddresses: [IPAddress]
    /// The networks of those addresses.
    public var localNetworks: [LocalNetwork]
    /// The WireGuard UDP port.
    public var listenPort: UInt16

    /// Facts as read.
    public init(globalAddresses: [IPAddress] = [], localNetworks: [LocalNetwork] = [], listenPort: UInt16 = 0) {
        self.globalAddresses = globalAddresses
        self.localNetworks = localNetworks
        self.listenPort = listenPort
    }
}

/// The host network configuration the engine wants for the mesh
/// interface; the shell turns it into netlink and nftables changes.
public struct MeshHostPlan: Equatable, Sendable {
    /// The node's own mesh addresses (with the mesh's prefix length).
    public var addresses: [IPPrefix]
    /// Destinations routed into the mesh interface.
    public var routes: [IPPrefix]
    /// LAN prefixes this node routes for the mesh (a subnet router).
    public var subnetRoutes: [IPPrefix]
    /// Masquerade mesh traffic leaving toward `subnetRoutes`.
    public var masquerade: Bool

    /// A plan.
    public init(addresses: [IPPrefix], routes: [IPPrefix], subnetRoutes: [IPPrefix], masquerade: Bool) {
        self.addresses = addresses
        self.routes = routes
        self.subnetRoutes = subnetRoutes
        self.masquerade = masquerade
    }
}

/// Names one local API request whose answer the engine deferred.
public typealias MeshRequestID = UInt64

/// One local API request (`tern` over the Unix socket), as the engine sees it.
public struct MeshRequest: Sendable {
    /// What `MeshEffect.respond` names when the answer comes later.
    public var id: MeshRequestID
    /// `GET` or `POST`.
    public var method: String
    /// Such as `/v1/status`.
    public var path: String
    /// The JSON body (`null` without one).
    public var body: JSONValue

    /// A request.
    public init(id: MeshRequestID, method: String, path: String, body: JSONValue = nil) {
        self.id = id
        self.method = method
        self.path = path
        self.body = body
    }
}

/// The engine's answer to a local API request.
public enum MeshAnswer: Equatable, Sendable {
    /// Answer now.
    case respond(status: Int, body: JSONValue)
    /// A `MeshEffect.respond` for this request follows later.
    case deferred

    /// `200 OK` with `body`.
    static func ok(_ body: JSONValue) -> MeshAnswer { .respond(status: 200, body: body) }

    /// `{"error": message, "code": code}` with `status`.
    static func error(status: Int, message: String, code: String) -> MeshAnswer {
        .respond(status: status, body: errorBody(message, code: code))
    }

    /// The local API's error document.
    static func errorBody(_ message: String, code: String) -> JSONValue {
        ["error": .string(message), "code": .string(code)]
    }
}

/// What the shell must do for the engine, in order.
public enum MeshEffect: Equatable, Sendable {
    /// Open a TCP connection to the coordination server at `url` (looking
    /// its name up without blocking the loop), then report
    /// `controlConnected`, or `controlFailed` with the reason.
    case connectControl(ControlURL)
    /// Write these bytes to the control connection; report
    /// `controlFailed` if they cannot be queued.
    case writeControl([UInt8])
    /// Close the control connection (and drop a lookup under way).
    case closeControl
    /// Use this WireGuard private key.
    case setNodeKey(PrivateKey)
    /// Make the WireGuard peers match these (`PeerSync`).
    case syncPeers([NodeView])
    /// Remove every WireGuard peer.
    case removeAllPeers
    /// What the mesh may send in, and which destinations are this node's.
    case setFilter(FilterSetting, localPrefixes: [IPPrefix])
    /// Bring the host's network to this plan for the mesh interface.
    case configureHost(MeshHostPlan)
    /// Undo the host configuration (routes, nftables table).
    case removeHostConfiguration
    /// Send this IP packet into the tunnel (a `tern ping` probe).
    case inject([UInt8])
    /// Write the state file with this content.
    case writeState(NodeState)
    /// Answer a deferred local API request.
    case respond(MeshRequestID, status: Int, body: JSONValue)
    /// Print a log line.
    case log(LogLine)
}

/// What the engine reads from the running data plane for `tern status`
/// and `tern ping`: observations only, never changes.
public protocol MeshObserver: AnyObject {
    /// The WireGuard peer with this key, if the device has one.
    func peer(_ key: PublicKey) -> PeerObservation?
    /// The packet filter's counters, as `tern status` shows them.
    var filterStatus: JSONValue { get }
}

/// One WireGuard peer as the data plane sees it.
public struct PeerObservation: Equatable, Sendable {
    /// Where its packets go now ("192.0.2.1:41641"), if anywhere.
    public var endpoint: String?
    /// The last completed handshake, Unix seconds.
    public var lastHandshake: Int64?
    /// Bytes received from and sent to it.
    public var receivedBytes: UInt64
    public var sentBytes: UInt64
    /// The prefixes routed to it.
    public var allowedIPs: [IPPrefix]

    /// An observation.
    public init(endpoint: String?, lastHandshake: Int64?, receivedBytes: UInt64, sentBytes: UInt64, allowedIPs: [IPPrefix]) {
        self.endpoint = endpoint
        self.lastHandshake = lastHandshake
        self.receivedBytes = receivedBytes
        self.sentBytes = sentBytes
        self.allowedIPs = allowedIPs
    }
}
