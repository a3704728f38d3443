import ControlProtocol

/// One message for one connected node.
public struct MapMessage: Equatable, Sendable {
    /// The node to send it to.
    public var nodeID: UInt64
    /// `.map`, `.delta`, or `.failure` (the session must end: the node was
    /// deleted or its key expired).
    public var message: ServerMessage

    /// A message for `nodeID`.
    public init(nodeID: UInt64, message: ServerMessage) {
        self.nodeID = nodeID
        self.message = message
    }
}

/// Remembers what every connected node was sent and turns registry changes
/// into the smallest update per node: a delta with only the peers that
/// changed, appeared or left (and the node itself if it changed), or a full
/// map when the delta would not be smaller. Each message raises the node's
/// map version by one.
///
/// Cost: a node's view is computed once per change, not once per receiver;
/// each connected node then costs a visibility check and a dictionary
/// lookup per changed node (one node joining a mesh of n connected nodes is
/// O(n) work in all). Per connected node the tracker keeps a small integer
/// per peer, not the peers' views: views are kept once, in a shared cache,
/// each with a revision number that changes when the view does.
///
/// The cache is exact only if every operation's `changedNodes` reaches
/// `update` (views of nodes the tracker has not seen are computed on demand).
///
/// Use, for a login: `registry.login` → commit its records → `setOnline`
/// (true) → `connect` (send the map) → `update` with the changed nodes of
/// both (peers get deltas; the new session is already current). After any
/// other operation: commit, then `update`. On disconnect or logout:
/// `disconnect` first, then the registry operation and `update`.
public struct MapTracker {
    /// Which peers each node sees (the policy seam). Change it with
    /// `setVisibility`, which resends what changed.
    public private(set) var visibility: PeerVisibility
    /// Each node's packet filter (the policy's other half); set with `setVisibility`.
    public private(set) var filters: (UInt64) -> FilterSetting = { _ in .allowAll }

    /// What one connected node holds.
    struct Session {
        var version: UInt64
        var selfRevision: UInt64
        var filter: FilterSetting
        /// Peer id → revision of the peer's view the node holds.
        var peers: [UInt64: UInt64]
    }

    /// A node's view as last computed, with its revision.
    struct CachedView {
        var view: NodeView
        var revision: UInt64
    }

    var sessions: [UInt64: Session] = [:]
    var cache: [UInt64: CachedView] = [:]
    private var nextRevision: UInt64 = 1

    /// The highest map version a node may say it holds and have counted on
    /// from: 2^62 leaves more versions to go than a server will ever send.
    public static let highestHeldVersion: UInt64 = 1 << 62

    /// A tracker with no connected nodes.
    public init(visibility: PeerVisibility = .all) {
        self.visibility = visibility
    }

    /// Ids of the connected nodes, in order.
    public var connectedNodes: [UInt64] { sessions.keys.sorted() }

    /// The map version the connected node holds, or nil if it is not connected.
    public func version(of nodeID: UInt64) -> UInt64? { sessions[nodeID]?.version }

    /// Starts tracking a node that just logged in and returns its full map,
    /// versioned above `heldVersion` (the version the node says it holds) so
    /// versions keep growing across reconnects; `.failure` if the node has
    /// no map (deleted or expired).
    public mutating func connect(nodeID: UInt64, heldVersion: UInt64, registry: Registry) -> ServerMessage {
        // The node reports any number it likes; one so high that counting on
        // from it could overflow starts the count again (nodes take any full map).
        let held = heldVersion <= MapTracker.highestHeldVersion ? heldVersion : 0
        let version = max(held, sessions[nodeID]?.version ?? 0) + 1
        sessions[nodeID] = nil
        guard let map = fullMap(for: nodeID, version: version, registry: registry) else {
            return .failure(registry.unmappedReason(nodeID))
        }
        return .map(map)
    }

    /// Stops tracking the node (its connection closed, or it logged out).
    public mutating func disconnect(nodeID: UInt64) {
        sessions[nodeID] = nil
    }

    /// The messages that bring every connected node up to date after an
    /// operation that changed `changedNodes` (from `RegistryChanges`), in
    /// node id order. Connected nodes that lost their map get `.failure`
    /// and are no longer tracked.
    public mutating func update(changedNodes: [UInt64], registry: Registry) -> [MapMessage] {
        if changedNodes.isEmpty || sessions.isEmpty {
            for id in changedNodes { _ = refreshCache(id, registry: registry) }
            return []
        }
        var changed: [UInt64] = []
        var changedSet: Set<UInt64> = []
        for id in changedNodes where changedSet.insert(id).inserted {
            changed.append(id)
            _ = refreshCache(id, registry: registry)
        }
        var messages: [MapMessage] = []
        for receiver in sessions.keys.sorted() {
            if let message = changedSet.contains(receiver)
                ? resync(receiver, registry: registry)
                : apply(changed, to: receiver, registry: registry)
            {
                messages.append(MapMessage(nodeID: receiver, message: message))
            }
        }
        return messages
    }

    /// `update(changedNodes:registry:)` for a change that may also change
    /// who sees whom (a policy in force is recompiled after every change):
    /// refreshes the changed nodes' views, then resyncs every connected node
    /// under `visibility` (O(n) per connected node).
    public mutating func update(changedNodes: [UInt64], registry: Registry, visibility: PeerVisibility,
                                filters: @escaping (UInt64) -> FilterSetting) -> [MapMessage] {
        for id in changedNodes { _ = refreshCache(id, registry: registry) }
        return setVisibility(visibility, filters: filters, registry: registry)
    }

    /// Replaces the visibility rule and brings every connected node up to
    /// date with it (O(n) per connected node).
    public mutating func setVisibility(_ visibility: PeerVisibility, filters: @escaping (UInt64) -> FilterSetting = { _ in .allowAll },
                                       registry: Registry) -> [MapMessage] {
        self.visibility = visibility
        self.filters = filters
        var messages: [MapMessage] = []
        for receiver in sessions.keys.sorted() {
            if let message = resync(receiver, registry: registry) {
                messages.append(MapMessage(nodeID: receiver, message: message))
            }
        }
        return messages
    }

    // MARK: Internals

    /// Recomputes the cached view of `id`; returns its entry (nil if the node has no map).
    private mutating func refreshCache(_ id: UInt64, registry: Registry) -> CachedView? {
        guard registry.isMapped(id), let node = registry.node(id: id) else {
            cache[id] = nil
            return nil
        }
        let view = registry.view(of: node)
        if let cached = cache[id], cached.view == view { return cached }
        let entry = CachedView(view: view, revision: nextRevision)
        nextRevision += 1
        cache[id] = entry
        return entry
    }

    /// The cached view of `id`, computed if the tracker has not seen it yet.
    /// Cached views are current as long as every change reaches `update`.
    private mutating func cachedView(_ id: UInt64, registry: Registry) -> CachedView? {
        if let entry = cache[id] { return entry }
        return refreshCache(id, registry: registry)
    }

    /// The delta for a receiver that did not change itself: only the changed peers.
    private mutating func apply(_ changed: [UInt64], to receiver: UInt64, registry: Registry) -> ServerMessage? {
        // Taken out of the dictionary so its peer table is mutated in place, not copied.
        guard var session = sessions.removeValue(forKey: receiver) else { return nil }
        guard let viewer = registry.nodesByID[receiver] else {
            sessions[receiver] = session
            return nil
        }
        var upserted: [NodeView] = []
        var removed: [UInt64] = []
        for id in changed where id != receiver {
            if let entry = cache[id], let peer = registry.nodesByID[id], visibility.sees(viewer, peer) {
                if session.peers.updateValue(entry.revision, forKey: id) != entry.revision { upserted.append(entry.view) }
            } else if session.peers.removeValue(forKey: id) != nil {
                removed.append(id)
            }
        }
        return finish(receiver, &session, selfView: nil, upserted: upserted, removed: removed, registry: registry)
    }

    /// The update for a receiver that changed itself (its visibility may
    /// have changed too): its whole peer list is compared.
    private mutating func resync(_ receiver: UInt64, registry: Registry) -> ServerMessage? {
        guard var session = sessions.removeValue(forKey: receiver) else { return nil }
        guard let own = refreshCache(receiver, registry: registry), let viewer = registry.nodesByID[receiver] else {
            return .failure(registry.unmappedReason(receiver))
        }
        var selfView: NodeView? = nil
        if own.revision != session.selfRevision {
            selfView = own.view
            session.selfRevision = own.revision
        }
        var upserted: [NodeView] = []
        var seen: Set<UInt64> = []
        for id in registry.nodeOrder where id != receiver {
            let peer = registry.nodesByID[id]!
            guard !peer.expired && visibility.sees(viewer, peer), let entry = cachedView(id, registry: registry) else { continue }
            seen.insert(peer.id)
            if session.peers.updateValue(entry.revision, forKey: peer.id) != entry.revision { upserted.append(entry.view) }
        }
        var removed: [UInt64] = []
        for id in session.peers.keys where !seen.contains(id) { removed.append(id) }
        for id in removed { session.peers[id] = nil }
        removed.sort()
        return finish(receiver, &session, selfView: selfView, upserted: upserted, removed: removed, registry: registry)
    }

    /// Stores `session` and returns the delta, a full map if that is not
    /// larger, or nil if nothing changed.
    private mutating func finish(_ receiver: UInt64, _ session: inout Session, selfView: NodeView?, upserted: [NodeView],
                                 removed: [UInt64], registry: Registry) -> ServerMessage? {
        let filter = filters(receiver)
        let newFilter: FilterSetting? = filter == session.filter ? nil : filter
        session.filter = filter
        if selfView == nil && upserted.isEmpty && removed.isEmpty && newFilter == nil {
            sessions[receiver] = session
            return nil
        }
        let version = session.version + 1
        // Count views: a delta carrying as many as the whole map is no smaller.
        let deltaViews = upserted.count + (selfView == nil ? 0 : 1)
        if deltaViews >= session.peers.count + 1 {
            sessions[receiver] = nil
            if let map = fullMap(for: receiver, version: version, registry: registry) { return .map(map) }
            return .failure(registry.unmappedReason(receiver))
        }
        session.version = version
        sessions[receiver] = session
        return .delta(MapDelta(version: version, baseVersion: version - 1, node: selfView,
                               upserted: upserted.sorted { $0.id < $1.id }, removed: removed, packetFilter: newFilter))
    }

    /// Builds the full map from the cache and starts a fresh session for it.
    private mutating func fullMap(for receiver: UInt64, version: UInt64, registry: Registry) -> NetworkMap? {
        guard let own = refreshCache(receiver, registry: registry), let viewer = registry.nodesByID[receiver] else { return nil }
        var peers: [NodeView] = []
        var revisions: [UInt64: UInt64] = [:]
        for id in registry.nodeOrder where id != receiver {
            let peer = registry.nodesByID[id]!
            guard !peer.expired && visibility.sees(viewer, peer), let entry = cachedView(id, registry: registry) else { continue }
            peers.append(entry.view)
            revisions[peer.id] = entry.revision
        }
        let filter = filters(receiver)
        sessions[receiver] = Session(version: version, selfRevision: own.revision, filter: filter, peers: revisions)
        let settings = registry.settings
        return NetworkMap(version: version, ipv4Range: settings.ipv4Range, ipv6Range: settings.ipv6Range,
                          node: own.view, peers: peers, packetFilter: filter)
    }
}
