import ControlProtocol
import IP
@testable import Policy
import Testing

/// Test helpers: literal addresses and prefixes, a small network, parse-or-fail.

func ip(_ text: String) -> IPAddress { try! IPAddress(text) }
func pfx(_ text: String) -> IPPrefix { try! IPPrefix(text) }

/// The mesh ranges of the test networks.
let meshRanges = [pfx("100.64.0.0/10"), pfx("fd7a:115c:a1e0::/48")]

/// A node numbered `n`: addresses 100.64.0.n and fd7a:115c:a1e0::n.
func node(_ n: UInt64, _ user: String, tags: [String] = [], routes: [String] = []) -> PolicyNode {
    PolicyNode(id: n, user: user, tags: tags,
               addresses: [ip("100.64.0." + String(n)), ip("fd7a:115c:a1e0::" + String(n, radix: 16))],
               approvedRoutes: routes.map(pfx))
}

/// The IPv4 and IPv6 host prefixes of node `n`.
func hosts(_ n: UInt64) -> [IPPrefix] {
    [pfx("100.64.0." + String(n) + "/32"), pfx("fd7a:115c:a1e0::" + String(n, radix: 16) + "/128")]
}

/// Destinations: each host prefix of node `n` with each of `ports`.
func dsts(_ n: UInt64, _ ports: [PortRange]) -> [FilterDestination] {
    var result: [FilterDestination] = []
    for prefix in hosts(n) {
        for range in ports { result.append(FilterDestination(prefix: prefix, ports: range)) }
    }
    return result
}

func port(_ p: UInt16) -> PortRange { PortRange(first: p, last: p)! }
func ports(_ a: UInt16, _ b: UInt16) -> PortRange { PortRange(first: a, last: b)! }

/// The standard small network:
/// 1, 2 alice (laptop, desktop) · 3 bob · 4 carol · 5 tag:server (owned by alice)
/// · 6 tag:db · 7 tag:router with route 192.168.1.0/24 · 8 bob, tagged tag:server too.
let standardNetwork = PolicyNetwork(
    nodes: [
        node(1, "alice"), node(2, "alice"), node(3, "bob"), node(4, "carol@example.com"),
        node(5, "alice", tags: ["tag:server"]), node(6, "bob", tags: ["tag:db"]),
        node(7, "alice", tags: ["tag:router"], routes: ["192.168.1.0/24"]),
        node(8, "bob", tags: ["tag:server", "tag:web"]),
    ],
    users: ["alice", "bob", "carol@example.com", "dave"],
    meshRanges: meshRanges)

/// Declarations every small test policy starts from.
let preamble = """
    "groups": {"group:eng": ["alice@", "carol@example.com"], "group:ops": ["bob@"]},
    "tagOwners": {"tag:server": ["group:ops"], "tag:db": ["bob@"], "tag:router": ["alice@"], "tag:web": ["tag:server"]},
    "hosts": {"nas": "100.64.0.3", "lan": "192.168.1.0/24", "printer": "192.168.1.9"},
    """

/// Parses `text`, recording a test failure (with the error) if it does not parse.
func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Policy? {
    do {
        return try Policy(parsing: text)
    } catch {
        Issue.record("policy did not parse: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The error parsing `text` gives, recording a failure if it parses.
func parseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> PolicyError? {
    do {
        _ = try Policy(parsing: text)
        Issue.record("policy parsed but should not have", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// `acls` (a JSON array body) with the preamble, parsed and compiled on `network`.
func compile(_ acls: String, network: PolicyNetwork = standardNetwork,
             sourceLocation: SourceLocation = #_sourceLocation) -> CompiledPolicy? {
    guard let policy = parse("{" + preamble + "\"acls\": [" + acls + "]}", sourceLocation: sourceLocation) else { return nil }
    return CompiledPolicy(policy, network: network)
}
