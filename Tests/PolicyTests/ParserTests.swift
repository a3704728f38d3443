import ControlProtocol
import IP
@testable import Policy
import Testing

@Suite struct ParserTests {
    @Test func readsHuJSONWithCommentsAndTrailingCommas() throws {
        let policy = try Policy(parsing: """
            // Tern policy
            {
              /* groups of people */
              "groups": {"group:eng": ["alice@", "bob@example.com",],},
              "tagOwners": {"tag:web": ["group:eng"],},
              "hosts": {"db": "100.64.0.9", "corp": "10.0.0.0/8", "v6host": "fd7a::1",},
              "acls": [
                // engineers reach the web servers
                {"action": "accept", "src": ["group:eng"], "dst": ["tag:web:80,443,8000-8999",],},
                {"action": "accept", "src": ["*"], "dst": ["db:5432"], "proto": "tcp"},
              ],
            }
            """)
        #expect(policy.groups == ["group:eng": ["alice@", "bob@example.com"]])
        #expect(policy.tagOwners == ["tag:web": ["group:eng"]])
        #expect(policy.hosts == ["db": pfx("100.64.0.9/32"), "corp": pfx("10.0.0.0/8"), "v6host": pfx("fd7a::1/128")])
        #expect(policy.acls == [
            PolicyACL(sources: [.group("group:eng")],
                      destinations: [PolicyDestination(target: .tag("tag:web"), ports: [port(80), port(443), ports(8000, 8999)])]),
            PolicyACL(sources: [.any], destinations: [PolicyDestination(target: .host("db", pfx("100.64.0.9/32")), ports: [port(5432)])],
                      proto: 6),
        ])
        #expect(!policy.allowsAll)
    }

    @Test func emptyDocumentAndMissingACLsAllowAll() throws {
        #expect(try Policy(parsing: "{}").allowsAll)
        #expect(try Policy(parsing: "{\"groups\": {}}").acls == nil)
        #expect(try Policy(parsing: "{\"acls\": []}").acls == [])
        #expect(try !Policy(parsing: "{\"acls\": []}").allowsAll)
    }

    @Test func syntaxErrorsCarryLineAndColumn() {
        let error = parseError("{\n  \"acls\": [\n    {\"action\": \"accept\" \"src\": []}\n  ]\n}")
        #expect(error?.kind == .syntax)
        #expect(error?.line == 3)
        #expect(error?.column == 25)
        #expect(error?.description.hasPrefix("line 3, column 25: ") == true)

        let unterminated = parseError("{\n // ok\n /* never closed\n")
        #expect(unterminated?.kind == .syntax)
        #expect(unterminated?.line == 3)
        #expect(unterminated?.column == 2)

        let notObject = parseError("[1, 2]")
        #expect(notObject?.kind == .invalid)
        #expect(notObject?.description == "a policy is a JSON object ({ \"acls\": [...], ... })")
    }

    /// Malformed policies: each must fail with this path and a message containing this text.
    static let malformed: [(text: String, path: String, message: String, kind: PolicyError.Kind)] = [
        // Top level.
        ("{\"acl\": []}", "acl", "unknown key \"acl\"", .invalid),
        ("{\"acls\": [], \"ACLs\": []}", "ACLs", "appears twice", .invalid),
        ("{\"grants\": []}", "grants", "not supported", .unsupported),
        ("{\"postures\": {}}", "postures", "not supported", .unsupported),
        ("{\"acls\": {}}", "acls", "expected an array", .invalid),
        ("{\"acls\": null}", "acls", "expected an array", .invalid),
        ("{\"acls\": [1]}", "acls[0]", "expected an object", .invalid),
        // Rules.
        ("{\"acls\": [{\"action\": \"deny\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}]}", "acls[0].action", "only action is \"accept\"", .invalid),
        ("{\"acls\": [{\"src\": [\"*\"], \"dst\": [\"*:*\"]}]}", "acls[0]", "missing \"action\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"dst\": [\"*:*\"]}]}", "acls[0]", "missing \"src\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"]}]}", "acls[0]", "missing \"dst\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"users\": [\"*\"], \"dst\": [\"*:*\"]}]}", "acls[0]", "legacy name \"users\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"dstt\": 1}]}", "acls[0].dstt", "unknown key \"dstt\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": \"*\", \"dst\": [\"*:*\"]}]}", "acls[0].src", "expected an array", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [1], \"dst\": [\"*:*\"]}]}", "acls[0].src[0]", "expected a string", .invalid),
        // Targets.
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"group:nope\"], \"dst\": [\"*:*\"]}]}", "acls[0].src[0]", "unknown group \"group:nope\"", .unknownReference),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\", \"tag:web:80\"]}]}", "acls[0].dst[1]", "unknown tag \"tag:web\"", .unknownReference),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"alice\"], \"dst\": [\"*:*\"]}]}", "acls[0].src[0]", "unknown host \"alice\" (declare it in hosts; a user is written \"alice@\")", .unknownReference),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"autogroup:admin\"], \"dst\": [\"*:*\"]}]}", "acls[0].src[0]", "unknown autogroup", .unknownReference),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"autogroup:self\"], \"dst\": [\"*:*\"]}]}", "acls[0].src[0]", "cannot be a source", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"autogroup:danger-all:*\"]}]}", "acls[0].dst[0]", "cannot be a destination", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"10.0.0.0/33\"], \"dst\": [\"*:*\"]}]}", "acls[0].src[0]", "bad address or prefix", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"a@b@c\"], \"dst\": [\"*:*\"]}]}", "acls[0].src[0]", "bad user", .invalid),
        // Destinations and ports.
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*\"]}]}", "acls[0].dst[0]", "write target:ports", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:\"]}]}", "acls[0].dst[0]", "write target:ports", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:65536\"]}]}", "acls[0].dst[0]", "bad port \"65536\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:0\"]}]}", "acls[0].dst[0]", "port 0", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22,\"]}]}", "acls[0].dst[0]", "bad port \"\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:90-80\"]}]}", "acls[0].dst[0]", "first port is larger", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:1-2-3\"]}]}", "acls[0].dst[0]", "bad port \"1-2-3\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:022\"]}]}", "acls[0].dst[0]", "bad port \"022\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:http\"]}]}", "acls[0].dst[0]", "bad port \"http\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"fd7a::1:22\"]}]}", "acls[0].dst[0]", "must be in brackets", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"[10.0.0.1]:22\"]}]}", "acls[0].dst[0]", "bad address or prefix", .invalid),
        // Protocols.
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22\"], \"proto\": \"icmp\"}]}", "acls[0].dst[0]", "proto icmp has no ports", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": \"*\"}]}", "acls[0].proto", "proto \"*\" is not allowed", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": \"tcpp\"}]}", "acls[0].proto", "unknown proto \"tcpp\"", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": \"0\"}]}", "acls[0].proto", "unknown proto", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": \"256\"}]}", "acls[0].proto", "unknown proto", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": \"06\"}]}", "acls[0].proto", "unknown proto", .invalid),
        ("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": 6}]}", "acls[0].proto", "as a string", .invalid),
        // Groups, tags, hosts.
        ("{\"groups\": {\"eng\": []}}", "groups.eng", "bad group name", .invalid),
        ("{\"groups\": {\"group:a\": [\"x@\"], \"group:b\": [\"group:a\"]}}", "groups[\"group:b\"][0]", "nested group \"group:a\"", .invalid),
        ("{\"groups\": {\"group:a\": [\"alice\"]}}", "groups[\"group:a\"][0]", "is not a user", .invalid),
        ("{\"groups\": {\"group:a\": [\"tag:x@\"]}}", "groups[\"group:a\"][0]", "is not a user", .invalid),
        ("{\"tagOwners\": {\"server\": []}}", "tagOwners.server", "bad tag", .invalid),
        ("{\"tagOwners\": {\"tag:1st\": []}}", "tagOwners[\"tag:1st\"]", "starts with a letter", .invalid),
        ("{\"tagOwners\": {\"tag:a\": [\"group:none\"]}}", "tagOwners[\"tag:a\"][0]", "unknown group", .unknownReference),
        ("{\"tagOwners\": {\"tag:a\": [\"tag:b\"]}}", "tagOwners[\"tag:a\"][0]", "unknown tag \"tag:b\"", .unknownReference),
        ("{\"tagOwners\": {\"tag:a\": [\"10.0.0.1\"]}}", "tagOwners[\"tag:a\"][0]", "cannot approve or own", .invalid),
        ("{\"hosts\": {\"db\": \"100.64.0.300\"}}", "hosts.db", "bad address or prefix", .invalid),
        ("{\"hosts\": {\"db:1\": \"100.64.0.3\"}}", "hosts[\"db:1\"]", "bad host name", .invalid),
        ("{\"hosts\": {\"10.0.0.1\": \"100.64.0.3\"}}", "hosts[\"10.0.0.1\"]", "bad host name", .invalid),
        ("{\"hosts\": {\"db\": 5}}", "hosts.db", "expected an address", .invalid),
        // autoApprovers.
        ("{\"autoApprovers\": {\"routes\": {\"10.0.0.0/40\": []}}}", "autoApprovers.routes[\"10.0.0.0/40\"]", "bad route prefix", .invalid),
        ("{\"autoApprovers\": {\"routes\": {\"10.0.0.0/8\": [\"group:x\"]}}}", "autoApprovers.routes[\"10.0.0.0/8\"][0]", "unknown group", .unknownReference),
        ("{\"autoApprovers\": {\"exitNodes\": []}}", "autoApprovers.exitNodes", "unknown key", .invalid),
        // Tests.
        ("{\"tests\": [{\"accept\": [\"1.2.3.4:22\"]}]}", "tests[0]", "missing \"src\"", .invalid),
        ("{\"tests\": [{\"src\": \"x@\"}]}", "tests[0]", "needs \"accept\" or \"deny\"", .invalid),
        ("{\"tests\": [{\"src\": [\"x@\"], \"accept\": []}]}", "tests[0].src", "one source", .invalid),
        ("{\"tests\": [{\"src\": \"*\", \"accept\": []}]}", "tests[0].src", "cannot be a test source", .invalid),
        ("{\"tests\": [{\"src\": \"x@\", \"proto\": \"icmp\", \"accept\": []}]}", "tests[0].proto", "tcp, udp or sctp", .invalid),
        ("{\"tests\": [{\"src\": \"x@\", \"accept\": [\"100.64.0.1:22-23\"]}]}", "tests[0].accept[0]", "one port", .invalid),
        ("{\"tests\": [{\"src\": \"x@\", \"accept\": [\"100.64.0.1:*\"]}]}", "tests[0].accept[0]", "one port", .invalid),
        ("{\"tests\": [{\"src\": \"x@\", \"deny\": [\"100.64.0.0/24:22\"]}]}", "tests[0].deny[0]", "must be a single address", .invalid),
        ("{\"tests\": [{\"src\": \"x@\", \"deny\": [\"autogroup:internet:443\"]}]}", "tests[0].deny[0]", "cannot be a test destination", .invalid),
        ("{\"tests\": [{\"src\": \"x@\", \"deny\": [\"tag:none:443\"]}]}", "tests[0].deny[0]", "unknown tag", .unknownReference),
        ("{\"tests\": [{\"src\": \"x@\", \"accept\": [], \"users\": []}]}", "tests[0].users", "unknown key", .invalid),
    ]

    @Test(arguments: 0..<malformed.count)
    func malformedPolicyIsRejectedWithPathAndReason(_ index: Int) {
        let (text, path, message, kind) = ParserTests.malformed[index]
        guard let error = parseError(text) else { return }
        #expect(error.path == path, "\(text)")
        #expect(error.message.contains(message), "\(text) gave: \(error)")
        #expect(error.kind == kind, "\(text) gave: \(error)")
        #expect(error.description == path + ": " + error.message)
        #expect(error.line == nil)
    }

    @Test func keysMatchIgnoringCaseAndHashKeysAreSkipped() throws {
        let policy = try Policy(parsing: """
            {"#comment": "anything", "ACLs": [{"Action": "accept", "SRC": ["*"], "Dst": ["*:22"], "#why": 1, "PROTO": "TCP"}],
             "TAGOWNERS": {"tag:x": []}, "Tests": [{"Src": "10.0.0.1", "Accept": ["10.0.0.2:22"]}]}
            """)
        #expect(policy.acls == [PolicyACL(sources: [.any], destinations: [PolicyDestination(target: .any, ports: [port(22)])], proto: 6)])
        #expect(policy.tagOwners == ["tag:x": []])
        #expect(policy.tests.count == 1)
    }

    @Test func legacyUsersAndPortsMeanSrcAndDst() throws {
        let legacy = try Policy(parsing: "{\"acls\": [{\"action\": \"accept\", \"users\": [\"bob@\"], \"ports\": [\"10.0.0.1:22\"]}]}")
        let modern = try Policy(parsing: "{\"acls\": [{\"action\": \"accept\", \"src\": [\"bob@\"], \"dst\": [\"10.0.0.1:22\"]}]}")
        #expect(legacy == modern)
        #expect(legacy.acls?[0].sources == [.user("bob@")])
    }

    @Test func ignoredSectionsAreListed() throws {
        let policy = try Policy(parsing: "{\"ssh\": [{\"action\": \"check\"}], \"nodeAttrs\": [], \"randomizeClientPort\": true}")
        #expect(policy.ignoredSections == ["ssh", "nodeAttrs", "randomizeClientPort"])
        #expect(policy.allowsAll)
    }

    @Test func targetForms() throws {
        let policy = try Policy(parsing: """
            {"groups": {"group:g": []}, "tagOwners": {"tag:t": []}, "hosts": {"h": "10.1.0.0/16"},
             "acls": [{"action": "accept",
                       "src": ["*", "alice@", "bob@example.com", "group:g", "tag:t", "h", "10.0.0.1", "10.0.0.0/8",
                               "fd7a::1", "fd7a::/48", "autogroup:member", "autogroup:tagged", "autogroup:danger-all"],
                       "dst": ["*:*", "alice@:22", "group:g:1-1024", "tag:t:80,443", "h:*", "10.0.0.1:53", "10.0.0.0/8:*",
                               "[fd7a::1]:22", "[fd7a::]/48:*", "autogroup:member:22", "autogroup:tagged:22",
                               "autogroup:self:*", "autogroup:internet:*"]}]}
            """)
        let acl = try #require(policy.acls?.first)
        #expect(acl.sources == [.any, .user("alice@"), .user("bob@example.com"), .group("group:g"), .tag("tag:t"),
                                .host("h", pfx("10.1.0.0/16")), .prefix(pfx("10.0.0.1/32")), .prefix(pfx("10.0.0.0/8")),
                                .prefix(pfx("fd7a::1/128")), .prefix(pfx("fd7a::/48")), .autogroupMember, .autogroupTagged,
                                .autogroupDangerAll])
        #expect(acl.destinations.map { $0.target } == [
            .any, .user("alice@"), .group("group:g"), .tag("tag:t"), .host("h", pfx("10.1.0.0/16")), .prefix(pfx("10.0.0.1/32")),
            .prefix(pfx("10.0.0.0/8")), .prefix(pfx("fd7a::1/128")), .prefix(pfx("fd7a::/48")), .autogroupMember,
            .autogroupTagged, .autogroupSelf, .autogroupInternet])
        #expect(acl.destinations[2].ports == [ports(1, 1024)])
        #expect(acl.destinations[3].ports == [port(80), port(443)])
        #expect(acl.destinations.map { $0.target.description } == [
            "*", "alice@", "group:g", "tag:t", "h", "10.0.0.1", "10.0.0.0/8", "fd7a::1", "fd7a::/48", "autogroup:member",
            "autogroup:tagged", "autogroup:self", "autogroup:internet"])
    }

    @Test func protocolsByNameAndNumber() throws {
        for (text, number) in [("tcp", 6), ("udp", 17), ("sctp", 132), ("icmp", 1), ("ipv6-icmp", 58), ("gre", 47),
                               ("esp", 50), ("ah", 51), ("igmp", 2), ("ip-in-ip", 4), ("ipv4", 4), ("17", 17), ("255", 255), ("1", 1)] {
            let ports = PolicyProtocol.hasPorts(UInt8(number)) ? "22" : "*"
            let policy = try Policy(parsing: "{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:" + ports
                + "\"], \"proto\": \"" + text + "\"}]}")
            #expect(policy.acls?[0].proto == UInt8(number), "\(text)")
        }
        let omitted = try Policy(parsing: "{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22\"], \"proto\": \"\"}]}")
        #expect(omitted.acls?[0].proto == nil)
    }

    @Test func testsSection() throws {
        let policy = try Policy(parsing: """
            {"tagOwners": {"tag:db": []}, "hosts": {"nas": "100.64.0.3"},
             "tests": [{"src": "alice@", "accept": ["tag:db:5432", "[fd7a::1]:22", "nas:445"], "deny": ["100.64.0.9:22"]},
                       {"src": "group:x", "proto": "udp", "deny": ["nas:53"]}],
             "groups": {"group:x": []}}
            """)
        #expect(policy.tests == [
            PolicyTest(source: .user("alice@"), proto: 6,
                       accept: [PolicyTestEntry(text: "tag:db:5432", target: .tag("tag:db"), port: 5432),
                                PolicyTestEntry(text: "[fd7a::1]:22", target: .prefix(pfx("fd7a::1/128")), port: 22),
                                PolicyTestEntry(text: "nas:445", target: .host("nas", pfx("100.64.0.3/32")), port: 445)],
                       deny: [PolicyTestEntry(text: "100.64.0.9:22", target: .prefix(pfx("100.64.0.9/32")), port: 22)]),
            PolicyTest(source: .group("group:x"), proto: 17, accept: [],
                       deny: [PolicyTestEntry(text: "nas:53", target: .host("nas", pfx("100.64.0.3/32")), port: 53)]),
        ])
    }

    @Test func autoApproversSection() throws {
        let policy = try Policy(parsing: """
            {"groups": {"group:net": ["alice@"]}, "tagOwners": {"tag:router": [], "tag:exit": []},
             "autoApprovers": {"routes": {"10.0.0.0/8": ["group:net", "tag:router"], "192.168.0.0/16": ["bob@"]},
                               "exitNode": ["tag:exit"]}}
            """)
        #expect(policy.autoApprovers == AutoApprovers(
            routes: [.init(prefix: pfx("10.0.0.0/8"), approvers: [.group("group:net"), .tag("tag:router")]),
                     .init(prefix: pfx("192.168.0.0/16"), approvers: [.user("bob@")])],
            exitNode: [.tag("tag:exit")]))
    }
}
