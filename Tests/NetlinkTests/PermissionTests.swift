import CTern
import Foundation
import IP
import Testing
@testable import Netlink

/// Without CAP_NET_ADMIN every change fails with `.notPermitted` and a clear
/// message, and nothing changes.
///
/// Capabilities cannot be dropped for just one test inside the test
/// process, so the test runs this same test binary again as a child under
/// `setpriv --inh-caps=-all --bounding-set=-net_admin`: for root, the
/// capabilities after exec are the bounding set, so the child keeps
/// CAP_SYS_ADMIN (to enter the test's namespace) and loses only
/// CAP_NET_ADMIN. (`unshare --user` does not do: from a new user namespace
/// the child may not even enter a namespace owned by the host's.) The child
/// runs `UnprivilegedChild`, which only acts when the environment names
/// the namespace.
@Suite(.serialized, .enabled(if: canRunIntegration && commandExists("setpriv"), "needs root, ip, nft and setpriv"))
struct PermissionTests {
    @Test func withoutCapNetAdminChangesFailWithNotPermitted() throws {
        let namespace = TestNamespace("noperm")
        defer { namespace.delete() }
        namespace.addVeth("d0", peer: "d0p")
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let child = run(
            ["setpriv", "--inh-caps=-all", "--bounding-set=-net_admin", "--", executable,
             "--testing-library", "swift-testing", "--filter", "UnprivilegedChild"],
            environment: [UnprivilegedChild.variable: namespace.path])
        #expect(child.succeeded, "child failed:\n\(child.stdout)\n\(child.stderr)")
        let output = child.stdout + child.stderr
        #expect(output.contains("Test runsWithoutCapNetAdmin() passed"), "\(output)")
        #expect(output.contains("child: adding route 10.1.0.0/16 via dev d0: operation not permitted (CAP_NET_ADMIN is required)"))
        #expect(output.contains("child: replacing nftables table inet tern: operation not permitted"))
        // Nothing changed.
        #expect(routeLines(namespace, "-4", proto: "116").isEmpty)
        #expect(!namespace.exec(["nft", "list", "table", "inet", "tern"]).succeeded)
        #expect((namespace.json("link", "show", "d0").first?["mtu"] as? Int) == 1500)
    }
}

/// The child half of `PermissionTests`: skipped unless the environment
/// names a namespace.
@Suite struct UnprivilegedChild {
    static let variable = "TERN_NETLINK_UNPRIVILEGED_NAMESPACE"
    static let namespacePath = ProcessInfo.processInfo.environment[variable]

    @Test(.enabled(if: namespacePath != nil, "runs only as PermissionTests' child"))
    func runsWithoutCapNetAdmin() throws {
        let path = try #require(UnprivilegedChild.namespacePath)
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let effective = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
        let bits = UInt64(effective?.split(separator: "\t").last ?? "", radix: 16) ?? 0
        #expect(bits & (1 << 12) == 0, "CAP_NET_ADMIN (12) dropped")

        let netlink = try RTNetlink(namespacePath: path)
        // Reading needs no capability.
        let index = try netlink.linkIndex(named: "d0")
        #expect(try netlink.links().contains { $0.name == "d0" })

        let route = Route(destination: try IPPrefix("10.1.0.0/16"), interfaceIndex: index)
        let routeError = try #require(throws: NetlinkError.self) { try netlink.apply([.add(route)]) }
        #expect(routeError.code == .notPermitted)
        print("child: " + routeError.description)
        let mtuError = try #require(throws: NetlinkError.self) { try netlink.setMTU(1400, ofLinkNamed: "d0") }
        #expect(mtuError.code == .notPermitted)
        let addressError = try #require(throws: NetlinkError.self) {
            try netlink.addAddress(try InterfaceAddress("10.1.0.1/16"), interfaceIndex: index)
        }
        #expect(addressError.code == .notPermitted)

        let firewall = try NFTables(namespacePath: path)
        let nftError = try #require(throws: NetlinkError.self) {
            try firewall.ensureTable(meshInterface: "d0", prefixes: [try IPPrefix("10.1.0.0/16")])
        }
        #expect(nftError.code == .notPermitted)
        print("child: " + nftError.description)
    }
}
