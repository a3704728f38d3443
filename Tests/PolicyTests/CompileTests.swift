import ControlProtocol
import IP
@testable import Policy
import Testing

/// Small policies in, exact per-node rules and peer sets out (standard network:
/// 1, 2 alice · 3 bob · 4 carol@example.com · 5 tag:server · 6 tag:db
/// · 7 tag:router with 192.168.1.0/24 · 8 tag:server + tag:web).
@Suite struct CompileTests {
    let all: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]

    func peers(_ compiled: CompiledPolicy) -> [UInt64: [UInt64]] {
        var result: [UInt64: [UInt64]] = [:]
        for id in all { result[id] = compiled.visiblePeers(of: id).sorted() }
        return result
    }

    @Test func noPolicyOrNoACLsAllowsEverything() throws {
        let allowAll = FilterRule(sources: [pfx("0.0.0.0/0"), pfx("::/0")],
                                  destinations: [FilterDestination(prefix: pfx("0.0.0.0/0"), ports: .all),
                                                 FilterDestination(prefix: pfx("::/0"), ports: .all)],
                                  protocols: [], policyRule: 0)
        for compiled in [CompiledPolicy(nil, network: standardNetwork),
                         CompiledPolicy(try Policy(parsing: "{\"groups\": {}}"), network: standardNetwork)] {
            #expect(compiled.allowsAll)
            for id in all {
                #expect(compiled.rules(for: id) == [allowAll])
                #expect(compiled.visiblePeers(of: id) == Set(all.filter { $0 != id }))
            }
        }
    }

    @Test func emptyACLsDenyEverything() throws {
        let compiled = try #require(compile(""))
        #expect(!compiled.allowsAll)
        for id in all {
            #expect(compiled.rules(for: id) == [])
            #expect(compiled.visiblePeers(of: id) == [])
        }
    }

    @Test func groupToTagOnOnePort() throws {
        let compiled = try #require(compile("{\"action\": \"accept\", \"src\": [\"group:eng\"], \"dst\": [\"tag:server:22\"]}"))
        let sources = normalized(hosts(1) + hosts(2) + hosts(4))
        #expect(sources == [pfx("100.64.0.1/32"), pfx("100.64.0.2/32"), pfx("100.64.0.4/32"),
                            pfx("fd7a:115c:a1e0::1/128"), pfx("fd7a:115c:a1e0::2/128"), pfx("fd7a:115c:a1e0::4/128")])
        #expect(compiled.rules(for: 5) == [FilterRule(sources: sources, destinations: dsts(5, [port(22)]), protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 8) == [FilterRule(sources: sources, destinations: dsts(8, [port(22)]), protocols: [], policyRule: 0)])
        for id: UInt64 in [1, 2, 3, 4, 6, 7] { #expect(compiled.rules(for: id) == []) }
        #expect(peers(compiled) == [1: [5, 8], 2: [5, 8], 3: [], 4: [5, 8], 5: [1, 2, 4], 6: [], 7: [], 8: [1, 2, 4]])
    }

    @Test func everyoneToEverything() throws {
        let compiled = try #require(compile("{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}"))
        // As a source, * is the mesh ranges plus the approved routes.
        let sources = [pfx("100.64.0.0/10"), pfx("192.168.1.0/24"), pfx("fd7a:115c:a1e0::/48")]
        #expect(compiled.rules(for: 1) == [FilterRule(sources: sources, destinations: dsts(1, [.all]), protocols: [], policyRule: 0)])
        // A subnet router also accepts for its route.
        #expect(compiled.rules(for: 7) == [FilterRule(
            sources: sources,
            destinations: dsts(7, [.all]) + [FilterDestination(prefix: pfx("192.168.1.0/24"), ports: .all)],
            protocols: [], policyRule: 0)])
        for id in all { #expect(compiled.visiblePeers(of: id) == Set(all.filter { $0 != id })) }
    }

    @Test func subnetRouteAsDestinationIsNarrowedToTheRoute() throws {
        let compiled = try #require(compile("""
            {"action": "accept", "src": ["bob@"], "dst": ["lan:80", "printer:631", "192.168.0.0/16:443", "10.0.0.0/8:22"]}
            """))
        #expect(compiled.rules(for: 7) == [FilterRule(
            sources: hosts(3),
            destinations: [FilterDestination(prefix: pfx("192.168.1.0/24"), ports: port(80)),
                           FilterDestination(prefix: pfx("192.168.1.9/32"), ports: port(631)),
                           FilterDestination(prefix: pfx("192.168.1.0/24"), ports: port(443))],
            protocols: [], policyRule: 0)])
        for id: UInt64 in [1, 2, 3, 4, 5, 6, 8] { #expect(compiled.rules(for: id) == []) }
        #expect(peers(compiled) == [1: [], 2: [], 3: [7], 4: [], 5: [], 6: [], 7: [3], 8: []])
    }

    @Test func aRouterSeesWhatItsLANMayReach() throws {
        // The LAN behind node 7 may reach nas (node 3): 7 and 3 see each other.
        let compiled = try #require(compile("{\"action\": \"accept\", \"src\": [\"lan\"], \"dst\": [\"nas:22\"]}"))
        #expect(compiled.rules(for: 3) == [FilterRule(
            sources: [pfx("192.168.1.0/24")],
            destinations: [FilterDestination(prefix: pfx("100.64.0.3/32"), ports: port(22))],
            protocols: [], policyRule: 0)])
        #expect(peers(compiled) == [1: [], 2: [], 3: [7], 4: [], 5: [], 6: [], 7: [3], 8: []])
    }

    @Test func tagsAreNotTheirUsersNodes() throws {
        let compiled = try #require(compile("{\"action\": \"accept\", \"src\": [\"alice@\"], \"dst\": [\"alice@:*\"]}"))
        let sources = normalized(hosts(1) + hosts(2))
        #expect(compiled.rules(for: 1) == [FilterRule(sources: sources, destinations: dsts(1, [.all]), protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 2) == [FilterRule(sources: sources, destinations: dsts(2, [.all]), protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 5) == [])  // alice's, but tagged
        #expect(compiled.rules(for: 7) == [])
        #expect(peers(compiled) == [1: [2], 2: [1], 3: [], 4: [], 5: [], 6: [], 7: [], 8: []])
    }

    @Test func entriesForOneNodeMergeIntoOneRuleWithoutDuplicates() throws {
        let compiled = try #require(compile("""
            {"action": "accept", "src": ["tag:db"], "dst": ["tag:server:22", "tag:web:80,443", "100.64.0.8:22", "autogroup:tagged:22"]}
            """))
        let eight = [FilterDestination(prefix: pfx("100.64.0.8/32"), ports: port(22)),
                     FilterDestination(prefix: pfx("fd7a:115c:a1e0::8/128"), ports: port(22)),
                     FilterDestination(prefix: pfx("100.64.0.8/32"), ports: port(80)),
                     FilterDestination(prefix: pfx("100.64.0.8/32"), ports: port(443)),
                     FilterDestination(prefix: pfx("fd7a:115c:a1e0::8/128"), ports: port(80)),
                     FilterDestination(prefix: pfx("fd7a:115c:a1e0::8/128"), ports: port(443))]
        #expect(compiled.rules(for: 8) == [FilterRule(sources: hosts(6), destinations: eight, protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 5) == [FilterRule(sources: hosts(6), destinations: dsts(5, [port(22)]), protocols: [], policyRule: 0)])
        // autogroup:tagged includes the source itself: node 6 may reach itself.
        #expect(compiled.rules(for: 6) == [FilterRule(sources: hosts(6), destinations: dsts(6, [port(22)]), protocols: [], policyRule: 0)])
        #expect(peers(compiled) == [1: [], 2: [], 3: [], 4: [], 5: [6], 6: [5, 7, 8], 7: [6], 8: [6]])
    }

    @Test func protocolsAndRuleIndices() throws {
        let compiled = try #require(compile("""
            {"action": "accept", "src": ["tag:db"], "dst": ["tag:server:*"], "proto": "icmp"},
            {"action": "accept", "src": ["bob@"], "dst": ["tag:server:53"], "proto": "udp"},
            {"action": "accept", "src": ["bob@"], "dst": ["tag:server:22"]}
            """))
        #expect(compiled.rules(for: 5) == [
            FilterRule(sources: hosts(6), destinations: dsts(5, [.all]), protocols: [1], policyRule: 0),
            FilterRule(sources: hosts(3), destinations: dsts(5, [port(53)]), protocols: [17], policyRule: 1),
            FilterRule(sources: hosts(3), destinations: dsts(5, [port(22)]), protocols: [], policyRule: 2),
        ])
    }

    @Test func literalPrefixesNarrowToEachNodesAddresses() throws {
        let compiled = try #require(compile("""
            {"action": "accept", "src": ["autogroup:danger-all"], "dst": ["100.64.0.0/29:80", "[fd7a:115c:a1e0::3]:22"]}
            """))
        let everyone = [pfx("0.0.0.0/0"), pfx("::/0")]
        for n: UInt64 in [1, 2, 4, 5, 6, 7] {
            #expect(compiled.rules(for: n) == [FilterRule(
                sources: everyone, destinations: [FilterDestination(prefix: hosts(n)[0], ports: port(80))], protocols: [], policyRule: 0)])
        }
        #expect(compiled.rules(for: 3) == [FilterRule(
            sources: everyone,
            destinations: [FilterDestination(prefix: hosts(3)[0], ports: port(80)), FilterDestination(prefix: hosts(3)[1], ports: port(22))],
            protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 8) == [])  // 100.64.0.8 is outside /29
        // danger-all covers every node, so 1..7 see everyone and everyone sees them; 8 sees 1..7.
        #expect(compiled.visiblePeers(of: 8) == [1, 2, 3, 4, 5, 6, 7])
    }

    @Test func autogroupSelfIsCompiledPerUser() throws {
        let compiled = try #require(compile("{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self:*\"]}"))
        let alice = normalized(hosts(1) + hosts(2))
        #expect(compiled.rules(for: 1) == [FilterRule(sources: alice, destinations: dsts(1, [.all]), protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 2) == [FilterRule(sources: alice, destinations: dsts(2, [.all]), protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 3) == [FilterRule(sources: hosts(3), destinations: dsts(3, [.all]), protocols: [], policyRule: 0)])
        for id: UInt64 in [5, 6, 7, 8] { #expect(compiled.rules(for: id) == []) }
        #expect(peers(compiled) == [1: [2], 2: [1], 3: [], 4: [], 5: [], 6: [], 7: [], 8: []])
    }

    @Test func autogroupSelfNextToOtherDestinations() throws {
        // bob@ reaches his own devices on 22 and tag:db on 5432 in one ACL.
        let compiled = try #require(compile("{\"action\": \"accept\", \"src\": [\"group:ops\"], \"dst\": [\"autogroup:self:22\", \"tag:db:5432\"]}"))
        #expect(compiled.rules(for: 6) == [FilterRule(sources: hosts(3), destinations: dsts(6, [port(5432)]), protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 3) == [FilterRule(sources: hosts(3), destinations: dsts(3, [port(22)]), protocols: [], policyRule: 0)])
        #expect(compiled.rules(for: 1) == [])  // alice's devices: not bob's self
        #expect(peers(compiled) == [1: [], 2: [], 3: [6], 4: [], 5: [], 6: [3], 7: [], 8: []])
    }

    @Test func targetsThatMatchNothingMakeNoRules() throws {
        let compiled = try #require(compile("""
            {"action": "accept", "src": [], "dst": ["*:*"]},
            {"action": "accept", "src": ["dave@", "nobody@"], "dst": ["*:*"]},
            {"action": "accept", "src": ["*"], "dst": ["autogroup:internet:*", "10.0.0.0/8:*"]}
            """))
        for id in all {
            #expect(compiled.rules(for: id) == [])
            #expect(compiled.visiblePeers(of: id) == [])
        }
    }

    @Test func seesIsSymmetricAndExcludesSelfAndStrangers() throws {
        let compiled = try #require(compile("{\"action\": \"accept\", \"src\": [\"bob@\"], \"dst\": [\"tag:db:5432\"]}"))
        #expect(compiled.sees(3, 6))
        #expect(compiled.sees(6, 3))  // the reached node sees who may reach it
        #expect(!compiled.sees(3, 3))
        #expect(!compiled.sees(1, 6))
        #expect(!compiled.sees(3, 99))
        #expect(compiled.rules(for: 99) == [])
        #expect(compiled.visiblePeers(of: 99) == [])
    }

    @Test func ruleJSONRoundTrips() throws {
        let compiled = try #require(compile("{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22,8000-8999\"], \"proto\": \"tcp\"}"))
        for rule in compiled.rules(for: 7) {
            #expect(try FilterRule(json: rule.json) == rule)
        }
    }
}
