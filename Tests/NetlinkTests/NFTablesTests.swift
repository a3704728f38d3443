import CTern
import Foundation
import IP
import Testing
@testable import Netlink

/// Tern's nftables table, built over netlink in a throwaway namespace and
/// compared with `nft -j list table inet tern`.
@Suite(.serialized, .enabled(if: canRunIntegration, "needs root, ip and nft"))
struct NFTablesTests {
    /// `nft -j list table inet tern` in `namespace`, without the metainfo
    /// and the handles (which depend on history); nil if there is no table.
    func listTable(_ namespace: TestNamespace, _ table: String = "inet tern") -> [Any]? {
        let result = namespace.exec(["nft", "-j", "list", "table"] + table.split(separator: " ").map(String.init))
        guard result.succeeded else { return nil }
        return normalized(result.stdout)
    }

    func normalized(_ json: String) -> [Any]? {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let items = object["nftables"] as? [[String: Any]] else { return nil }
        func strip(_ value: Any) -> Any {
            if let dictionary = value as? [String: Any] {
                return dictionary.filter { $0.key != "handle" }.mapValues(strip)
            }
            if let array = value as? [Any] { return array.map(strip) }
            return value
        }
        return items.filter { $0["metainfo"] == nil }.map(strip)
    }

    func same(_ a: [Any]?, _ b: [Any]?) -> Bool {
        guard let a, let b else { return false }
        return NSArray(array: a).isEqual(to: b)
    }

    /// What `nft -f` itself makes of the documented rule text, in a
    /// reference namespace.
    func reference(_ interface: String, _ prefixes: [String], masquerade: Bool = true) -> [Any]? {
        let reference = TestNamespace("nftref")
        defer { reference.delete() }
        func daddr(_ prefix: String) -> String { (prefix.contains(":") ? "ip6 daddr " : "ip daddr ") + prefix }
        var text = "table inet tern {\n chain forward {\n  type filter hook forward priority filter - 10; policy accept;\n"
        for prefix in prefixes { text += "  iifname \"\(interface)\" \(daddr(prefix)) accept\n" }
        text += "  oifname \"\(interface)\" ct state established,related accept\n }\n"
        if masquerade {
            text += " chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n"
            for prefix in prefixes { text += "  iifname \"\(interface)\" \(daddr(prefix)) masquerade\n" }
            text += " }\n"
        }
        text += "}\n"
        let file = NSTemporaryDirectory() + "tern-nft-\(UUID().uuidString).nft"
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let loaded = reference.exec(["nft", "-f", file])
        #expect(loaded.succeeded, "nft -f: \(loaded.stderr)")
        return listTable(reference)
    }

    @Test func theTableMatchesWhatNftMakesOfTheRuleText() throws {
        let namespace = TestNamespace("nft")
        defer { namespace.delete() }
        let nftables = try NFTables(namespacePath: namespace.path)
        #expect(try nftables.tableExists() == false)
        // Byte-aligned, unaligned, host and /0 prefixes of both families.
        let prefixes = ["192.168.77.0/24", "100.64.0.0/10", "10.1.2.3/32", "0.0.0.0/0", "fd00:77::/64", "fd7a:115c::/33"]
        try nftables.ensureTable(meshInterface: "tern0", prefixes: prefixes.map { try IPPrefix($0) })
        #expect(try nftables.tableExists())
        let ours = listTable(namespace)
        #expect(same(ours, reference("tern0", prefixes)), "ours: \(String(describing: ours))")
        #expect(!same(ours, reference("tern1", prefixes)), "the comparison can fail")

        // The plain spelling, spot-checked.
        let text = namespace.exec(["nft", "list", "table", "inet", "tern"]).stdout
        #expect(text.contains("type filter hook forward priority filter - 10; policy accept;"))
        #expect(text.contains("iifname \"tern0\" ip daddr 100.64.0.0/10 accept"))
        #expect(text.contains("oifname \"tern0\" ct state established,related accept"))
        #expect(text.contains("type nat hook postrouting priority srcnat; policy accept;"))
        #expect(text.contains("iifname \"tern0\" ip6 daddr fd00:77::/64 masquerade"))
    }

    @Test func ensuringAgainReplacesAtomicallyAndRemovingIsIdempotent() throws {
        let namespace = TestNamespace("nftre")
        defer { namespace.delete() }
        // Someone else's table, which Tern must leave alone.
        let other = namespace.exec(["nft", "add table inet other; add chain inet other forward { type filter hook forward priority 0; policy accept; }; add rule inet other forward counter"])
        #expect(other.succeeded, "\(other.stderr)")
        let otherBefore = listTable(namespace, "inet other")

        let nftables = try NFTables(namespacePath: namespace.path)
        try nftables.ensureTable(meshInterface: "tern0", prefixes: [try IPPrefix("192.168.1.0/24")])
        try nftables.ensureTable(meshInterface: "tern0", prefixes: [try IPPrefix("192.168.1.0/24"), try IPPrefix("192.168.1.9/24")])
        #expect(same(listTable(namespace), reference("tern0", ["192.168.1.0/24"])), "no duplicate rules")

        // A restarted daemon (new socket) replaces the table, not adds to it.
        let restarted = try NFTables(namespacePath: namespace.path)
        try restarted.ensureTable(meshInterface: "wg7", prefixes: [try IPPrefix("10.0.0.0/8"), try IPPrefix("fd00::/8")])
        #expect(same(listTable(namespace), reference("wg7", ["10.0.0.0/8", "fd00::/8"])))

        // SNAT off: forward rules only.
        try restarted.ensureTable(meshInterface: "wg7", prefixes: [try IPPrefix("10.0.0.0/8")], masquerade: false)
        #expect(same(listTable(namespace), reference("wg7", ["10.0.0.0/8"], masquerade: false)))

        try restarted.removeTable()
        #expect(try restarted.tableExists() == false)
        #expect(listTable(namespace) == nil)
        try restarted.removeTable()
        #expect(same(listTable(namespace, "inet other"), otherBefore), "other tables untouched")
    }

    @Test func badInputIsRefusedAndNothingChanges() throws {
        let namespace = TestNamespace("nftbad")
        defer { namespace.delete() }
        let nftables = try NFTables(namespacePath: namespace.path)
        try nftables.ensureTable(meshInterface: "tern0", prefixes: [try IPPrefix("192.168.1.0/24")])
        let before = listTable(namespace)
        let error = try #require(throws: NetlinkError.self) {
            try nftables.ensureTable(meshInterface: "an-interface-name-too-long", prefixes: [])
        }
        #expect(error.code == .invalidArgument)
        #expect(error.description.hasPrefix("replacing nftables table inet tern: invalid argument"))
        #expect(same(listTable(namespace), before))
    }

    @Test func aFailingTransactionLeavesTheOldTable() throws {
        let namespace = TestNamespace("nftatomic")
        defer { namespace.delete() }
        let nftables = try NFTables(namespacePath: namespace.path)
        try nftables.ensureTable(meshInterface: "tern0", prefixes: [try IPPrefix("192.168.1.0/24")])
        let before = listTable(namespace)
        // Delete and re-create the table, then a rule for a chain that does
        // not exist: the kernel refuses the whole transaction.
        let transaction = NFTablesTransaction(nftables.socket)
        transaction.add("deleting table inet tern", nftables.table(NFT_MSG_DELTABLE, flags: 0))
        transaction.add("creating table inet tern", nftables.table(NFT_MSG_NEWTABLE, flags: NLM_F_CREATE))
        transaction.add("adding a rule to chain nope", nftables.rule("nope") { $0.accept() })
        let error = try #require(throws: NetlinkError.self) { try transaction.commit("testing") }
        #expect(error.code == .notFound)
        #expect(error.description.hasPrefix("testing: not found (adding a rule to chain nope"))
        #expect(same(listTable(namespace), before))
    }

    @Test func footprintListsAndRemovesWhatTernOwns() throws {
        let namespace = TestNamespace("owned")
        defer { namespace.delete() }
        namespace.addVeth("d0", peer: "d0p")
        let routing = try RTNetlink(namespacePath: namespace.path)
        let firewall = try NFTables(namespacePath: namespace.path)
        #expect(try TernFootprint.read(routing: routing, firewall: firewall).isEmpty)
        namespace.ip("route", "add", "10.3.0.0/16", "dev", "d0")  // not Tern's
        let route = Route(destination: try IPPrefix("10.4.0.0/16"), interfaceIndex: try routing.linkIndex(named: "d0"))
        try routing.addRoute(route)
        try firewall.ensureTable(meshInterface: "d0", prefixes: [try IPPrefix("10.4.0.0/16")])

        let footprint = try TernFootprint.read(routing: routing, firewall: firewall)
        #expect(footprint == TernFootprint(routes: [route], hasFirewallTable: true))

        try TernFootprint.removeAll(routing: routing, firewall: firewall)
        #expect(try TernFootprint.read(routing: routing, firewall: firewall).isEmpty)
        #expect(routeLines(namespace, "-4") == ["10.3.0.0/16 dev=d0 table=main metric=0"])
    }
}
