import CTern
import Foundation
import IP
import Testing
@testable import Netlink

/// 1,000 routes in one batched exchange each way, timed.
@Suite(.serialized, .enabled(if: canRunIntegration, "needs root, ip and nft"))
struct RouteBatchTests {
    @Test func aThousandRoutesInOneExchangeEachWay() throws {
        let namespace = TestNamespace("batch")
        defer { namespace.delete() }
        namespace.addVeth("d0", peer: "d0p")
        let netlink = try RTNetlink(namespacePath: namespace.path)
        let index = try netlink.linkIndex(named: "d0")
        var routes: [Route] = []
        for n in 0..<1000 {
            let address = IPv4Address(10, 100, UInt8(n / 250), UInt8(n % 250 + 1))
            routes.append(Route(destination: try IPPrefix(.v4(address), length: 32), interfaceIndex: index))
        }

        let clock = ContinuousClock()
        var sent = netlink.socket.datagramsSent
        let addTime = try clock.measure { try netlink.apply(routes.map { .add($0) }) }
        #expect(netlink.socket.datagramsSent == sent + 1, "one sendto for 1,000 RTM_NEWROUTE")
        #expect(routeLines(namespace, "-4", proto: "116").count == 1000)
        #expect(try netlink.ternRoutes().count == 1000)

        sent = netlink.socket.datagramsSent
        let removeTime = try clock.measure { try netlink.apply(routes.map { .remove($0) }) }
        #expect(netlink.socket.datagramsSent == sent + 1, "one sendto for 1,000 RTM_DELROUTE")
        #expect(routeLines(namespace, "-4", proto: "116").isEmpty)

        print("1,000 routes: add \(addTime), remove \(removeTime), one batched netlink exchange each")
    }
}
