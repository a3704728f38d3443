import ControlProtocol
import IP
import JSON
import Policy

/// libFuzzer entry point for the policy parser and compiler.
///
/// Each input is read three ways, so that short inputs reach deep code:
/// 1. as a whole policy file;
/// 2. as the body of the `acls` array of a file with groups, tags, hosts
///    and tests already declared;
/// 3. line by line as the `src` and `dst` strings of one rule (and route
///    approvers), and as the source and entries of one test.
///
/// A policy that parses is compiled against a small fixed network, and:
/// - visibility is symmetric and never includes the node itself;
/// - every destination of a node's filter lies inside one of the node's
///   addresses or approved routes;
/// - the test report and every error print without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    check(text)
    check(preamble + standardTests + ", \"acls\": [" + text + "]}")
    let (rule, test) = linesAsRuleAndTest(text)
    check(rule)
    check(test)
    return 0
}

private let preamble = """
    {"groups": {"group:eng": ["alice@", "carol@example.com"], "group:ops": ["bob@"]},
     "tagOwners": {"tag:server": ["group:ops"], "tag:router": ["alice@"]},
     "hosts": {"nas": "100.64.0.3", "lan": "192.168.1.0/24", "v6": "fd7a:115c:a1e0::2"},
    """

private let standardTests = """
    "tests": [{"src": "alice@", "accept": ["tag:server:22"], "deny": ["nas:80", "[fd7a:115c:a1e0::3]:22"]}]
    """

/// A policy whose one ACL has the odd lines as sources and the even lines as
/// destinations, and one whose one test uses the same strings.
private func linesAsRuleAndTest(_ text: String) -> (rule: String, test: String) {
    var sources: [JSONValue] = []
    var destinations: [JSONValue] = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        if index % 2 == 0 { sources.append(.string(String(line))) } else { destinations.append(.string(String(line))) }
    }
    let rule: JSONValue = ["action": "accept", "src": .array(sources), "dst": .array(destinations)]
    let test: JSONValue = ["src": sources.first ?? "alice@", "accept": .array(destinations), "deny": .array(Array(sources.dropFirst()))]
    let ruleText = preamble + "\"acls\": [" + rule.compactText + "], \"autoApprovers\": {\"routes\": {\"10.0.0.0/8\": "
        + JSONValue.array(sources).compactText + "}}}"
    let testText = preamble + "\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"tag:server:22\"]}], \"tests\": "
        + JSONValue.array([test]).compactText + "}"
    return (ruleText, testText)
}

private let network = PolicyNetwork(
    nodes: [
        fixedNode(1, "alice"), fixedNode(2, "alice"), fixedNode(3, "bob"), fixedNode(4, "carol@example.com"),
        fixedNode(5, "alice", tags: ["tag:server"]),
        fixedNode(6, "bob", tags: ["tag:router"], routes: ["192.168.1.0/24", "10.1.0.0/16"]),
    ],
    users: ["alice", "bob", "carol@example.com"],
    meshRanges: [try! IPPrefix("100.64.0.0/10"), try! IPPrefix("fd7a:115c:a1e0::/48")])

private func fixedNode(_ n: Int, _ user: String, tags: [String] = [], routes: [String] = []) -> PolicyNode {
    PolicyNode(id: UInt64(n), user: user, tags: tags,
               addresses: [try! IPAddress("100.64.0." + String(n)), try! IPAddress("fd7a:115c:a1e0::" + String(n))],
               approvedRoutes: routes.map { try! IPPrefix($0) })
}

private func check(_ text: String) {
    let policy: Policy
    do {
        policy = try Policy(parsing: text)
    } catch {
        _ = error.description
        if error.kind == .syntax { precondition(error.line != nil && error.column != nil, "syntax error without a position") }
        return
    }
    let compiled = CompiledPolicy(policy, network: network)
    _ = compiled.testReport.description
    for failure in compiled.testReport.failures { _ = failure.description }
    for node in network.nodes {
        let own = node.addresses.map { try! IPPrefix($0, length: $0.bitWidth) } + node.approvedRoutes
        for rule in compiled.rules(for: node.id) {
            precondition(!rule.sources.isEmpty && !rule.destinations.isEmpty, "empty rule")
            for destination in rule.destinations where !compiled.allowsAll {
                precondition(own.contains { $0.contains(destination.prefix) }, "destination outside the node")
            }
        }
        let peers = compiled.visiblePeers(of: node.id)
        precondition(!peers.contains(node.id), "a node sees itself")
        for peer in network.nodes {
            precondition(compiled.sees(node.id, peer.id) == compiled.sees(peer.id, node.id), "visibility is not symmetric")
            precondition(compiled.sees(node.id, peer.id) == peers.contains(peer.id), "sees and visiblePeers disagree")
        }
    }
    for route in ["10.1.0.0/16", "192.168.1.0/24", "0.0.0.0/0"] {
        _ = policy.autoApproves(try! IPPrefix(route), user: "alice", tags: [])
    }
}
