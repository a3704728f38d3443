import ControlProtocol
import IP
import TernCrypto
import TestSupport
import Testing
@testable import Coordinator

/// The nodes' side: the maps they hold, updated only by what the tracker sends.
struct Clients {
    var maps: [UInt64: NetworkMap] = [:]
    var ended: [UInt64: ControlFailure] = [:]

    mutating func receive(_ id: UInt64, _ message: ServerMessage) throws {
        switch message {
        case .map(let map):
            if let held = maps[id] { #expect(map.version > held.version) }
            maps[id] = map
        case .delta(let delta):
            // Taken out of the dictionary so the peer list is changed in place.
            let held = maps.removeValue(forKey: id)
            var map = try #require(held, "delta for node \(id) without a map")
            try map.apply(delta)
            maps[id] = map
        case .failure(let failure):
            maps[id] = nil
            ended[id] = failure
        default:
            Issue.record("unexpected message \(message)")
        }
    }

    mutating func receive(_ messages: [MapMessage]) throws {
        for message in messages { try receive(message.nodeID, message.message) }
    }

    /// Every connected node holds exactly the map computed fresh at its version.
    func check(_ registry: Registry, _ tracker: MapTracker, visibility: PeerVisibility = .all,
               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Set(maps.keys) == Set(tracker.connectedNodes), sourceLocation: sourceLocation)
        for (id, held) in maps {
            guard let version = tracker.version(of: id) else { continue }
            let fresh = registry.map(for: id, version: version, visibility: visibility)
            #expect(held == fresh, "node \(id) holds a map that differs from a fresh one", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct MapTests {
    /// Two connected nodes a and b.
    func pair() throws -> (Harness, MapTracker, Clients, Node, Node) {
        var h = Harness()
        let secret = h.key()
        let a = h.join("a", secret: secret)
        let b = h.join("b", secret: secret)
        var tracker = MapTracker()
        var clients = Clients()
        try clients.receive(a.id, tracker.connect(nodeID: a.id, heldVersion: 0, registry: h.registry))
        try clients.receive(b.id, tracker.connect(nodeID: b.id, heldVersion: 0, registry: h.registry))
        return (h, tracker, clients, a, b)
    }

    @Test func mapsListSelfAndPeersWithAddresses() throws {
        let (h, _, clients, a, b) = try pair()
        let map = try #require(clients.maps[a.id])
        #expect(map.version == 1)
        #expect(map.node.id == a.id)
        #expect(map.peers.map { $0.id } == [b.id])
        #expect(map.ipv4Range == h.registry.settings.ipv4Range)
        #expect(map.peers[0].addresses == [try IPPrefix("100.64.0.2/32"), try IPPrefix("fd12:3456:789a::6440:2/128")])
        #expect(map.peers[0].allowedIPs == map.peers[0].addresses)
        #expect(map.peers[0].user == "alice")
    }

    @Test func renameReachesPeersAsADelta() throws {
        var (h, tracker, clients, a, b) = try pair()
        let changes = try h.registry.renameNode(id: b.id, to: "bee")
        let messages = tracker.update(changedNodes: changes.changedNodes, registry: h.registry)
        let toA = try #require(messages.first { $0.nodeID == a.id })
        guard case .delta(let delta) = toA.message else { Issue.record("expected a delta"); return }
        #expect(delta.upserted.map { $0.name } == ["bee"])
        #expect(delta.removed.isEmpty && delta.node == nil)
        #expect(delta.baseVersion == 1 && delta.version == 2)
        try clients.receive(messages)
        clients.check(h.registry, tracker)
        #expect(clients.maps[b.id]?.node.name == "bee")
        #expect(throws: RegistryError.self) { try h.registry.renameNode(id: a.id, to: "bee") }
        #expect(throws: RegistryError.self) { try h.registry.renameNode(id: a.id, to: "Bad Name") }
    }

    @Test func filtersTravelInMapsAndOnlyChangesAreSent() throws {
        var (h, tracker, clients, a, b) = try pair()
        let rule = FilterRule(sources: [try IPPrefix("100.64.0.2/32")],
                              destinations: [FilterDestination(prefix: try IPPrefix("100.64.0.1/32"), ports: .all)],
                              protocols: [], policyRule: 0)
        // A policy arrives: a gets its rules, b (no rule lets anyone in) an empty list.
        let filters: (UInt64) -> FilterSetting = { $0 == a.id ? .rules([rule]) : .rules([]) }
        try clients.receive(tracker.setVisibility(.all, filters: filters, registry: h.registry))
        #expect(clients.maps[a.id]?.packetFilter == .rules([rule]))
        #expect(clients.maps[b.id]?.packetFilter == .rules([]))
        // A change that leaves the filters alone sends no filter.
        let changes = try h.registry.renameNode(id: b.id, to: "bee")
        let messages = tracker.update(changedNodes: changes.changedNodes, registry: h.registry, visibility: .all, filters: filters)
        for message in messages {
            if case .delta(let delta) = message.message { #expect(delta.packetFilter == nil) }
        }
        try clients.receive(messages)
        // A node that connects later gets its filter in the full map.
        tracker.disconnect(nodeID: a.id)
        clients.maps[a.id] = nil
        try clients.receive(a.id, tracker.connect(nodeID: a.id, heldVersion: 5, registry: h.registry))
        #expect(clients.maps[a.id]?.packetFilter == .rules([rule]))
        // Back to no policy: everyone allows all again.
        try clients.receive(tracker.setVisibility(.all, registry: h.registry))
        #expect(clients.maps[a.id]?.packetFilter == .allowAll && clients.maps[b.id]?.packetFilter == .allowAll)
    }

    @Test func deletionRemovesThePeerAndEndsItsSession() throws {
        var (h, tracker, clients, a, b) = try pair()
        let changes = try h.registry.deleteNode(id: b.id)
        let messages = tracker.update(changedNodes: changes.changedNodes, registry: h.registry)
        guard case .delta(let delta) = messages.first(where: { $0.nodeID == a.id })?.message else {
            Issue.record("expected a delta for a")
            return
        }
        #expect(delta.removed == [b.id] && delta.upserted.isEmpty)
        #expect(messages.first { $0.nodeID == b.id }?.message == .failure(h.registry.unmappedReason(b.id)))
        try clients.receive(messages)
        #expect(clients.ended[b.id]?.code == .nodeDeleted)
        #expect(tracker.connectedNodes == [a.id])
        clients.check(h.registry, tracker)
    }

    @Test func onlineStateIsSentButNotStored() throws {
        var (h, tracker, clients, a, b) = try pair()
        let changes = try h.registry.setOnline(nodeID: b.id, true, now: start)
        #expect(changes.records.isEmpty)
        try clients.receive(tracker.update(changedNodes: changes.changedNodes, registry: h.registry))
        #expect(clients.maps[a.id]?.peers[0].online == true)
        clients.check(h.registry, tracker)
        let offline = try h.registry.setOnline(nodeID: b.id, false, now: start + 30)
        #expect(offline.records.count == 1, "going offline stores the last-seen time")
        #expect(h.registry.node(id: b.id)?.lastSeen == start + 30)
        try clients.receive(tracker.update(changedNodes: offline.changedNodes, registry: h.registry))
        #expect(clients.maps[a.id]?.peers[0].online == false)
        clients.check(h.registry, tracker)
    }

    @Test func unchangedViewsSendNothing() throws {
        var (h, tracker, _, _, b) = try pair()
        let same = try h.registry.updateEndpoints(nodeID: b.id, [], now: start + 5)
        #expect(tracker.update(changedNodes: same.changedNodes, registry: h.registry).isEmpty)
        #expect(tracker.update(changedNodes: [b.id], registry: h.registry).isEmpty)
    }

    @Test func aFullMapWhenTheDeltaIsNotSmaller() throws {
        var h = Harness()
        let lonely = h.join("lonely", secret: h.key())
        var tracker = MapTracker()
        guard case .map(let first) = tracker.connect(nodeID: lonely.id, heldVersion: 41, registry: h.registry) else {
            Issue.record("expected a map")
            return
        }
        #expect(first.version == 42, "versions continue above what the node holds")
        let changes = try h.registry.renameNode(id: lonely.id, to: "solo")
        let messages = tracker.update(changedNodes: changes.changedNodes, registry: h.registry)
        guard case .map(let map) = messages.first?.message else {
            Issue.record("expected a full map")
            return
        }
        #expect(map.version == 43 && map.node.name == "solo")
    }

    @Test func visibilityIsASeam() throws {
        var h = Harness()
        let alices = h.key(for: "alice")
        let bobs = h.key(for: "bob")
        let a1 = h.join("a1", secret: alices)
        let a2 = h.join("a2", secret: alices)
        let b1 = h.join("b1", secret: bobs)
        let sameUser = PeerVisibility { viewer, peer in viewer.user == peer.user }
        #expect(h.registry.map(for: a1.id, version: 1, visibility: sameUser)?.peers.map { $0.id } == [a2.id])
        var tracker = MapTracker(visibility: sameUser)
        var clients = Clients()
        for node in [a1, a2, b1] {
            try clients.receive(node.id, tracker.connect(nodeID: node.id, heldVersion: 0, registry: h.registry))
        }
        clients.check(h.registry, tracker, visibility: sameUser)
        #expect(clients.maps[b1.id]?.peers.isEmpty == true)
        let b2 = h.join("b2", secret: bobs)
        let messages = tracker.update(changedNodes: [b2.id], registry: h.registry)
        #expect(messages.map { $0.nodeID } == [b1.id], "only bob's node hears of bob's new node")
        try clients.receive(messages)
        clients.check(h.registry, tracker, visibility: sameUser)
        try clients.receive(tracker.setVisibility(.all, registry: h.registry))
        clients.check(h.registry, tracker)
        #expect(clients.maps[b1.id]?.peers.count == 3)
    }

    @Test(arguments: [1, 2, 3, 4])
    func randomOperationsKeepEveryHeldMapExact(seed: UInt64) throws {
        let routePool = [try IPPrefix("10.1.0.0/24"), try IPPrefix("10.2.0.0/24"), try IPPrefix("192.168.0.0/16")]
        var h = Harness(seed: seed, settings: testSettings(ipv4: "100.64.0.0/26"))
        var random = SplitMix64(seed: seed &* 7919)
        let secrets = [h.key(for: "alice", tags: ["tag:x"]), h.key(for: "bob")]
        var tracker = MapTracker()
        var clients = Clients()
        var now = start
        var machines: [UInt64: (machine: PublicKey, nodeKey: PublicKey)] = [:]
        for _ in 0..<400 {
            now += Int64.random(in: 0...(20 * day), using: &random)
            let nodes = h.registry.allNodes
            let pick = nodes.isEmpty ? nil : nodes[Int.random(in: 0..<nodes.count, using: &random)]
            var changes = RegistryChanges()
            switch Int.random(in: 0..<15, using: &random) {
            case 0, 1:
                let machine = randomKey(&random)
                let nodeKey = randomKey(&random)
                // Routers among them: some share a prefix, so primaries move as they come and go.
                let routes = Array(routePool.filter { _ in random.next() % 3 == 0 })
                if let done = outcome(h.login(machine, request(nodeKey, "host", key: secrets.randomElement(using: &random)!,
                                                               routes: routes), now: now)) {
                    machines[done.node.id] = (machine, nodeKey)
                    changes.changedNodes = done.changes.changedNodes  // the harness kept the records
                }
            case 2:
                if let pick, !tracker.connectedNodes.contains(pick.id) {
                    try clients.receive(pick.id, tracker.connect(nodeID: pick.id, heldVersion: clients.maps[pick.id]?.version ?? 0,
                                                                 registry: h.registry))
                    changes = try h.registry.setOnline(nodeID: pick.id, true, now: now)
                }
            case 3:
                if let pick, tracker.connectedNodes.contains(pick.id) {
                    tracker.disconnect(nodeID: pick.id)
                    clients.maps[pick.id] = nil
                    changes = try h.registry.setOnline(nodeID: pick.id, false, now: now)
                }
            case 4:
                if let pick, let renamed = try? h.registry.renameNode(id: pick.id, to: "r" + String(random.next() % 1000)) {
                    changes = renamed
                }
            case 5:
                if let pick { changes = try h.registry.updateEndpoints(nodeID: pick.id, [Endpoint(.v4(IPv4Address(UInt32(truncatingIfNeeded: random.next()))), port: 41641)], now: now) }
            case 6:
                if let pick { changes = try h.registry.deleteNode(id: pick.id) }
            case 7:
                changes = h.registry.expireDue(now: now)
            case 8:
                if let pick { changes = try h.registry.expireNode(id: pick.id, now: now) }
            case 9:
                if let pick, let keys = machines[pick.id] {
                    let rotated = randomKey(&random)
                    if let done = outcome(h.login(keys.machine, request(rotated, key: secrets[0]), now: now)) {
                        machines[pick.id] = (keys.machine, rotated)
                        changes.changedNodes = done.changes.changedNodes
                    }
                }
            case 10:
                if let pick { changes = try h.registry.setKeyExpiryDisabled(nodeID: pick.id, !pick.expiryDisabled) }
            case 11:
                if let pick, !pick.advertisedRoutes.isEmpty {
                    changes = try h.registry.approveRoutes(nodeID: pick.id, [pick.advertisedRoutes.randomElement(using: &random)!])
                }
            case 12:
                if let pick, !pick.advertisedRoutes.isEmpty {
                    changes = try h.registry.rejectRoutes(nodeID: pick.id, [pick.advertisedRoutes.randomElement(using: &random)!])
                }
            case 13:
                let tag = random.next() % 2 == 0
                changes = h.registry.setRouteApprover(RouteApprover { route, _, tags in tag && tags.contains("tag:x") && route == routePool[0] })
            default:
                if let pick, let keys = machines[pick.id], let done = outcome(h.login(keys.machine, request(keys.nodeKey), now: now)) {
                    changes.changedNodes = done.changes.changedNodes
                }
            }
            h.keep(changes)
            try clients.receive(tracker.update(changedNodes: changes.changedNodes, registry: h.registry))
            clients.check(h.registry, tracker)
        }
        #expect(try h.replayed().snapshot() == h.registry.snapshot())
    }

    @Test func fanOutOfOneJoinToAThousandConnectedNodes() throws {
        var h = Harness()
        let secret = h.key()
        var tracker = MapTracker()
        var clients = Clients()
        for i in 0..<1000 { h.join("n" + String(i), secret: secret) }
        for node in h.registry.allNodes {
            try clients.receive(node.id, tracker.connect(nodeID: node.id, heldVersion: 0, registry: h.registry))
        }

        let clock = ContinuousClock()
        var joined: Node? = nil
        var messages: [MapMessage] = []
        let elapsed = clock.measure {
            joined = h.join("newcomer", secret: secret)
            messages = tracker.update(changedNodes: [joined!.id], registry: h.registry)
        }
        let newcomer = try #require(joined)
        #expect(messages.count == 1000)
        for message in messages {
            guard case .delta(let delta) = message.message else {
                Issue.record("expected deltas only")
                break
            }
            #expect(delta.upserted.count == 1 && delta.upserted[0].id == newcomer.id && delta.removed.isEmpty && delta.node == nil)
        }
        try clients.receive(messages)
        clients.check(h.registry, tracker)

        // A rename and an endpoint change: again one small delta per node.
        let again = clock.measure {
            let changes = try! h.registry.updateEndpoints(nodeID: newcomer.id, [try! Endpoint("192.0.2.7:41641")], now: start + 1)
            messages = tracker.update(changedNodes: changes.changedNodes, registry: h.registry)
        }
        #expect(messages.count == 1000)
        try clients.receive(messages)
        clients.check(h.registry, tracker)
        print("fan-out: login + 1000 deltas \(elapsed); endpoint change + 1000 deltas \(again)")
    }
}
