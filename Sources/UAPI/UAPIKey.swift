/// A key of the `set` grammar (spec digest §9).
public enum UAPIKey: Equatable, Sendable, CaseIterable {
    /// `private_key=<hex64>` (device).
    case privateKey
    /// `listen_port=<u16>` (device).
    case listenPort
    /// `fwmark=<u32>` (device).
    case fwmark
    /// `replace_peers=true` (device).
    case replacePeers
    /// `public_key=<hex64>`: starts a peer block.
    case publicKey
    /// `update_only=true` (peer).
    case updateOnly
    /// `remove=true` (peer).
    case remove
    /// `preshared_key=<hex64>` (peer).
    case presharedKey
    /// `endpoint=<a.b.c.d:port | [v6]:port>` (peer).
    case endpoint
    /// `persistent_keepalive_interval=<0...65535>` (peer).
    case persistentKeepaliveInterval
    /// `replace_allowed_ips=true` (peer).
    case replaceAllowedIPs
    /// `allowed_ip=[-]<ip>/<cidr>` (peer).
    case allowedIP
    /// `protocol_version=1` (peer).
    case protocolVersion

    /// The key as it is spelled on the wire.
    public var name: String {
        String(decoding: UnsafeBufferPointer(start: spelling.utf8Start, count: spelling.utf8CodeUnitCount),
               as: UTF8.self)
    }

    /// The key as it is spelled on the wire, without allocating.
    var spelling: StaticString {
        switch self {
        case .privateKey: return "private_key"
        case .listenPort: return "listen_port"
        case .fwmark: return "fwmark"
        case .replacePeers: return "replace_peers"
        case .publicKey: return "public_key"
        case .updateOnly: return "update_only"
        case .remove: return "remove"
        case .presharedKey: return "preshared_key"
        case .endpoint: return "endpoint"
        case .persistentKeepaliveInterval: return "persistent_keepalive_interval"
        case .replaceAllowedIPs: return "replace_allowed_ips"
        case .allowedIP: return "allowed_ip"
        case .protocolVersion: return "protocol_version"
        }
    }

    /// True for the keys allowed before the first `public_key=`.
    var isDeviceKey: Bool {
        switch self {
        case .privateKey, .listenPort, .fwmark, .replacePeers: return true
        default: return false
        }
    }
}
