import ControlProtocol
import Foundation
import IP
import Policy
import Testing

/// A policy as people write it for Tailscale: comments, groups of email
/// users, tag owners, host aliases, a subnet router, ICMP for monitoring,
/// an ssh section Tern ignores, and tests.
@Suite struct RealisticPolicyTests {
    static let text = """
        // Example Co. tailnet policy file.
        {
          // People.
          "groups": {
            "group:engineering": ["alice@example.com", "bob@example.com"],
            "group:sre":         ["bob@example.com"],
            "group:sales":       ["carol@example.com"],
          },

          // Who may tag machines.
          "tagOwners": {
            "tag:prod":          ["group:sre"],
            "tag:prod-db":       ["group:sre"],
            "tag:ci":            ["group:engineering"],
            "tag:office-router": ["group:sre"],
            "tag:monitoring":    ["group:sre"],
          },

          "hosts": {
            "office-lan":     "10.10.0.0/16",
            "office-printer": "10.10.1.20",
            "wiki":           "10.10.2.5",
            "office-nas":     "10.10.3.3",
          },

          "acls": [
            // Everyone can print and read the wiki in the office.
            {"action": "accept", "src": ["autogroup:member"], "dst": ["office-printer:631,9100", "wiki:80,443"]},
            // Engineers reach production over SSH and HTTPS.
            {"action": "accept", "src": ["group:engineering"], "dst": ["tag:prod:22,443"]},
            // Only SREs touch the database and the office LAN.
            {"action": "accept", "src": ["group:sre"], "dst": ["tag:prod-db:5432", "office-lan:*"]},
            /* Production talks to its database. */
            {"action": "accept", "src": ["tag:prod"], "dst": ["tag:prod-db:5432"]},
            {"action": "accept", "src": ["tag:ci"], "dst": ["tag:prod:22"]},   // CI deploys
            // Monitoring scrapes node exporters everywhere and may ping.
            {"action": "accept", "src": ["tag:monitoring"], "dst": ["*:9100"]},
            {"action": "accept", "src": ["tag:monitoring"], "dst": ["*:*"], "proto": "icmp"},
            // A person's own devices reach each other.
            {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]},
          ],

          "autoApprovers": {
            "routes": {"10.10.0.0/16": ["tag:office-router"]},
          },

          "ssh": [
            {"action": "check", "src": ["group:sre"], "dst": ["tag:prod"], "users": ["root"]},
          ],

          "tests": [
            {
              "src": "alice@example.com",
              "accept": ["tag:prod:443", "tag:prod:22", "office-printer:631", "wiki:443"],
              "deny": ["tag:prod-db:5432", "tag:prod:80", "office-nas:22"],
            },
            {"src": "bob@example.com", "accept": ["tag:prod-db:5432", "office-nas:22", "tag:prod:22"]},
            {"src": "group:sales", "accept": ["wiki:80"], "deny": ["tag:prod:443", "tag:ci:22", "alice@example.com:22"]},
            {"src": "tag:prod", "accept": ["tag:prod-db:5432"], "deny": ["tag:prod-db:22"]},
            {"src": "tag:ci", "proto": "tcp", "accept": ["tag:prod:22"], "deny": ["tag:prod:443"]},
            {"src": "tag:monitoring", "accept": ["tag:prod-db:9100", "alice@example.com:9100", "office-printer:9100"]},
            {"src": "tag:monitoring", "proto": "udp", "deny": ["tag:prod-db:5432"]},
          ],
        }
        """

    static let network = PolicyNetwork(
        nodes: [
            node(1, "alice@example.com"), node(2, "bob@example.com"), node(3, "carol@example.com"),
            node(10, "bob@example.com", tags: ["tag:prod"]), node(11, "bob@example.com", tags: ["tag:prod-db"]),
            node(12, "alice@example.com", tags: ["tag:ci"]),
            node(13, "bob@example.com", tags: ["tag:office-router"], routes: ["10.10.0.0/16"]),
            node(14, "bob@example.com", tags: ["tag:monitoring"]),
        ],
        users: ["alice@example.com", "bob@example.com", "carol@example.com"],
        meshRanges: meshRanges)

    @Test func compilesAndItsTestsPass() throws {
        let policy = try Policy(parsing: RealisticPolicyTests.text)
        #expect(policy.ignoredSections == ["ssh"])
        #expect(policy.acls?.count == 8)
        let compiled = try policy.compile(for: RealisticPolicyTests.network)
        #expect(compiled.testReport.passed, "\(compiled.testReport)")
        #expect(compiled.testReport.tests.count == 7)
        #expect(policy.autoApproves(pfx("10.10.0.0/16"), user: "bob@example.com", tags: ["tag:office-router"]))
    }

    @Test func peersFollowTheRules() throws {
        let compiled = try Policy(parsing: RealisticPolicyTests.text).compile(for: RealisticPolicyTests.network)
        #expect(compiled.visiblePeers(of: 1) == [10, 13, 14])
        #expect(compiled.visiblePeers(of: 2) == [10, 11, 13, 14])
        #expect(compiled.visiblePeers(of: 3) == [13, 14])             // sales: office router and monitoring only
        #expect(compiled.visiblePeers(of: 11) == [2, 10, 14])
        #expect(compiled.visiblePeers(of: 12) == [10, 14])
        #expect(compiled.visiblePeers(of: 14) == [1, 2, 3, 10, 11, 12, 13])
    }

    @Test func theOfficeRouterFiltersForItsLAN() throws {
        let compiled = try Policy(parsing: RealisticPolicyTests.text).compile(for: RealisticPolicyTests.network)
        let rules = compiled.rules(for: 13)
        #expect(rules.map { $0.policyRule } == [0, 2, 5, 6])
        #expect(rules[0].destinations == [
            FilterDestination(prefix: pfx("10.10.1.20/32"), ports: port(631)),
            FilterDestination(prefix: pfx("10.10.1.20/32"), ports: port(9100)),
            FilterDestination(prefix: pfx("10.10.2.5/32"), ports: port(80)),
            FilterDestination(prefix: pfx("10.10.2.5/32"), ports: port(443)),
        ])
        #expect(rules[1].sources == hosts(2))
        #expect(rules[1].destinations == [FilterDestination(prefix: pfx("10.10.0.0/16"), ports: .all)])
        #expect(rules[3].protocols == [1])
        #expect(allows(rules, source: ip("100.64.0.2"), destination: ip("10.10.7.7"), proto: 6, port: 3389))
        #expect(!allows(rules, source: ip("100.64.0.1"), destination: ip("10.10.7.7"), proto: 6, port: 3389))
        #expect(allows(rules, source: ip("100.64.0.3"), destination: ip("10.10.1.20"), proto: 6, port: 9100))
    }

    @Test func breakingTheRulesFailsTheTests() throws {
        // Drop the SRE rule: bob's tests must fail, with messages naming them.
        let text = RealisticPolicyTests.text.replacingOccurrences(
            of: "{\"action\": \"accept\", \"src\": [\"group:sre\"], \"dst\": [\"tag:prod-db:5432\", \"office-lan:*\"]},", with: "")
        let policy = try Policy(parsing: text)
        let report = CompiledPolicy(policy, network: RealisticPolicyTests.network).testReport
        #expect(report.failures.map { $0.path } == ["tests[1].accept[0]", "tests[1].accept[1]"])
        #expect(throws: PolicyError.self) { try policy.compile(for: RealisticPolicyTests.network) }
    }
}
