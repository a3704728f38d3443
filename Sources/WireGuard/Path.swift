import IP

/// Where a WireGuard datagram goes to, or came from: the address the
/// transmit path takes and the deliver path reports.
///
/// A UDP endpoint is WireGuard's own transport. A relay carries datagrams
/// over a stream, addressed by the peer's public key, so its path names only
/// the relay (by region); which peer a datagram is for comes with the action.
public enum Path: Hashable, Sendable, CustomStringConvertible {
    /// A UDP datagram to or from this address and port.
    case udp(Endpoint)
    /// A datagram carried by the relay of `region`.
    case relay(region: UInt16)

    /// The UDP endpoint, if this path is one.
    public var udp: Endpoint? {
        if case .udp(let endpoint) = self { return endpoint }
        return nil
    }

    /// "192.0.2.1:51820", "[2001:db8::1]:51820" or "relay:7".
    public var description: String {
        switch self {
        case .udp(let endpoint): return endpoint.description
        case .relay(let region): return "relay:" + String(region)
        }
    }
}

/// Who decides where a peer's datagrams go.
public enum Roaming: Sendable {
    /// WireGuard's rule: the source of the latest authenticated datagram
    /// from the peer becomes its endpoint (plain `--wg` mode).
    case followSource
    /// Only `setEndpoint` moves a peer: an engine above the core selects the
    /// path (mesh mode). `Peer.lastSource` still reports where it was heard.
    case pinned
}
