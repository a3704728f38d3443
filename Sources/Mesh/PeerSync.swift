import ControlProtocol
import IP
import TernCrypto
import WireGuard

/// Makes a WireGuard device's peers match a network map: peers added,
/// removed, and updated in place (allowed IPs, endpoint), so sessions with
/// unchanged peers survive every map change.
public enum PeerSync {
    /// What one sync did, for the log and the tests.
    public struct Changes: Equatable, Sendable {
        /// Peers added.
        public var added = 0
        /// Peers removed.
        public var removed = 0
        /// Peers whose allowed IPs or endpoint changed.
        public var updated = 0

        /// No changes.
        public init() {}

        /// True if nothing changed.
        public var isEmpty: Bool { added == 0 && removed == 0 && updated == 0 }
    }

    /// What applying `new` after `old` changes, judged from the views alone
    /// (for the log: the device applies them with `apply`).
    public static func changes(from old: [NodeView], to new: [NodeView]) -> Changes {
        var before: [PublicKey: NodeView] = [:]
        for view in old { before[view.nodeKey] = view }
        var changes = Changes()
        for view in new {
            guard let previous = before.removeValue(forKey: view.nodeKey) else {
                changes.added += 1
                continue
            }
            if Set(previous.allowedIPs) != Set(view.allowedIPs) || previous.endpoints != view.endpoints { changes.updated += 1 }
        }
        changes.removed = before.count
        return changes
    }

    /// Applies `peers` to `device`. A peer's endpoint comes from the map
    /// until a handshake with it has completed; from then on the address it
    /// was last heard from wins (roaming), as in WireGuard.
    @discardableResult
    public static func apply<R: RandomSource>(_ peers: [NodeView], to device: Device<R>, now: UInt64) -> Changes {
        var changes = Changes()
        var wanted = Set<PublicKey>()
        for view in peers { wanted.insert(view.nodeKey) }
        for peer in device.peers where !wanted.contains(peer.publicKey) {
            device.removePeer(peer.id)
            changes.removed += 1
        }
        for view in peers {
            let existing = device.peer(for: view.nodeKey)
            guard let id = existing?.id ?? device.addPeer(view.nodeKey) else { continue }   // our own key
            var updated = false
            let current = device.allowedIPs(of: id)
            if Set(current) != Set(view.allowedIPs) {
                device.clearAllowedIPs(id)
                for prefix in view.allowedIPs { device.addAllowedIP(id, prefix) }
                updated = true
            }
            if let first = view.endpoints.first {
                let peer = device.peer(id)
                let reported = peer?.endpoint?.udp.map { view.endpoints.contains($0) } ?? false
                if peer?.endpoint == nil || (peer?.lastHandshake == nil && !reported) {
                    device.setEndpoint(id, first)
                    updated = true
                }
            }
            if existing == nil { changes.added += 1 } else if updated { changes.updated += 1 }
        }
        return changes
    }
}
