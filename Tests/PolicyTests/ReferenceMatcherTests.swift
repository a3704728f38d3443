import ControlProtocol
import IP
import Policy
import Testing

@Suite struct ReferenceMatcherTests {
    let rules = [
        FilterRule(sources: [pfx("100.64.0.1/32"), pfx("fd7a::/48")],
                   destinations: [FilterDestination(prefix: pfx("100.64.0.5/32"), ports: PortRange(first: 20, last: 22)!),
                                  FilterDestination(prefix: pfx("fd7a::5/128"), ports: PortRange(first: 443, last: 443)!)],
                   protocols: [], policyRule: 0),
        FilterRule(sources: [pfx("10.0.0.0/8")],
                   destinations: [FilterDestination(prefix: pfx("100.64.0.5/32"), ports: .all)],
                   protocols: [47], policyRule: 1),
        FilterRule(sources: [pfx("10.0.0.0/8")],
                   destinations: [FilterDestination(prefix: pfx("100.64.0.6/32"), ports: PortRange(first: 1, last: 1)!)],
                   protocols: [50], policyRule: 2),
        FilterRule(sources: [pfx("192.168.0.0/16")],
                   destinations: [FilterDestination(prefix: pfx("100.64.0.9/32"), ports: PortRange(first: 53, last: 53)!)],
                   protocols: [17, 132], policyRule: 3),
    ]

    @Test func portsProtocolsSourcesAndDestinations() {
        let a = ip("100.64.0.1"), five = ip("100.64.0.5")
        #expect(allows(rules, source: a, destination: five, proto: 6, port: 22))
        #expect(allows(rules, source: a, destination: five, proto: 17, port: 20))
        #expect(!allows(rules, source: a, destination: five, proto: 6, port: 23))
        #expect(!allows(rules, source: a, destination: five, proto: 132, port: 22))  // SCTP is not in the default set
        #expect(!allows(rules, source: ip("100.64.0.2"), destination: five, proto: 6, port: 22))
        #expect(!allows(rules, source: a, destination: ip("100.64.0.6"), proto: 6, port: 22))
        #expect(allows(rules, source: ip("fd7a::9"), destination: ip("fd7a::5"), proto: 6, port: 443))
        #expect(!allows(rules, source: ip("fd7a::9"), destination: ip("fd7a::5"), proto: 6, port: 22))
        #expect(allows(rules, source: ip("192.168.3.4"), destination: ip("100.64.0.9"), proto: 132, port: 53))
        #expect(!allows(rules, source: ip("192.168.3.4"), destination: ip("100.64.0.9"), proto: 6, port: 53))
    }

    @Test func icmpIgnoresPortsAndOtherProtocolsNeedAllPorts() {
        #expect(allows(rules, source: ip("100.64.0.1"), destination: ip("100.64.0.5"), proto: 1, port: 0))
        #expect(allows(rules, source: ip("fd7a::1"), destination: ip("fd7a::5"), proto: 58, port: 0))
        #expect(allows(rules, source: ip("10.1.1.1"), destination: ip("100.64.0.5"), proto: 47, port: 0))
        #expect(!allows(rules, source: ip("10.1.1.1"), destination: ip("100.64.0.6"), proto: 50, port: 1))  // not all ports
        #expect(!allows(rules, source: ip("10.1.1.1"), destination: ip("100.64.0.5"), proto: 1, port: 0))  // rule 1 is GRE only
        #expect(!allows([], source: ip("10.1.1.1"), destination: ip("100.64.0.5"), proto: 6, port: 1))
    }

    @Test func allowAllRuleAllowsEverything() {
        let rule = [CompiledPolicy.allowAllRule]
        #expect(allows(rule, source: ip("1.2.3.4"), destination: ip("5.6.7.8"), proto: 6, port: 1))
        #expect(allows(rule, source: ip("::1"), destination: ip("fd00::1"), proto: 58, port: 0))
        #expect(allows(rule, source: ip("1.2.3.4"), destination: ip("5.6.7.8"), proto: 17, port: 65535))
        #expect(!allows(rule, source: ip("1.2.3.4"), destination: ip("5.6.7.8"), proto: 47, port: 0))  // default protocols only
    }
}

@Suite struct AutoApproverTests {
    let policy = try! Policy(parsing: """
        {"groups": {"group:net": ["alice@", "carol@example.com"]},
         "tagOwners": {"tag:router": [], "tag:exit": []},
         "autoApprovers": {"routes": {"10.0.0.0/8": ["group:net"], "192.168.1.0/24": ["tag:router", "bob@"],
                                      "::/0": ["bob@"]},
                           "exitNode": ["tag:exit"]}}
        """)

    @Test func equalOrContainingPrefixesApprove() {
        #expect(policy.autoApproves(pfx("10.0.0.0/8"), user: "alice", tags: []))
        #expect(policy.autoApproves(pfx("10.20.0.0/16"), user: "carol@example.com", tags: []))
        #expect(!policy.autoApproves(pfx("0.0.0.0/4"), user: "alice", tags: []))
        #expect(!policy.autoApproves(pfx("10.0.0.0/8"), user: "bob", tags: []))
        #expect(policy.autoApproves(pfx("192.168.1.128/25"), user: "bob", tags: []))
        #expect(policy.autoApproves(pfx("192.168.1.0/24"), user: "nobody", tags: ["tag:router"]))
        #expect(!policy.autoApproves(pfx("192.168.0.0/16"), user: "nobody", tags: ["tag:router"]))
    }

    @Test func taggedNodesMatchByTagsOnly() {
        #expect(!policy.autoApproves(pfx("10.1.0.0/16"), user: "alice", tags: ["tag:router"]))
        #expect(!policy.autoApproves(pfx("192.168.1.0/24"), user: "bob", tags: ["tag:exit"]))
    }

    @Test func exitRoutesNeedExitNodeApproval() {
        #expect(!policy.autoApproves(pfx("::/0"), user: "bob", tags: []))  // a /0 under routes does not count
        #expect(policy.autoApproves(pfx("fd00:1::/64"), user: "bob", tags: []))  // but approves every subnet route
        #expect(policy.autoApproves(pfx("0.0.0.0/0"), user: "x", tags: ["tag:exit"]))
        #expect(policy.autoApproves(pfx("::/0"), user: "x", tags: ["tag:exit"]))
        #expect(!policy.autoApproves(pfx("10.0.0.0/8"), user: "x", tags: ["tag:exit"]))
    }
}
