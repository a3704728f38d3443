import ControlProtocol
import IP
import Policy
import Testing
import TestSupport

/// Measures (prints, does not assert) how long a policy of 200 rules takes
/// to parse and compile for 1,000 nodes.
@Suite struct CompileTimeTests {
    /// 1,000 nodes of 100 users; every fifth node is tagged (20 tags), ten
    /// tagged nodes are subnet routers for 10.k.0.0/16.
    static func network() -> PolicyNetwork {
        var nodes: [PolicyNode] = []
        for i in 0..<1000 {
            let v4 = ip("100.64." + String(i / 250) + "." + String(i % 250 + 1))
            let v6 = ip("fd7a:115c:a1e0::" + String(i + 1, radix: 16))
            let tags = i % 5 == 0 ? ["tag:t" + String(i / 5 % 20)] : []
            let routes = i % 100 == 0 ? [pfx("10." + String(i / 100) + ".0.0/16")] : []
            nodes.append(PolicyNode(id: UInt64(i + 1), user: "user" + String(i % 100), tags: tags, addresses: [v4, v6],
                                    approvedRoutes: routes))
        }
        return PolicyNetwork(nodes: nodes, users: (0..<100).map { "user" + String($0) }, meshRanges: meshRanges)
    }

    /// 200 rules mixing every kind of target, seeded so every run is the same.
    static func policyText() -> String {
        var random = SplitMix64(seed: 6)
        var groups: [String] = []
        for g in 0..<20 {
            var names: [String] = []
            for k in 0..<10 { names.append("\"user\((g * 7 + k * 3) % 100)@\"") }
            let members = names.joined(separator: ", ")
            groups.append("\"group:g" + String(g) + "\": [" + members + "]")
        }
        let tags = (0..<20).map { "\"tag:t\($0)\": []" }.joined(separator: ", ")
        func source() -> String {
            switch Int.random(in: 0..<10, using: &random) {
            case 0: return "*"
            case 1: return "autogroup:member"
            case 2: return "10." + String(Int.random(in: 0..<10, using: &random)) + ".0.0/16"
            case 3, 4: return "user" + String(Int.random(in: 0..<100, using: &random)) + "@"
            case 5, 6: return "tag:t" + String(Int.random(in: 0..<20, using: &random))
            default: return "group:g" + String(Int.random(in: 0..<20, using: &random))
            }
        }
        func destination() -> String {
            let port = String(Int.random(in: 1...9000, using: &random))
            switch Int.random(in: 0..<10, using: &random) {
            case 0: return "*:443"
            case 1: return "autogroup:self:*"
            case 2: return "10." + String(Int.random(in: 0..<10, using: &random)) + ".0.0/16:*"
            case 3: return "user" + String(Int.random(in: 0..<100, using: &random)) + "@:" + port
            case 4, 5: return "group:g" + String(Int.random(in: 0..<20, using: &random)) + ":" + port + ",8000-8100"
            default: return "tag:t" + String(Int.random(in: 0..<20, using: &random)) + ":" + port
            }
        }
        var acls: [String] = []
        for _ in 0..<200 {
            let sources = (0..<Int.random(in: 1...3, using: &random)).map { _ in "\"" + source() + "\"" }.joined(separator: ", ")
            let destinations = (0..<Int.random(in: 1...3, using: &random)).map { _ in "\"" + destination() + "\"" }
                .joined(separator: ", ")
            let proto = random.chance(10) ? ", \"proto\": \"udp\"" : ""
            acls.append("{\"action\": \"accept\", \"src\": [" + sources + "], \"dst\": [" + destinations + "]" + proto + "}")
        }
        return "{\"groups\": {" + groups.joined(separator: ", ") + "}, \"tagOwners\": {" + tags + "}, \"acls\": [\n"
            + acls.joined(separator: ",\n") + "\n]}"
    }

    @Test func compileTimeOf1000NodesAnd200Rules() throws {
        let network = CompileTimeTests.network()
        let text = CompileTimeTests.policyText()
        let clock = ContinuousClock()
        var policy: Policy?
        let parseTime = try clock.measure { policy = try Policy(parsing: text) }
        let parsed = try #require(policy)
        #expect(parsed.acls?.count == 200)

        var compiled: CompiledPolicy?
        let compileTime = clock.measure { compiled = CompiledPolicy(parsed, network: network) }
        let result = try #require(compiled)

        var rules = 0
        var destinations = 0
        var edges = 0
        let visibilityTime = clock.measure {
            for node in network.nodes {
                for peer in network.nodes where result.sees(node.id, peer.id) { edges += 1 }
            }
        }
        for node in network.nodes {
            let filter = result.rules(for: node.id)
            rules += filter.count
            for rule in filter { destinations += rule.destinations.count }
        }
        print("policy compile: 1,000 nodes × 200 rules: parse " + String(describing: parseTime) + ", compile "
            + String(describing: compileTime) + "; " + String(rules) + " filter rules, " + String(destinations)
            + " destinations, " + String(edges) + " visible pairs; 1,000,000 sees() calls "
            + String(describing: visibilityTime))
        #expect(rules > 1000)
        #expect(edges > 0)
    }
}
