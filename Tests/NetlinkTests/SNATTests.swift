import CTern
import Foundation
import IP
import Testing
@testable import Netlink

/// Subnet routing end to end without a tunnel. Three namespaces:
///
///     mesh  100.64.0.1/10, fd7a:115c:a1e0::1/48  (default route via router)
///       | veth
///     router  veth-mesh 100.64.0.2/10, fd7a:115c:a1e0::2/48   <- Tern's SNAT table
///             veth-lan  192.168.77.1/24, fd00:77::1/64
///       | veth
///     lan  192.168.77.10/24, fd00:77::10/64  (no route back to the mesh)
///
/// The router is configured through the library (addresses, links,
/// forwarding, the nftables table), the two ends with `ip`.
@Suite(.serialized, .enabled(if: canRunIntegration && commandExists("ping"), "needs root, ip, nft and ping"))
struct SNATTests {
    func ping(_ from: TestNamespace, _ address: String) -> Bool {
        from.exec(["ping", "-c1", "-W1", address]).succeeded
    }

    @Test func masqueradeLetsALANWithoutARouteBackAnswer() throws {
        let mesh = TestNamespace("mesh")
        defer { mesh.delete() }
        let router = TestNamespace("router")
        defer { router.delete() }
        let lan = TestNamespace("lan")
        defer { lan.delete() }

        router.addVeth("veth-mesh", peer: "veth-router", in: mesh)
        router.addVeth("veth-lan", peer: "veth-router", in: lan)
        mesh.ip("addr", "add", "100.64.0.1/10", "dev", "veth-router")
        mesh.ip("addr", "add", "fd7a:115c:a1e0::1/48", "dev", "veth-router", "nodad")
        mesh.ip("route", "add", "default", "via", "100.64.0.2")
        mesh.ip("-6", "route", "add", "default", "via", "fd7a:115c:a1e0::2")
        lan.ip("addr", "add", "192.168.77.10/24", "dev", "veth-router")
        lan.ip("addr", "add", "fd00:77::10/64", "dev", "veth-router", "nodad")

        let netlink = try RTNetlink(namespacePath: router.path)
        let meshSide = try netlink.linkIndex(named: "veth-mesh")
        let lanSide = try netlink.linkIndex(named: "veth-lan")
        try netlink.addAddress(try InterfaceAddress("100.64.0.2/10"), interfaceIndex: meshSide)
        try netlink.addAddress(try InterfaceAddress("fd7a:115c:a1e0::2/48"), interfaceIndex: meshSide, noDAD: true)
        try netlink.addAddress(try InterfaceAddress("192.168.77.1/24"), interfaceIndex: lanSide)
        try netlink.addAddress(try InterfaceAddress("fd00:77::1/64"), interfaceIndex: lanSide, noDAD: true)
        try Forwarding.enable(.ipv4, namespacePath: router.path)
        try Forwarding.enable(.ipv6, namespacePath: router.path)
        let firewall = try NFTables(namespacePath: router.path)
        let lanPrefixes = [try IPPrefix("192.168.77.0/24"), try IPPrefix("fd00:77::/64")]

        // Forwarding alone is not enough: the LAN host cannot answer.
        #expect(!ping(mesh, "192.168.77.10"))
        #expect(!ping(mesh, "fd00:77::10"))

        try firewall.ensureTable(meshInterface: "veth-mesh", prefixes: lanPrefixes)
        #expect(ping(mesh, "192.168.77.10"))
        #expect(ping(mesh, "fd00:77::10"))

        // The LAN host sees the router's LAN address, and its answer arrives.
        do {
            let server = UDPSocket(in: lan, bindTo: "192.168.77.10", port: 7777)
            let client = UDPSocket(in: mesh)
            #expect(client.send("hello", to: "192.168.77.10", port: 7777) == 0)
            let request = try #require(server.receive())
            #expect(request.text == "hello")
            #expect(request.address == "192.168.77.1")
            #expect(server.send("seen " + request.address, to: request.address, port: request.port) == 0)
            let reply = try #require(client.receive())
            #expect(reply.text == "seen 192.168.77.1")
            #expect(reply.address == "192.168.77.10")
        }

        // Without Tern's table the same traffic fails: the rule is what makes it work.
        try firewall.removeTable()
        #expect(!ping(mesh, "192.168.77.10"))
        #expect(!ping(mesh, "fd00:77::10"))
        do {
            let server = UDPSocket(in: lan, bindTo: "192.168.77.10", port: 7778)
            let client = UDPSocket(in: mesh, timeoutSeconds: 1)
            #expect(client.send("hello", to: "192.168.77.10", port: 7778) == 0)
            let request = try #require(server.receive())
            #expect(request.address == "100.64.0.1", "arrives un-NATed")
            #expect(server.send("seen", to: request.address, port: request.port) == ENETUNREACH, "no route back")
            #expect(client.receive() == nil)
        }

        // A default-drop forward chain in another table still wins over
        // Tern's accept (nftables: accept ends only its own chain). Tern
        // documents this instead of editing other tables.
        try firewall.ensureTable(meshInterface: "veth-mesh", prefixes: lanPrefixes)
        #expect(ping(mesh, "192.168.77.10"))
        let distro = router.exec(["nft", "add table inet distro; add chain inet distro forward { type filter hook forward priority filter; policy drop; }"])
        #expect(distro.succeeded, "\(distro.stderr)")
        #expect(!ping(mesh, "192.168.77.10"))
        router.exec(["nft", "delete table inet distro"])
        #expect(ping(mesh, "192.168.77.10"))
        try firewall.removeTable()
    }
}
