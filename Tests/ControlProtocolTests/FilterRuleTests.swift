import IP
import TernCrypto
import JSON
import Testing
@testable import ControlProtocol

@Suite struct FilterRuleTests {
    @Test func portRangesParseAndPrint() {
        #expect(PortRange(parsing: "*") == .all)
        #expect(PortRange(parsing: "22") == PortRange(first: 22, last: 22))
        #expect(PortRange(parsing: "8000-8999")?.description == "8000-8999")
        #expect(PortRange.all.description == "*")
        for bad in ["", "-", "1-", "-2", "9-8", "65536", "1-2-3", "x", "22 "] {
            #expect(PortRange(parsing: bad) == nil, "\(bad)")
        }
        #expect(PortRange(first: 5, last: 4) == nil)
        #expect(PortRange(first: 80, last: 90)!.contains(85) && !PortRange(first: 80, last: 90)!.contains(91))
    }

    @Test func rulesRoundTripThroughJSON() throws {
        let rule = FilterRule(
            sources: [try IPPrefix("100.64.0.1/32"), try IPPrefix("fd7a:115c:a1e0::1/128"), try IPPrefix("10.0.0.0/8")],
            destinations: [FilterDestination(prefix: try IPPrefix("100.64.0.5/32"), ports: PortRange(first: 22, last: 22)!),
                           FilterDestination(prefix: try IPPrefix("192.168.10.0/24"), ports: .all)],
            protocols: [6, 17], policyRule: 3)
        let text = JSONSerializer.string(rule.json)
        #expect(text.contains("\"ports\":\"22\"") && text.contains("\"ports\":\"*\""))
        #expect(try FilterRule(json: try JSONParser.parse(text)) == rule)
    }

    @Test func malformedRulesAreErrors() throws {
        let documents = [
            #"{"src": ["x"], "dst": [], "proto": [], "rule": 0}"#,
            #"{"src": [], "dst": [{"ip": "10.0.0.0/8", "ports": "9-1"}], "proto": [], "rule": 0}"#,
            #"{"src": [], "dst": [], "proto": [300], "rule": 0}"#,
            #"{"src": [], "dst": [], "proto": [], "rule": -1}"#,
            #"{"src": [], "dst": [], "proto": []}"#,
            #"[1]"#,
        ]
        for document in documents {
            #expect(throws: ControlMessageError.self, "\(document)") { _ = try FilterRule(json: try JSONParser.parse(document)) }
        }
    }
}

@Suite struct PacketFilterInMapsTests {
    let rule = FilterRule(sources: [try! IPPrefix("100.64.0.2/32")],
                          destinations: [FilterDestination(prefix: try! IPPrefix("100.64.0.1/32"), ports: PortRange(first: 22, last: 22)!)],
                          protocols: [6], policyRule: 0)

    func node() throws -> NodeView {
        NodeView(id: 1, name: "a", nodeKey: PublicKey(bytes: Bytes32(repeating: 1)), addresses: [try IPPrefix("100.64.0.1/32")],
                 allowedIPs: [try IPPrefix("100.64.0.1/32")], endpoints: [], keyExpiry: nil, online: true, user: "u", tags: [])
    }

    func roundTrip(_ message: ServerMessage) throws -> ServerMessage {
        try ServerMessage(json: try JSONParser.parse(JSONSerializer.string(message.json)))
    }

    @Test func mapsCarryTheirFilter() throws {
        for filter in [FilterSetting.allowAll, .rules([]), .rules([rule])] {
            let map = NetworkMap(version: 1, ipv4Range: try IPPrefix("100.64.0.0/10"), ipv6Range: try IPPrefix("fd00::/48"),
                                 node: try node(), peers: [], packetFilter: filter)
            #expect(try roundTrip(.map(map)) == .map(map))
        }
    }

    @Test func deltasSayWhetherTheFilterChanged() throws {
        for filter in [nil, FilterSetting.allowAll, .rules([rule])] {
            let delta = MapDelta(version: 2, baseVersion: 1, node: nil, upserted: [], removed: [], packetFilter: filter)
            #expect(try roundTrip(.delta(delta)) == .delta(delta))
        }
        var map = NetworkMap(version: 1, ipv4Range: try IPPrefix("100.64.0.0/10"), ipv6Range: try IPPrefix("fd00::/48"),
                             node: try node(), peers: [], packetFilter: .rules([rule]))
        try map.apply(MapDelta(version: 2, baseVersion: 1, node: nil, upserted: [], removed: []))
        #expect(map.packetFilter == .rules([rule]))
        try map.apply(MapDelta(version: 3, baseVersion: 2, node: nil, upserted: [], removed: [], packetFilter: .allowAll))
        #expect(map.packetFilter == .allowAll)
    }
}
