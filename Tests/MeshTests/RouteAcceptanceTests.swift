import ControlProtocol
import IP
import JSON
import TernCrypto
import Testing
@testable import Mesh

@Suite struct RouteAcceptanceTests {
    let lan = try! IPPrefix("192.168.10.0/24")
    let office = try! IPPrefix("10.20.0.0/16")

    func peer(_ id: UInt64, _ name: String, primary: [IPPrefix], standby: [IPPrefix] = []) -> NodeView {
        let addresses = [try! IPPrefix("100.64.0." + String(id) + "/32")]
        return NodeView(id: id, name: name, nodeKey: PrivateKey.generate().publicKey, addresses: addresses,
                        allowedIPs: addresses + primary, routes: (primary + standby).sorted(), primaryRoutes: primary,
                        endpoints: [], keyExpiry: nil, online: true, user: "alice", tags: [])
    }

    func map(_ peers: [NodeView]) -> NetworkMap {
        NetworkMap(version: 1, ipv4Range: SubnetRoute.defaultMeshIPv4Range, ipv6Range: try! IPPrefix("fd12:3456:789a::/48"),
                   node: peer(9, "me", primary: []), peers: peers)
    }

    @Test func acceptedRoutesGoToTheirRouterAndTheHost() {
        let peers = [peer(1, "pi", primary: [lan, office]), peer(2, "nas", primary: [])]
        let accepted = RouteAcceptance(map: map(peers), peers: peers, acceptRoutes: true, advertised: [], localNetworks: [])
        #expect(accepted.routes == [office, lan])
        #expect(accepted.peers == peers)
        #expect(accepted.skipped.isEmpty)
    }

    @Test func withoutAcceptRoutesNothingIsUsed() {
        let peers = [peer(1, "pi", primary: [lan])]
        let accepted = RouteAcceptance(map: map(peers), peers: peers, acceptRoutes: false, advertised: [], localNetworks: [])
        #expect(accepted.routes.isEmpty)
        #expect(accepted.peers[0].allowedIPs == peers[0].addresses)
        #expect(accepted.skipped == [SkippedRoute(prefix: lan, router: "pi", reason: RouteAcceptance.notAccepted)])
    }

    @Test func ownLANAndOwnRoutesWin() {
        let peers = [peer(1, "pi", primary: [lan, office])]
        let accepted = RouteAcceptance(map: map(peers), peers: peers, acceptRoutes: true, advertised: [try! IPPrefix("10.20.5.0/24")],
                                       localNetworks: [LocalNetwork(prefix: try! IPPrefix("192.168.0.0/16"), interface: "eth0")])
        #expect(accepted.routes.isEmpty)
        #expect(accepted.peers[0].allowedIPs == peers[0].addresses)
        #expect(accepted.skipped.map { $0.description } == [
            "192.168.10.0/24 via pi: overlaps this host's network 192.168.0.0/16 on eth0",
            "10.20.0.0/16 via pi: this node routes 10.20.5.0/24 itself",
        ])
    }

    @Test func aServerOfferingTheMeshRangeIsIgnored() {
        let peers = [peer(1, "pi", primary: [try! IPPrefix("100.64.0.0/16")])]
        let accepted = RouteAcceptance(map: map(peers), peers: peers, acceptRoutes: true, advertised: [], localNetworks: [])
        #expect(accepted.routes.isEmpty)
        #expect(accepted.skipped.first?.reason == "100.64.0.0/16 overlaps the mesh's own range 100.64.0.0/10")
    }

    @Test func standbyRoutersCarryNothing() {
        let peers = [peer(1, "pi-a", primary: [lan]), peer(2, "pi-b", primary: [], standby: [lan])]
        let accepted = RouteAcceptance(map: map(peers), peers: peers, acceptRoutes: true, advertised: [], localNetworks: [])
        #expect(accepted.routes == [lan])
        #expect(accepted.peers[1].allowedIPs == peers[1].addresses)
    }

    @Test func nodeStateKeepsRouteSettingsAndReadsOldFiles() throws {
        var state = NodeState(machineKey: PrivateKey.generate(), nodeKey: PrivateKey.generate(), hostname: "pi")
        state.advertisedRoutes = [lan]
        state.acceptRoutes = true
        state.snatSubnetRoutes = false
        #expect(try NodeState(json: state.json) == state)
        var old = JSONObject()
        for member in state.json.object!.members where !["advertisedRoutes", "acceptRoutes", "snatSubnetRoutes"].contains(member.key) {
            _ = old.insert(member.key, member.value)
        }
        let loaded = try NodeState(json: .object(old))
        #expect(loaded.advertisedRoutes.isEmpty && !loaded.acceptRoutes && loaded.snatSubnetRoutes)
        var broken = state.json
        broken["advertisedRoutes"] = ["not a prefix"]
        #expect(throws: ControlMessageError.self) { _ = try NodeState(json: broken) }
    }
}
