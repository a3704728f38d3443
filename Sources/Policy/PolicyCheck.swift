import ControlProtocol
import IP

/// What the policy's `tests` did: per test, per entry, what was expected and
/// what the compiled filters decide. `tern-control policy check` prints it.
///
/// An entry is evaluated for every pair of a source address (each address of
/// each node of the test's `src`) and a destination address (each address of
/// the entry's host) of the same family: a new connection of the test's
/// proto to the entry's port, judged by the filter of the node that owns the
/// destination address (its own address, or an approved route containing it).
/// `accept` holds when every pair is allowed, `deny` when none is.
public struct PolicyCheckReport: Equatable, Sendable, CustomStringConvertible {
    /// One `accept` or `deny` entry.
    public struct EntryResult: Equatable, Sendable {
        /// The entry as written (`tag:web:443`).
        public var text: String
        /// True for an `accept` entry, false for `deny`.
        public var expectAllowed: Bool
        /// How many address pairs the filters allow.
        public var allowedPairs: Int
        /// How many address pairs were checked.
        public var pairs: Int
        /// A pair that went against the expectation, as `src -> dst:port`.
        public var counterexample: String?
        /// Why the entry could not be evaluated (a host with no addresses), else nil.
        public var problem: String?
        /// Where it is, e.g. `tests[0].accept[1]`.
        public var path: String

        /// True if the entry held.
        public var passed: Bool {
            problem == nil && pairs > 0 && (expectAllowed ? allowedPairs == pairs : allowedPairs == 0)
        }

        /// "allowed", "denied" or "allowed for 1 of 2 address pairs".
        public var outcome: String {
            if let problem { return problem }
            if allowedPairs == pairs { return "allowed" }
            if allowedPairs == 0 { return "denied" }
            return "allowed for " + String(allowedPairs) + " of " + String(pairs) + " address pairs"
        }
    }

    /// One `tests` entry.
    public struct TestResult: Equatable, Sendable {
        /// The source as written.
        public var source: String
        /// The protocol number.
        public var proto: UInt8
        /// Why the test could not run (an unknown user, a source with no addresses), else nil.
        public var problem: String?
        /// The entries, `accept` ones first.
        public var entries: [EntryResult]
        /// Where it is, e.g. `tests[0]`.
        public var path: String

        /// True if the test ran and every entry held.
        public var passed: Bool { problem == nil && entries.allSatisfy { $0.passed } }
    }

    /// The tests, in file order.
    public var tests: [TestResult]

    /// A report of `tests`.
    public init(tests: [TestResult]) {
        self.tests = tests
    }

    /// True if every test passed (and when there are none).
    public var passed: Bool { tests.allSatisfy { $0.passed } }

    /// One `.testFailed` error per failed test or entry, naming both.
    public var failures: [PolicyError] {
        var errors: [PolicyError] = []
        for (number, test) in tests.enumerated() {
            let name = "test " + String(number + 1) + " (src " + test.source + ", " + PolicyProtocol.name(of: test.proto) + ")"
            if let problem = test.problem {
                errors.append(PolicyError(.testFailed, path: test.path + ".src", name + ": " + problem))
                continue
            }
            for entry in test.entries where !entry.passed {
                var message = name + ": expected " + entry.text + " to be " + (entry.expectAllowed ? "allowed" : "denied")
                    + ", but it is " + entry.outcome
                if let counterexample = entry.counterexample { message += " (" + counterexample + ")" }
                errors.append(PolicyError(.testFailed, path: entry.path, message))
            }
        }
        return errors
    }

    /// One line per test and per entry, each entry marked `ok` or `FAIL`, and
    /// a last line with the totals.
    public var description: String {
        var lines: [String] = []
        var failed = 0
        for (number, test) in tests.enumerated() {
            var header = "test " + String(number + 1) + ": src " + test.source
            header += ", proto " + PolicyProtocol.name(of: test.proto)
            if let problem = test.problem { header += ": FAIL: " + problem }
            lines.append(header)
            if !test.passed { failed += 1 }
            for entry in test.entries {
                var line = "  " + (entry.expectAllowed ? "accept " : "deny ") + entry.text
                line += ": " + entry.outcome + (entry.passed ? "  ok" : "  FAIL")
                if !entry.passed, let counterexample = entry.counterexample { line += " (" + counterexample + ")" }
                lines.append(line)
            }
        }
        if failed == 0 {
            lines.append(String(tests.count) + (tests.count == 1 ? " test passed" : " tests passed"))
        } else {
            lines.append(String(failed) + " of " + String(tests.count) + " tests failed")
        }
        var text = ""
        for line in lines { text += (text.isEmpty ? "" : "\n") + line }
        return text
    }
}

extension CompiledPolicy {
    /// Evaluates `tests` against this compilation's filters.
    func runTests(_ tests: [PolicyTest], resolver: inout TargetResolver, users: [String]) -> PolicyCheckReport {
        var results: [PolicyCheckReport.TestResult] = []
        for (number, test) in tests.enumerated() {
            let path = PolicyPath.root.key("tests").index(number)
            var result = PolicyCheckReport.TestResult(source: test.source.description, proto: test.proto, problem: nil,
                                                      entries: [], path: path.text)
            if case .user(let written) = test.source,
               !users.contains(where: { PolicyTarget.userName(written, matches: $0) }) {
                result.problem = "unknown user " + quoted(written)
                results.append(result)
                continue
            }
            let sources = addresses(of: test.source, asSource: true, resolver: &resolver)
            if sources.isEmpty {
                result.problem = "src " + test.source.description + " has no addresses (no nodes)"
                results.append(result)
                continue
            }
            for (listName, list, expect) in [("accept", test.accept, true), ("deny", test.deny, false)] {
                for (index, entry) in list.enumerated() {
                    result.entries.append(evaluate(entry, from: sources, proto: test.proto, expectAllowed: expect,
                                                   path: path.key(listName).index(index).text, resolver: &resolver))
                }
            }
            results.append(result)
        }
        return PolicyCheckReport(tests: results)
    }

    /// Every address a single-host target stands for.
    private func addresses(of target: PolicyTarget, asSource: Bool, resolver: inout TargetResolver) -> [IPAddress] {
        let resolved = resolver.resolve(target, asSource: asSource)
        var result: [IPAddress] = []
        resolved.nodes.forEach { node in result.append(contentsOf: resolver.nodes[node].addresses) }
        for prefix in resolved.prefixes { result.append(prefix.address) }  // single hosts (checked when parsed)
        return result
    }

    private func evaluate(_ entry: PolicyTestEntry, from sources: [IPAddress], proto: UInt8, expectAllowed: Bool,
                          path: String, resolver: inout TargetResolver) -> PolicyCheckReport.EntryResult {
        var result = PolicyCheckReport.EntryResult(text: entry.text, expectAllowed: expectAllowed, allowedPairs: 0, pairs: 0,
                                                   counterexample: nil, problem: nil, path: path)
        let destinations = addresses(of: entry.target, asSource: false, resolver: &resolver)
        if destinations.isEmpty {
            result.problem = entry.target.description + " has no addresses (no nodes)"
            return result
        }
        for destination in destinations {
            let owners = resolver.owners(of: destination)
            for source in sources where source.isIPv4 == destination.isIPv4 {
                result.pairs += 1
                let allowed = owners.contains { owner in
                    allows(filter(at: owner), source: source, destination: destination, proto: proto, port: entry.port)
                }
                if allowed { result.allowedPairs += 1 }
                if allowed != expectAllowed && result.counterexample == nil {
                    result.counterexample = source.description + " -> " + endpoint(destination, entry.port)
                        + (allowed ? " is allowed" : owners.isEmpty ? " has no node or route" : " is denied")
                }
            }
        }
        if result.pairs == 0 { result.problem = "no source and destination address of the same family" }
        return result
    }

    private func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
        address.isIPv4 ? address.description + ":" + String(port) : "[" + address.description + "]:" + String(port)
    }
}
