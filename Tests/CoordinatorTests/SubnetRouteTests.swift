import ControlProtocol
import IP
import JSON
import TestSupport
import Testing
@testable import Coordinator

@Suite struct SubnetRouteTests {
    let lan = try! IPPrefix("192.168.10.0/24")
    let office = try! IPPrefix("10.20.0.0/16")

    /// A router advertising `lan` (and `office`) and a client, both online.
    func routerAndClient(_ h: inout Harness) throws -> (router: Node, client: Node) {
        let secret = h.key()
        let router = h.join("pi", secret: secret, routes: [office, lan])
        let client = h.join("laptop", secret: secret)
        for node in [router, client] { h.keep(try h.registry.setOnline(nodeID: node.id, true, now: start)) }
        return (router, client)
    }

    @Test func advertisedRoutesWaitForAnAdmin() throws {
        var h = Harness()
        let (router, _) = try routerAndClient(&h)
        #expect(h.registry.node(id: router.id)!.advertisedRoutes == [office, lan].sorted())
        #expect(h.registry.routeEntries.map { $0.state } == [.pending, .pending])
        var view = h.registry.view(of: h.registry.node(id: router.id)!)
        #expect(view.routes.isEmpty && view.primaryRoutes.isEmpty && view.allowedIPs == view.addresses)

        let changes = try h.registry.approveRoutes(nodeID: router.id, [lan])
        h.keep(changes)
        #expect(changes.changedNodes == [router.id])
        view = h.registry.view(of: h.registry.node(id: router.id)!)
        #expect(view.routes == [lan] && view.primaryRoutes == [lan])
        #expect(view.allowedIPs == view.addresses + [lan])
        #expect(h.registry.routesTable().contains("192.168.10.0/24  pi    1   approved  primary  online"))
        // Approving again stores nothing.
        #expect(try h.registry.approveRoutes(nodeID: router.id, [lan]).isEmpty)
        #expect(try h.replayed().snapshot() == h.registry.snapshot())
    }

    @Test func onlyAdvertisedRoutesCanBeApproved() throws {
        var h = Harness()
        let (router, client) = try routerAndClient(&h)
        let other = try IPPrefix("172.16.0.0/12")
        #expect(throws: RegistryError.self) { try h.registry.approveRoutes(nodeID: router.id, [other]) }
        do {
            _ = try h.registry.approveRoutes(nodeID: client.id, [lan])
            Issue.record("approved a route the node does not advertise")
        } catch {
            #expect(error.description.contains("does not advertise 192.168.10.0/24 (it advertises no routes)"))
        }
    }

    @Test func rejectionWinsOverAutoApprovalUntilApproved() throws {
        var h = Harness()
        let (router, _) = try routerAndClient(&h)
        let approver = RouteApprover { route, user, _ in user == "alice" && route == self.lan }
        let changes = h.registry.setRouteApprover(approver)
        #expect(changes.changedNodes == [router.id] && changes.records.isEmpty)
        #expect(h.registry.enabledRoutes(of: h.registry.node(id: router.id)!) == [lan])
        #expect(h.registry.routeEntries.first { $0.prefix == lan }?.state == .autoApproved)

        h.keep(try h.registry.rejectRoutes(nodeID: router.id, [lan]))
        #expect(h.registry.enabledRoutes(of: h.registry.node(id: router.id)!).isEmpty)
        #expect(h.registry.routeEntries.first { $0.prefix == lan }?.state == .rejected)
        h.keep(try h.registry.approveRoutes(nodeID: router.id, [lan]))
        #expect(h.registry.routeEntries.first { $0.prefix == lan }?.state == .approved)
        // Back to no policy: the admin's approval stays.
        #expect(h.registry.setRouteApprover(.none).isEmpty)
        #expect(try h.replayed().snapshot() == h.registry.snapshot())
    }

    @Test func theFirstOnlineRouterIsPrimaryAndStaysPrimary() throws {
        var h = Harness()
        let secret = h.key()
        let a = h.join("pi-a", secret: secret, routes: [lan])
        let b = h.join("pi-b", secret: secret, routes: [lan])
        h.keep(try h.registry.approveRoutes(nodeID: a.id, [lan]))
        h.keep(try h.registry.approveRoutes(nodeID: b.id, [lan]))
        // Nobody online: the lowest id holds it.
        #expect(h.registry.primaryRoutes(of: a.id) == [lan])

        // b comes online first: it takes over from the offline a.
        var changes = try h.registry.setOnline(nodeID: b.id, true, now: start)
        #expect(Set(changes.changedNodes) == [a.id, b.id])
        #expect(h.registry.primaryRoutes(of: b.id) == [lan] && h.registry.primaryRoutes(of: a.id).isEmpty)
        // a comes online: no flap back.
        changes = try h.registry.setOnline(nodeID: a.id, true, now: start)
        #expect(changes.changedNodes == [a.id])
        #expect(h.registry.primaryRoutes(of: b.id) == [lan])
        // b goes away: a takes over; both views change.
        changes = try h.registry.setOnline(nodeID: b.id, false, now: start + 5)
        #expect(Set(changes.changedNodes) == [a.id, b.id])
        #expect(h.registry.primaryRoutes(of: a.id) == [lan])
        let views = (h.registry.view(of: h.registry.node(id: a.id)!), h.registry.view(of: h.registry.node(id: b.id)!))
        #expect(views.0.allowedIPs.contains(lan) && !views.1.allowedIPs.contains(lan))
        #expect(views.1.routes == [lan] && views.1.primaryRoutes.isEmpty)
        // Everyone offline: the prefix stays with the last primary.
        _ = try h.registry.setOnline(nodeID: a.id, false, now: start + 6)
        #expect(h.registry.primaryRoutes(of: a.id) == [lan])
        // Deleting the primary hands the prefix on.
        changes = try h.registry.deleteNode(id: a.id)
        #expect(changes.changedNodes.contains(b.id))
        #expect(h.registry.primaryRoutes(of: b.id) == [lan])
    }

    @Test func rejectingThePrimaryMovesThePrefix() throws {
        var h = Harness()
        let secret = h.key()
        let a = h.join("pi-a", secret: secret, routes: [lan])
        let b = h.join("pi-b", secret: secret, routes: [lan])
        for node in [a, b] {
            h.keep(try h.registry.approveRoutes(nodeID: node.id, [lan]))
            _ = try h.registry.setOnline(nodeID: node.id, true, now: start)
        }
        #expect(h.registry.primaryRoutes(of: a.id) == [lan])
        let changes = try h.registry.rejectRoutes(nodeID: a.id, [lan])
        #expect(Set(changes.changedNodes) == [a.id, b.id])
        #expect(h.registry.primaryRoutes(of: b.id) == [lan])
    }

    @Test(arguments: ["100.64.0.0/10", "100.100.0.0/16", "0.0.0.0/0", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4",
                      "fe80::/10", "fd12:3456:789a::/64"])
    func unroutablePrefixesAreRefusedAtLogin(_ text: String) throws {
        var h = Harness()
        let secret = h.key()
        let before = h.records.count
        let result = h.login(randomKey(&h.random), request(randomKey(&h.random), key: secret, routes: [try IPPrefix(text)]))
        let refusal = try #require(failure(result))
        #expect(refusal.code == .badRequest)
        #expect(refusal.message.hasPrefix("--advertise-routes: " + text))
        #expect(h.records.count == before && h.registry.nodeCount == 0)
    }

    @Test func aReloginOrResumeChangesTheAdvertisement() throws {
        var h = Harness()
        let secret = h.key()
        let machine = randomKey(&h.random)
        let nodeKey = randomKey(&h.random)
        let node = try #require(outcome(h.login(machine, request(nodeKey, key: secret, routes: [lan])))).node
        h.keep(try h.registry.approveRoutes(nodeID: node.id, [lan]))
        // Resume without a credential, advertising something else: the approval stays for later.
        _ = h.login(machine, request(nodeKey, routes: [office]))
        #expect(h.registry.node(id: node.id)!.advertisedRoutes == [office])
        #expect(h.registry.enabledRoutes(of: h.registry.node(id: node.id)!).isEmpty)
        _ = h.login(machine, request(nodeKey, key: secret, routes: [lan, office]))
        #expect(h.registry.enabledRoutes(of: h.registry.node(id: node.id)!) == [lan])
        #expect(try h.replayed().snapshot() == h.registry.snapshot())
        // A snapshot keeps the routes and elects the same primaries.
        let restored = try Registry(snapshot: h.registry.snapshot(), records: [])
        #expect(restored.node(id: node.id)! == h.registry.node(id: node.id)!)
        #expect(restored.primaryRoutes(of: node.id) == [lan])
    }

    @Test func stateWrittenBeforeSubnetRoutesStillLoads() throws {
        // A node record and a "seen" record as they were stored before routes existed.
        var h = Harness()
        let node = h.join("old", secret: h.key())
        var record: JSONValue = ["op": "register"]
        for member in node.storedJSON.object!.members where !member.key.hasSuffix("Routes") { record[member.key] = member.value }
        let seen: JSONValue = ["op": "seen", "node": .number(JSONNumber(node.id)), "endpoints": nil, "at": .number(JSONNumber(start + 1))]
        let records = [h.records[0], h.records[1], h.records[2], JSONSerializer.bytes(record), JSONSerializer.bytes(seen)]
        let registry = try Registry(snapshot: nil, records: records)
        #expect(registry.node(id: node.id)?.advertisedRoutes == [])
        #expect(registry.node(id: node.id)?.lastSeen == start + 1)
    }
}
