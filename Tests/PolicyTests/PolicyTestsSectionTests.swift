import ControlProtocol
import IP
@testable import Policy
import Testing

/// The `tests` section: evaluated against the compiled filters of the nodes
/// that own the destination addresses.
@Suite struct PolicyTestsSectionTests {
    static let acls = """
        "acls": [
          {"action": "accept", "src": ["group:eng"], "dst": ["tag:server:22"]},
          {"action": "accept", "src": ["bob@"], "dst": ["tag:db:5432"], "proto": "tcp"},
          {"action": "accept", "src": ["alice@"], "dst": ["nas:22"]},
          {"action": "accept", "src": ["bob@"], "dst": ["lan:631"]},
        ],
        """

    func report(_ tests: String, network: PolicyNetwork = standardNetwork,
                sourceLocation: SourceLocation = #_sourceLocation) -> PolicyCheckReport? {
        guard let policy = parse("{" + preamble + PolicyTestsSectionTests.acls + "\"tests\": [" + tests + "]}",
                                 sourceLocation: sourceLocation) else { return nil }
        return CompiledPolicy(policy, network: network).testReport
    }

    @Test func passingTests() throws {
        let result = try #require(report("""
            {"src": "alice@", "accept": ["tag:server:22", "nas:22", "100.64.0.5:22", "[fd7a:115c:a1e0::8]:22"],
             "deny": ["tag:server:80", "tag:db:5432", "nas:23"]},
            {"src": "bob@", "accept": ["tag:db:5432", "printer:631"], "deny": ["tag:server:22"]},
            {"src": "bob@", "proto": "udp", "deny": ["tag:db:5432"]},
            {"src": "100.64.0.4", "accept": ["tag:server:22"]},
            {"src": "group:ops", "deny": ["10.9.9.9:22"]},
            """))
        #expect(result.passed)
        #expect(result.failures == [])
        #expect(result.tests.count == 5)
        #expect(result.tests[0].entries.map { $0.pairs } == [8, 2, 2, 2, 8, 4, 2])  // alice has 2 nodes; tag:server 2; pairs within a family
        #expect(result.tests[1].entries[1].outcome == "allowed")  // printer, behind the router
        #expect(result.description.hasSuffix("5 tests passed"))
    }

    @Test func failingAcceptNamesTestEntryAndAPair() throws {
        let result = try #require(report("{\"src\": \"alice@\", \"accept\": [\"tag:server:22\"]}, {\"src\": \"carol@example.com\", \"accept\": [\"tag:db:5432\"]}"))
        #expect(!result.passed)
        #expect(result.failures.map { $0.description } == [
            "tests[1].accept[0]: test 2 (src carol@example.com, tcp): expected tag:db:5432 to be allowed, but it is denied "
                + "(100.64.0.4 -> 100.64.0.6:5432 is denied)",
        ])
        #expect(result.failures.first?.kind == .testFailed)
    }

    @Test func failingDenyAndPartialResults() throws {
        let result = try #require(report("""
            {"src": "bob@", "deny": ["tag:db:5432"]},
            {"src": "group:eng", "accept": ["nas:22"]},
            {"src": "bob@", "proto": "udp", "accept": ["tag:db:5432"]},
            """))
        #expect(result.failures.map { $0.description } == [
            "tests[0].deny[0]: test 1 (src bob@, tcp): expected tag:db:5432 to be denied, but it is allowed "
                + "(100.64.0.3 -> 100.64.0.6:5432 is allowed)",
            "tests[1].accept[0]: test 2 (src group:eng, tcp): expected nas:22 to be allowed, but it is allowed for 2 of 3 address pairs "
                + "(100.64.0.4 -> 100.64.0.3:22 is denied)",
            "tests[2].accept[0]: test 3 (src bob@, udp): expected tag:db:5432 to be allowed, but it is denied "
                + "(100.64.0.3 -> 100.64.0.6:5432 is denied)",
        ])
    }

    @Test func sourcesAndDestinationsThatCannotBeEvaluatedFail() throws {
        let result = try #require(report("""
            {"src": "zed@", "accept": ["nas:22"]},
            {"src": "dave@", "accept": ["nas:22"]},
            {"src": "alice@", "accept": ["10.9.9.9:22"]},
            {"src": "alice@", "accept": ["tag:router:22"], "deny": ["100.64.0.200:22"]},
            """))
        #expect(result.failures.map { $0.description } == [
            "tests[0].src: test 1 (src zed@, tcp): unknown user \"zed@\"",
            "tests[1].src: test 2 (src dave@, tcp): src dave@ has no addresses (no nodes)",
            "tests[2].accept[0]: test 3 (src alice@, tcp): expected 10.9.9.9:22 to be allowed, but it is denied "
                + "(100.64.0.1 -> 10.9.9.9:22 has no node or route)",
            "tests[3].accept[0]: test 4 (src alice@, tcp): expected tag:router:22 to be allowed, but it is denied "
                + "(100.64.0.1 -> 100.64.0.7:22 is denied)",
        ])
        // A deny to an address nobody owns holds.
        #expect(result.tests[3].entries[1].passed)
    }

    @Test func mixedFamiliesOnlyPairWithinAFamily() throws {
        let result = try #require(report("{\"src\": \"100.64.0.1\", \"accept\": [\"[fd7a:115c:a1e0::5]:22\"]}"))
        #expect(result.failures.map { $0.description } == [
            "tests[0].accept[0]: test 1 (src 100.64.0.1, tcp): expected [fd7a:115c:a1e0::5]:22 to be allowed, "
                + "but it is no source and destination address of the same family",
        ])
    }

    @Test func compileThrowsTheFirstFailureAndPassesOtherwise() throws {
        let good = try Policy(parsing: "{" + preamble + PolicyTestsSectionTests.acls
            + "\"tests\": [{\"src\": \"bob@\", \"accept\": [\"tag:db:5432\"]}]}")
        let compiled = try good.compile(for: standardNetwork)
        #expect(compiled.testReport.passed)
        #expect(compiled.rules(for: 6).count == 1)

        let bad = try Policy(parsing: "{" + preamble + PolicyTestsSectionTests.acls
            + "\"tests\": [{\"src\": \"bob@\", \"accept\": [\"tag:db:22\"], \"deny\": [\"tag:db:5432\"]}]}")
        #expect(throws: PolicyError(.testFailed, path: "tests[0].accept[0]",
                                    "test 1 (src bob@, tcp): expected tag:db:22 to be allowed, but it is denied (100.64.0.3 -> 100.64.0.6:22 is denied)")) {
            try bad.compile(for: standardNetwork)
        }
    }

    @Test func testsRunAgainstAllowAllToo() throws {
        let policy = try Policy(parsing: "{\"tests\": [{\"src\": \"alice@\", \"accept\": [\"100.64.0.6:5432\"], \"deny\": [\"100.64.0.3:22\"]}]}")
        let report = CompiledPolicy(policy, network: standardNetwork).testReport
        #expect(report.tests[0].entries.map { $0.passed } == [true, false])
    }

    @Test func reportText() throws {
        let result = try #require(report("""
            {"src": "bob@", "accept": ["tag:db:5432"], "deny": ["tag:server:22", "tag:db:22"]},
            {"src": "group:eng", "proto": "udp", "accept": ["tag:server:22"]},
            """))
        #expect(result.description == """
            test 1: src bob@, proto tcp
              accept tag:db:5432: allowed  ok
              deny tag:server:22: denied  ok
              deny tag:db:22: denied  ok
            test 2: src group:eng, proto udp
              accept tag:server:22: allowed  ok
            2 tests passed
            """)
        let failing = try #require(report("{\"src\": \"carol@example.com\", \"accept\": [\"nas:22\"]}, {\"src\": \"zed@\", \"deny\": [\"nas:22\"]}"))
        #expect(failing.description == """
            test 1: src carol@example.com, proto tcp
              accept nas:22: denied  FAIL (100.64.0.4 -> 100.64.0.3:22 is denied)
            test 2: src zed@, proto tcp: FAIL: unknown user "zed@"
            2 of 2 tests failed
            """)
    }
}
