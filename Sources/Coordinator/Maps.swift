import ControlProtocol
import IP

/// Decides which peers a node sees: the seam where the policy compiler will
/// plug in. The default, `all`, lets every node see every other node.
public struct PeerVisibility {
    private let decide: (_ viewer: Node, _ peer: Node) -> Bool

    /// Visibility decided by `decide(viewer, peer)`; it must be symmetric
    /// if both nodes are to talk, and must depend only on the two nodes.
    public init(_ decide: @escaping (_ viewer: Node, _ peer: Node) -> Bool) {
        self.decide = decide
    }

    /// Every node sees every other node.
    public static var all: PeerVisibility { PeerVisibility { _, _ in true } }

    /// Whether `viewer` sees `peer` (never itself).
    public func sees(_ viewer: Node, _ peer: Node) -> Bool {
        viewer.id != peer.id && decide(viewer, peer)
    }
}

extension Registry {
    /// How `node` appears in maps (to itself and to peers): its addresses
    /// as /32 and /128; its allowed IPs, which add the routes it is primary
    /// for; and all its enabled routes.
    public func view(of node: Node) -> NodeView {
        let addresses = [hostPrefix(node.ipv4), hostPrefix(node.ipv6)]
        let primary = primaryRoutes(of: node.id)
        return NodeView(id: node.id, name: node.name, nodeKey: node.nodeKey, addresses: addresses,
                        allowedIPs: addresses + primary, routes: enabledRoutes(of: node), primaryRoutes: primary,
                        endpoints: node.endpoints, keyExpiry: node.effectiveKeyExpiry, online: onlineNodes.contains(node.id),
                        user: userName(node.user), tags: node.tags)
    }

    /// Whether the node appears in maps: registered and not expired.
    public func isMapped(_ nodeID: UInt64) -> Bool {
        guard let node = nodesByID[nodeID] else { return false }
        return !node.expired
    }

    /// The full map for `nodeID` at `version`: the node itself and every
    /// mapped node it sees, by id. Nil if the node is deleted or expired.
    public func map(for nodeID: UInt64, version: UInt64, visibility: PeerVisibility = .all) -> NetworkMap? {
        guard let node = nodesByID[nodeID], !node.expired else { return nil }
        var peers: [NodeView] = []
        for id in nodeOrder where id != nodeID {
            let peer = nodesByID[id]!
            if !peer.expired && visibility.sees(node, peer) { peers.append(view(of: peer)) }
        }
        return NetworkMap(version: version, ipv4Range: settings.ipv4Range, ipv6Range: settings.ipv6Range,
                          node: view(of: node), peers: peers)
    }

    /// Why `nodeID` has no map: the failure that ends its session.
    public func unmappedReason(_ nodeID: UInt64) -> ControlFailure {
        guard let node = nodesByID[nodeID] else {
            return ControlFailure(.nodeDeleted, "this node was deleted: log in again with a pre-auth key")
        }
        return ControlFailure(.nodeKeyExpired, "the node key of " + node.name + " expired: log in again with a pre-auth key")
    }
}

/// `address` as a single-host prefix.
func hostPrefix(_ address: IPAddress) -> IPPrefix {
    // A full-length prefix is always valid.
    try! IPPrefix(address, length: address.bitWidth)
}
