import ControlProtocol
import IP
@testable import Policy
import Testing
import TestSupport

/// Random policies on the standard network, compiled, against a naive
/// oracle that reads the policy directly: for every source address, every
/// destination address a node filters for (its own and its LAN's), a few
/// ports and protocols, the compiled filter of the destination node must
/// agree with the oracle, and so must visibility.
@Suite struct DifferentialTests {
    static let sources = ["*", "alice@", "bob@", "carol@example.com", "dave@", "group:eng", "group:ops", "tag:server",
                          "tag:db", "tag:router", "tag:web", "nas", "lan", "printer", "100.64.0.0/30", "fd7a:115c:a1e0::5",
                          "autogroup:member", "autogroup:tagged", "autogroup:danger-all", "192.168.0.0/16", "10.0.0.0/8"]
    static let destinations = ["*", "alice@", "bob@", "carol@example.com", "group:eng", "group:ops", "tag:server", "tag:db",
                               "tag:router", "tag:web", "nas", "lan", "printer", "100.64.0.0/30", "[fd7a:115c:a1e0::5]",
                               "[fd7a:115c:a1e0::]/125", "autogroup:member", "autogroup:tagged", "autogroup:self",
                               "autogroup:internet", "192.168.1.128/25", "192.168.0.0/16"]
    static let portLists = ["*", "22", "80,443", "20-25", "443", "1-79"]
    static let lanAddresses = [ip("192.168.1.9"), ip("192.168.1.200")]

    let network = standardNetwork

    /// A random policy of `count` ACLs.
    static func randomACLs(_ count: Int, using random: inout SplitMix64) -> String {
        var acls: [String] = []
        for _ in 0..<count {
            var src: [String] = []
            for _ in 0..<Int.random(in: 1...3, using: &random) { src.append("\"" + sources.randomElement(using: &random)! + "\"") }
            var dst: [String] = []
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                dst.append("\"" + destinations.randomElement(using: &random)! + ":" + portLists.randomElement(using: &random)! + "\"")
            }
            let proto = random.chance(20) ? ", \"proto\": \"" + ["tcp", "udp"].randomElement(using: &random)! + "\"" : ""
            acls.append("{\"action\": \"accept\", \"src\": [" + src.joined(separator: ", ") + "], \"dst\": ["
                + dst.joined(separator: ", ") + "]" + proto + "}")
        }
        return acls.joined(separator: ",\n")
    }

    // MARK: The oracle

    func ownsAddress(_ node: PolicyNode, _ address: IPAddress) -> Bool { node.addresses.contains(address) }

    /// Whether a node-based target names `node` (tags are not their user's).
    func names(_ target: PolicyTarget, _ node: PolicyNode, policy: Policy) -> Bool {
        switch target {
        case .user(let written): return !node.isTagged && PolicyTarget.userName(written, matches: node.user)
        case .group(let group):
            return !node.isTagged && (policy.groups[group] ?? []).contains { PolicyTarget.userName($0, matches: node.user) }
        case .tag(let tag): return node.tags.contains(tag)
        case .autogroupMember, .autogroupSelf: return !node.isTagged
        case .autogroupTagged: return node.isTagged
        default: return false
        }
    }

    func literal(_ target: PolicyTarget, asSource: Bool) -> [IPPrefix] {
        switch target {
        case .prefix(let prefix), .host(_, let prefix): return [prefix]
        case .autogroupDangerAll: return [pfx("0.0.0.0/0"), pfx("::/0")]
        case .any: return asSource ? meshRanges + network.nodes.flatMap { $0.approvedRoutes } : [pfx("0.0.0.0/0"), pfx("::/0")]
        default: return []
        }
    }

    /// Source address `address` (of node `from`, or of a LAN when nil) matches `target`.
    func sourceMatches(_ target: PolicyTarget, _ address: IPAddress, from: PolicyNode?, policy: Policy) -> Bool {
        if let from, ownsAddress(from, address), names(target, from, policy: policy) { return true }
        return literal(target, asSource: true).contains { $0.contains(address) }
    }

    /// The node `node` is on the source side of `targets` (by address or by a route overlapping a literal).
    func sourceSide(_ targets: [PolicyTarget], _ node: PolicyNode, policy: Policy) -> Bool {
        targets.contains { target in
            if names(target, node, policy: policy) || target == .any { return true }
            return literal(target, asSource: true).contains { prefix in
                node.addresses.contains { prefix.contains($0) } || node.approvedRoutes.contains { $0.overlaps(prefix) }
            }
        }
    }

    func portMatches(_ ports: [PortRange], _ port: UInt16) -> Bool { ports.contains { $0.contains(port) } }

    func oracleAllows(_ policy: Policy, from: PolicyNode?, _ source: IPAddress, to: PolicyNode, _ destination: IPAddress,
                      proto: UInt8, port: UInt16) -> Bool {
        for acl in policy.acls ?? [] {
            if let aclProto = acl.proto, aclProto != proto { continue }
            let sourceOK = acl.sources.contains { sourceMatches($0, source, from: from, policy: policy) }
            for entry in acl.destinations where portMatches(entry.ports, port) {
                if entry.target == .autogroupSelf {
                    // Whole untagged source nodes of the destination's own user.
                    if let from, ownsAddress(from, source), ownsAddress(to, destination), !from.isTagged, !to.isTagged,
                       from.user == to.user, sourceSide(acl.sources, from, policy: policy) { return true }
                    continue
                }
                guard sourceOK else { continue }
                if ownsAddress(to, destination), names(entry.target, to, policy: policy) { return true }
                if literal(entry.target, asSource: false).contains(where: { $0.contains(destination) }) { return true }
            }
        }
        return false
    }

    func destinationSide(_ entry: PolicyDestination, _ node: PolicyNode, policy: Policy) -> Bool {
        if entry.target == .autogroupInternet || entry.target == .autogroupSelf { return false }
        if names(entry.target, node, policy: policy) || entry.target == .any { return true }
        return literal(entry.target, asSource: false).contains { prefix in
            node.addresses.contains { prefix.contains($0) } || node.approvedRoutes.contains { $0.overlaps(prefix) }
        }
    }

    func oracleReaches(_ policy: Policy, _ a: PolicyNode, _ b: PolicyNode) -> Bool {
        for acl in policy.acls ?? [] where sourceSide(acl.sources, a, policy: policy) {
            for entry in acl.destinations {
                if destinationSide(entry, b, policy: policy) { return true }
                if entry.target == .autogroupSelf, !a.isTagged, !b.isTagged, a.user == b.user { return true }
            }
        }
        return false
    }

    // MARK: The comparison

    @Test(arguments: 0..<40)
    func compiledFiltersAgreeWithTheOracle(_ seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 7919 &+ 1)
        let text = "{" + preamble + "\"acls\": [" + DifferentialTests.randomACLs(Int.random(in: 1...6, using: &random), using: &random) + "]}"
        let policy = try Policy(parsing: text)
        let compiled = CompiledPolicy(policy, network: network)
        var senders: [(PolicyNode?, IPAddress)] = DifferentialTests.lanAddresses.map { (nil, $0) }
        for node in network.nodes { for address in node.addresses { senders.append((node, address)) } }
        for target in network.nodes {
            var addresses = target.addresses
            if !target.approvedRoutes.isEmpty { addresses += DifferentialTests.lanAddresses }
            let rules = compiled.rules(for: target.id)
            for destination in addresses {
                for (from, source) in senders where source.isIPv4 == destination.isIPv4 {
                    for proto: UInt8 in [6, 17] {
                        for port: UInt16 in [22, 23, 80, 443, 8080] {
                            let expected = oracleAllows(policy, from: from, source, to: target, destination, proto: proto, port: port)
                            let actual = allows(rules, source: source, destination: destination, proto: proto, port: port)
                            #expect(actual == expected, "\(source) -> \(destination):\(port)/\(proto) at node \(target.id)\n\(text)")
                            if actual != expected { return }
                        }
                    }
                }
            }
        }
        for a in network.nodes {
            for b in network.nodes where a.id != b.id {
                let expected = oracleReaches(policy, a, b) || oracleReaches(policy, b, a)
                #expect(compiled.sees(a.id, b.id) == expected, "\(a.id) sees \(b.id)\n\(text)")
            }
        }
    }
}
