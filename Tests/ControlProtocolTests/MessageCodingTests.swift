import Foundation
import IP
import JSON
import Testing
import TernCrypto
@testable import ControlProtocol

/// JSON forms of every control message, and how a map applies a delta.
@Suite struct MessageCodingTests {
    /// Encodes, prints compactly, parses and decodes again.
    private func roundTrip(_ message: NodeMessage) throws -> NodeMessage {
        try NodeMessage(json: try JSONParser.parse(JSONSerializer.bytes(message.json)))
    }

    private func roundTrip(_ message: ServerMessage) throws -> ServerMessage {
        try ServerMessage(json: try JSONParser.parse(JSONSerializer.bytes(message.json)))
    }

    @Test func everyNodeMessageRoundTrips() throws {
        let messages: [NodeMessage] = [
            .login(LoginRequest(nodeKey: Sample.key(3), hostname: "raspberrypi", credential: .none,
                                endpoints: [], mapVersion: 0)),
            .login(LoginRequest(nodeKey: Sample.key(4), hostname: "édge-π", credential: .preAuthKey("tskey-abc\"\\"),
                                endpoints: [try Endpoint("10.0.0.2:41641"), try Endpoint("[fe80::1]:1")],
                                mapVersion: UInt64.max)),
            .login(LoginRequest(nodeKey: Sample.key(5), hostname: "pi", credential: .none, endpoints: [], mapVersion: 3,
                                advertisedRoutes: [try IPPrefix("192.168.10.0/24"), try IPPrefix("fd00:10::/64")])),
            .endpoints([]),
            .endpoints([try Endpoint("198.51.100.7:65535")]),
            .logout,
            .ping(0),
            .ping(UInt64.max),
        ]
        for message in messages {
            #expect(try roundTrip(message) == message)
        }
    }

    @Test func everyServerMessageRoundTrips() throws {
        var noExpiry = try Sample.node(5, expiry: nil)
        noExpiry.tags = []
        noExpiry.endpoints = []
        let messages: [ServerMessage] = [
            .map(try Sample.map()),
            .map(try Sample.map(version: 0, peers: [])),
            .map(NetworkMap(version: 1, ipv4Range: try IPPrefix("100.64.0.0/10"), ipv6Range: try IPPrefix("fd00::/48"),
                            node: noExpiry, peers: [try Sample.node(6, expiry: -1)])),
            .delta(MapDelta(version: 8, baseVersion: 7, node: nil, upserted: [try Sample.node(4)], removed: [2])),
            .delta(MapDelta(version: 9, baseVersion: 8, node: try Sample.node(1, name: "renamed"), upserted: [], removed: [])),
            .delta(MapDelta(version: 10, baseVersion: 9, node: nil, upserted: [], removed: [UInt64.max, 0])),
            .pong(0),
            .pong(12345),
            .loggedOut,
        ]
        for message in messages {
            #expect(try roundTrip(message) == message)
        }
    }

    @Test func subnetRoutesTravelAndOlderPeersOmitThem() throws {
        var router = try Sample.node(7)
        let lan = try IPPrefix("192.168.10.0/24")
        router.routes = [lan, try IPPrefix("10.20.0.0/16")]
        router.primaryRoutes = [lan]
        router.allowedIPs = router.addresses + [lan]
        let message = ServerMessage.delta(MapDelta(version: 2, baseVersion: 1, node: nil, upserted: [router], removed: []))
        #expect(try roundTrip(message) == message)
        // A login or a node from a peer that predates subnet routes has none.
        let old = #"{"type":"login","nodeKey":"\#(Sample.key(1).base64)","hostname":"h","credential":null,"endpoints":[],"mapVersion":0}"#
        guard case .login(let request) = try NodeMessage(json: try JSONParser.parse(Array(old.utf8))) else {
            Issue.record("not a login")
            return
        }
        #expect(request.advertisedRoutes.isEmpty)
        var view = router.json
        view["routes"] = ["garbage"]
        #expect(throws: ControlMessageError.self) { _ = try NodeView(json: view) }
    }

    @Test func everyFailureCodeRoundTrips() throws {
        let codes: [ControlFailure.Code] = [
            .authKeyInvalid, .authKeyRevoked, .authKeyExpired, .authKeyUsed, .loginRequired, .nodeKeyExpired,
            .nodeDeleted, .badRequest, .addressesExhausted, .internalError,
        ]
        for code in codes {
            let message = ServerMessage.failure(ControlFailure(code, "because: " + code.rawValue))
            #expect(try roundTrip(message) == message)
        }
        // An unknown code from a newer server reads as an internal error, keeping the sentence.
        let future = try ServerMessage(json: try JSONParser.parse(#"{"type":"failure","code":"quota","message":"m"}"#))
        #expect(future == .failure(ControlFailure(.internalError, "m")))
    }

    @Test func deltaNodeIsNullWhenAbsent() throws {
        let delta = ServerMessage.delta(MapDelta(version: 2, baseVersion: 1, node: nil, upserted: [], removed: []))
        let text = JSONSerializer.string(delta.json)
        #expect(text.contains(#""node":null"#))
        // And a missing "node" member also means "unchanged".
        let withoutNode = try ServerMessage(json: try JSONParser.parse(
            #"{"type":"delta","version":2,"baseVersion":1,"upserted":[],"removed":[]}"#))
        #expect(withoutNode == delta)
    }

    @Test func malformedMessagesAreRefused() throws {
        let bad = [
            #"{}"#, #"{"type":1}"#, #"{"type":"ping"}"#, #"{"type":"ping","number":-3}"#, #"{"type":"ping","number":1.5}"#,
            #"{"type":"login","nodeKey":"short","hostname":"h","credential":null,"endpoints":[],"mapVersion":0}"#,
            #"{"type":"endpoints","endpoints":["not an endpoint"]}"#, #"[]"#, #""logout""#,
        ]
        for text in bad {
            #expect(throws: ControlMessageError.self, "accepted \(text)") { try NodeMessage(json: try JSONParser.parse(text)) }
        }
        let longName = String(repeating: "a", count: 256)
        let login = #"{"type":"login","nodeKey":"\#(Sample.key(1).base64)","hostname":"\#(longName)","credential":null,"endpoints":[],"mapVersion":0}"#
        #expect(throws: ControlMessageError.self) { try NodeMessage(json: try JSONParser.parse(login)) }
        #expect(throws: ControlMessageError.self) {
            try ServerMessage(json: try JSONParser.parse(#"{"type":"map","version":1}"#))
        }
    }

    /// Lists and strings a node sends are bounded before anything is built
    /// from them: at the limit they decode, one past it they are refused.
    @Test func listsAndStringsAreBounded() throws {
        func endpoints(_ count: Int) -> String {
            "[" + (0..<count).map { "\"192.0.2.\($0 % 250 + 1):\(1000 + $0)\"" }.joined(separator: ",") + "]"
        }
        func routes(_ count: Int) -> String {
            "[" + (0..<count).map { "\"10.\($0 / 256).\($0 % 256).0/24\"" }.joined(separator: ",") + "]"
        }
        func login(endpoints: String = "[]", routes: String = "[]", key: String = "tskey-x") -> String {
            #"{"type":"login","nodeKey":"\#(Sample.key(1).base64)","hostname":"h","credential":{"preAuthKey":"\#(key)"},"# +
                #""endpoints":\#(endpoints),"mapVersion":0,"routes":\#(routes)}"#
        }
        func decodes(_ text: String) -> Bool { (try? NodeMessage(json: try JSONParser.parse(text))) != nil }

        let most = MessageLimits.maximumEndpoints
        #expect(decodes(#"{"type":"endpoints","endpoints":"# + endpoints(most) + "}"))
        #expect(!decodes(#"{"type":"endpoints","endpoints":"# + endpoints(most + 1) + "}"))
        #expect(decodes(login(endpoints: endpoints(most))))
        #expect(!decodes(login(endpoints: endpoints(most + 1))))
        // The message that stopped the server: about 90,000 endpoints.
        #expect(!decodes(#"{"type":"endpoints","endpoints":"# + endpoints(90_000) + "}"))
        #expect(decodes(login(routes: routes(MessageLimits.maximumAdvertisedRoutes))))
        #expect(!decodes(login(routes: routes(MessageLimits.maximumAdvertisedRoutes + 1))))
        #expect(decodes(login(key: String(repeating: "k", count: MessageLimits.maximumPreAuthKeyBytes))))
        #expect(!decodes(login(key: String(repeating: "k", count: MessageLimits.maximumPreAuthKeyBytes + 1))))
        let error = #expect(throws: ControlMessageError.self) {
            try NodeMessage(json: try JSONParser.parse(#"{"type":"endpoints","endpoints":"# + endpoints(most + 1) + "}"))
        }
        #expect(error?.description.contains("endpoints: more than 64 entries") == true)
    }

    // MARK: NetworkMap.apply

    @Test func applyUpsertsRemovesAndSorts() throws {
        var map = try Sample.map(version: 7, peers: [2, 3, 5])
        var changed = try Sample.node(3, name: "three")
        changed.online = true
        try map.apply(MapDelta(version: 8, baseVersion: 7, node: nil,
                               upserted: [try Sample.node(4), changed, try Sample.node(200)], removed: [2, 99]))
        #expect(map.version == 8)
        #expect(map.peers.map(\.id) == [3, 4, 5, 200])
        #expect(map.peers[0] == changed)
        #expect(map.node == (try Sample.node(1)))
    }

    @Test func applyReplacesTheNodeOnlyWhenGiven() throws {
        var map = try Sample.map()
        let renamed = try Sample.node(1, name: "renamed")
        try map.apply(MapDelta(version: 8, baseVersion: 7, node: renamed, upserted: [], removed: []))
        #expect(map.node == renamed)
        #expect(map.peers.map(\.id) == [2, 3])
        try map.apply(MapDelta(version: 9, baseVersion: 8, node: nil, upserted: [], removed: []))
        #expect(map.node == renamed)
        #expect(map.version == 9)
    }

    @Test func applyRefusesAVersionMismatchAndChangesNothing() throws {
        var map = try Sample.map(version: 7)
        let before = map
        #expect(throws: ControlMessageError.self) {
            try map.apply(MapDelta(version: 9, baseVersion: 8, node: nil, upserted: [try Sample.node(9)], removed: [2]))
        }
        #expect(throws: ControlMessageError.self) {
            try map.apply(MapDelta(version: 7, baseVersion: 6, node: nil, upserted: [], removed: []))
        }
        #expect(map == before)
    }

    @Test func applyingAJSONDeltaMatchesApplyingTheValue() throws {
        var direct = try Sample.map()
        var viaJSON = direct
        let delta = MapDelta(version: 8, baseVersion: 7, node: try Sample.node(1, name: "x"), upserted: [try Sample.node(4)],
                             removed: [3])
        try direct.apply(delta)
        guard case .delta(let decoded) = try roundTrip(.delta(delta)) else {
            Issue.record("delta did not decode as a delta")
            return
        }
        try viaJSON.apply(decoded)
        #expect(direct == viaJSON)
    }
}
