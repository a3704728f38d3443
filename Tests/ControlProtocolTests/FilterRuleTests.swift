import IP
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
