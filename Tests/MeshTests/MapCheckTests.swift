import ControlProtocol
import IP
import TernCrypto
import Testing
@testable import Mesh

/// A node refuses a map that would take the host's other traffic or put
/// odd addresses on its interface, whatever the server says.
@Suite struct MapCheckTests {
    func map(ipv4: String = "100.64.0.0/10", ipv6: String = "fd12:3456:789a::/48",
             addresses: [String] = ["100.64.0.9/32", "fd12:3456:789a::6440:9/128"],
             peerRoutes: [String] = []) -> NetworkMap {
        let own = addresses.map { try! IPPrefix($0) }
        let node = NodeView(id: 9, name: "me", nodeKey: PrivateKey.generate().publicKey, addresses: own, allowedIPs: own,
                            routes: [], primaryRoutes: [], endpoints: [], keyExpiry: nil, online: true, user: "alice", tags: [])
        let routes = peerRoutes.map { try! IPPrefix($0) }
        let peerAddress = [try! IPPrefix("100.64.0.1/32")]
        let peer = NodeView(id: 1, name: "router", nodeKey: PrivateKey.generate().publicKey, addresses: peerAddress,
                            allowedIPs: peerAddress + routes, routes: routes, primaryRoutes: routes, endpoints: [],
                            keyExpiry: nil, online: true, user: "alice", tags: [])
        return NetworkMap(version: 4, ipv4Range: try! IPPrefix(ipv4), ipv6Range: try! IPPrefix(ipv6), node: node, peers: [peer])
    }

    @Test func anOrdinaryMapPasses() {
        #expect(MapCheck.problem(with: map()) == nil)
        #expect(MapCheck.problem(with: map(ipv4: "10.0.0.0/8", addresses: ["10.0.0.5/32"])) == nil)
    }

    @Test func rangesThatWouldTakeTheHostsTrafficAreRefused() {
        #expect(MapCheck.problem(with: map(ipv4: "0.0.0.0/0", addresses: [])) == "IPv4 range 0.0.0.0/0 must be an IPv4 prefix of /8 to /30")
        #expect(MapCheck.problem(with: map(ipv4: "0.0.0.0/1", addresses: []))?.contains("/8 to /30") == true)
        #expect(MapCheck.problem(with: map(ipv6: "::/0", addresses: []))?.contains("/32 to /64") == true)
        #expect(MapCheck.problem(with: map(ipv4: "127.0.0.0/8", addresses: []))?.contains("loopback") == true)
        #expect(MapCheck.problem(with: map(ipv6: "fe80::/64", addresses: []))?.contains("link-local") == true)
    }

    @Test func ownAddressesMustBeHostsInTheRange() {
        #expect(MapCheck.problem(with: map(addresses: ["100.64.0.9/0"])) == "this node's address 0.0.0.0/0 is not a single host address")
        #expect(MapCheck.problem(with: map(addresses: ["100.64.0.9/24"]))?.contains("not a single host address") == true)
        #expect(MapCheck.problem(with: map(addresses: ["192.168.1.1/32"]))
            == "this node's address 192.168.1.1/32 is outside the mesh's range 100.64.0.0/10")
        #expect(MapCheck.problem(with: map(addresses: ["2001:db8::1/128"]))?.contains("outside the mesh's range fd12") == true)
    }

    @Test func shortPeerRoutesAreNeverInstalled() {
        // A map may carry them; the node skips each one with the reason.
        let hostile = map(peerRoutes: ["0.0.0.0/1", "128.0.0.0/1", "192.168.10.0/24"])
        #expect(MapCheck.problem(with: hostile) == nil)
        let acceptance = RouteAcceptance(map: hostile, peers: hostile.peers, acceptRoutes: true, advertised: [], localNetworks: [])
        #expect(acceptance.routes == [try! IPPrefix("192.168.10.0/24")])
        #expect(acceptance.skipped.map(\.prefix.description) == ["0.0.0.0/1", "128.0.0.0/1"])
        #expect(acceptance.skipped.allSatisfy { $0.reason.contains("shorter than /8") })
        #expect(acceptance.peers[0].allowedIPs.map(\.description) == ["100.64.0.1/32", "192.168.10.0/24"])
    }
}
