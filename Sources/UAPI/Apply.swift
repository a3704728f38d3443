import IP
import TernCrypto
import WireGuard

/// What a successful `set` asks of the shell besides the Device changes: the
/// socket settings, which the Device does not own.
public struct SetResult: Equatable, Sendable {
    /// The listen port requested (the last `listen_port=`), if any: rebind the
    /// UDP socket. 0 asks for any free port.
    public var listenPort: UInt16?
    /// The fwmark requested (the last `fwmark=`), if any: set SO_MARK (0 clears).
    public var fwmark: UInt32?

    /// A result asking for the given socket changes.
    public init(listenPort: UInt16? = nil, fwmark: UInt32? = nil) {
        self.listenPort = listenPort
        self.fwmark = fwmark
    }

    /// True if the shell has socket work to do.
    public var changesSocket: Bool { listenPort != nil || fwmark != nil }

    /// `settings` with the requested values written in (the shell should then
    /// store the port actually bound, if it asked for port 0).
    public func applied(to settings: DeviceSettings) -> DeviceSettings {
        var settings = settings
        if let listenPort { settings.listenPort = listenPort }
        if let fwmark { settings.fwmark = fwmark }
        return settings
    }
}

extension SetRequest {
    /// Applies the request to `device` at monotonic time `now`, in request
    /// order, with wireguard-go's semantics (`device/uapi.go`):
    /// - `private_key`: set, or clear if it was all zero; a peer whose key is
    ///   the new public key is removed (`Device.setPrivateKey`);
    /// - `replace_peers`: remove every peer;
    /// - `public_key`: select that peer, creating it if absent; a key equal to
    ///   the device's own public key selects nothing and the lines of its
    ///   block are skipped;
    /// - `update_only`: if the selected peer was created by this block, remove
    ///   it again and skip the rest of the block; an existing peer is updated;
    /// - `remove`: remove the selected peer and skip the rest of the block;
    /// - `persistent_keepalive_interval`: turning it on (0 → N) queues a
    ///   keepalive, so the caller drains `Device.poll` afterwards;
    /// - `replace_allowed_ips` clears the peer's prefixes; `allowed_ip` moves a
    ///   prefix to the peer, and `-prefix` removes it if the peer owns it.
    ///
    /// The request was validated when parsed, so this cannot fail. Socket
    /// settings are returned, not applied.
    @discardableResult
    public func apply<R: RandomSource>(to device: Device<R>, now: UInt64) -> SetResult {
        var result = SetResult()
        // The peer the current block configures; nil before the first block,
        // for our own key, and after update_only / remove.
        var selected: PeerID?
        var created = false
        for operation in operations {
            switch operation {
            case .privateKey(let key):
                device.setPrivateKey(key)
            case .listenPort(let port):
                result.listenPort = port
            case .fwmark(let mark):
                result.fwmark = mark
            case .replacePeers:
                device.removeAllPeers()
            case .peer(let publicKey):
                if let identity = device.identity, identity.publicKey == publicKey {
                    selected = nil
                    created = false
                } else {
                    created = device.peer(for: publicKey) == nil
                    selected = device.addPeer(publicKey)
                }
            case .updateOnly:
                if created, let id = selected {
                    device.removePeer(id)
                    selected = nil
                }
            case .remove:
                if let id = selected { device.removePeer(id) }
                selected = nil
            case .presharedKey(let key):
                if let id = selected { device.setPresharedKey(id, key) }
            case .endpoint(let endpoint):
                if let id = selected { device.setEndpoint(id, endpoint) }
            case .persistentKeepalive(let seconds):
                if let id = selected { device.setPersistentKeepalive(id, seconds: seconds, now: now) }
            case .replaceAllowedIPs:
                if let id = selected { device.clearAllowedIPs(id) }
            case .addAllowedIP(let prefix):
                if let id = selected { device.addAllowedIP(id, prefix) }
            case .removeAllowedIP(let prefix):
                if let id = selected { device.removeAllowedIP(id, prefix) }
            }
        }
        return result
    }
}
