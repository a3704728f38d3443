import ControlProtocol
import IP
@testable import Policy
import Testing

/// Which nodes and prefixes each kind of target stands for in the standard network.
@Suite struct ResolutionTests {
    let policy = try! Policy(parsing: """
        {"groups": {"group:eng": ["alice@", "carol@example.com", "zed@"], "group:ops": ["bob@"], "group:empty": []},
         "tagOwners": {"tag:server": [], "tag:db": [], "tag:router": [], "tag:web": []},
         "hosts": {"nas": "100.64.0.3", "lan": "192.168.1.0/24"}}
        """)

    /// The node ids and prefixes `text` resolves to.
    func resolve(_ text: String, asSource: Bool = true) -> (ids: [UInt64], prefixes: [IPPrefix]) {
        var declared = Declarations()
        declared.groups = Set(policy.groups.keys)
        declared.tags = Set(policy.tagOwners.keys)
        declared.hosts = policy.hosts
        let target = try! PolicyTarget.parse(text, role: asSource ? .source : .destination, declared: declared, at: .root)
        var resolver = TargetResolver(groups: policy.groups, network: standardNetwork)
        let resolved = resolver.resolve(target, asSource: asSource)
        var ids: [UInt64] = []
        resolved.nodes.forEach { ids.append(standardNetwork.nodes[$0].id) }
        return (ids, resolved.prefixes)
    }

    @Test func usersMatchTheirUntaggedNodesOnly() {
        #expect(resolve("alice@").ids == [1, 2])            // 5 and 7 are alice's but tagged
        #expect(resolve("bob@").ids == [3])                 // 6 and 8 are tagged
        #expect(resolve("carol@example.com").ids == [4])
        #expect(resolve("carol@").ids == [])                // the user is "carol@example.com"
        #expect(resolve("dave@").ids == [])                 // a user without nodes
        #expect(resolve("nobody@example.com").ids == [])    // unknown users resolve to nothing
    }

    @Test func groupsAreTheUnionOfTheirUsers() {
        #expect(resolve("group:eng").ids == [1, 2, 4])
        #expect(resolve("group:ops").ids == [3])
        #expect(resolve("group:empty").ids == [])
    }

    @Test func tagsMatchTaggedNodesWhateverTheirUser() {
        #expect(resolve("tag:server").ids == [5, 8])
        #expect(resolve("tag:web").ids == [8])
        #expect(resolve("tag:db").ids == [6])
        #expect(resolve("tag:router").ids == [7])
    }

    @Test func autogroups() {
        #expect(resolve("autogroup:member").ids == [1, 2, 3, 4])
        #expect(resolve("autogroup:tagged").ids == [5, 6, 7, 8])
        #expect(resolve("autogroup:self", asSource: false).ids == [1, 2, 3, 4])
        #expect(resolve("autogroup:internet", asSource: false).ids == [])
        #expect(resolve("autogroup:internet", asSource: false).prefixes == [])
        #expect(resolve("autogroup:danger-all").prefixes == [pfx("0.0.0.0/0"), pfx("::/0")])
    }

    @Test func hostsAndLiteralPrefixesStayPrefixes() {
        #expect(resolve("nas").ids == [])
        #expect(resolve("nas").prefixes == [pfx("100.64.0.3/32")])
        #expect(resolve("lan").prefixes == [pfx("192.168.1.0/24")])
        #expect(resolve("10.0.0.0/8").prefixes == [pfx("10.0.0.0/8")])
        #expect(resolve("fd7a:115c:a1e0::/48").prefixes == [pfx("fd7a:115c:a1e0::/48")])
    }

    @Test func starDependsOnTheSide() {
        let source = resolve("*")
        #expect(source.ids == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(source.prefixes == meshRanges + [pfx("192.168.1.0/24")])  // mesh ranges plus approved routes
        let destination = resolve("*", asSource: false)
        #expect(destination.ids == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(destination.prefixes == [pfx("0.0.0.0/0"), pfx("::/0")])
    }

    @Test func addressIndexFindsNodesInsideAPrefix() {
        let resolver = TargetResolver(groups: [:], network: standardNetwork)
        var found: [Int] = []
        resolver.forEachAddress(in: pfx("100.64.0.4/30")) { _, node in found.append(node) }
        #expect(found == [3, 4, 5, 6])  // indices of nodes 4, 5, 6, 7
        found = []
        resolver.forEachAddress(in: pfx("fd7a:115c:a1e0::8/128")) { _, node in found.append(node) }
        #expect(found == [7])
        #expect(resolver.owners(of: ip("192.168.1.77")) == [6])
        #expect(resolver.owners(of: ip("100.64.0.2")) == [1])
        #expect(resolver.owners(of: ip("10.9.9.9")) == [])
    }

    @Test func normalizedDropsDuplicatesAndContainedPrefixes() {
        let input = [pfx("fd7a::1/128"), pfx("10.1.0.0/16"), pfx("10.0.0.0/8"), pfx("100.64.0.1/32"), pfx("10.0.0.0/8"),
                     pfx("fd7a::/48"), pfx("11.0.0.1/32")]
        #expect(normalized(input) == [pfx("10.0.0.0/8"), pfx("11.0.0.1/32"), pfx("100.64.0.1/32"), pfx("fd7a::/48")])
    }

    @Test func userNameMatching() {
        #expect(PolicyTarget.userName("alice@", matches: "alice"))
        #expect(PolicyTarget.userName("alice@", matches: "alice@"))
        #expect(PolicyTarget.userName("alice@example.com", matches: "alice@example.com"))
        #expect(!PolicyTarget.userName("alice@example.com", matches: "alice"))
        #expect(!PolicyTarget.userName("alice@", matches: "alice@example.com"))
        #expect(!PolicyTarget.userName("alic@", matches: "alice"))
    }
}
