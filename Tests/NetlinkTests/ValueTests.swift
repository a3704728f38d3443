import CTern
import IP
import Testing
@testable import Netlink

/// Values checked before anything is sent, and the reconciliation plan.
@Suite struct ValueTests {
    @Test func interfaceAddressKeepsHostBits() throws {
        let address = try InterfaceAddress("100.64.0.1/10")
        #expect(address.address == .v4(IPv4Address(100, 64, 0, 1)))
        #expect(address.prefixLength == 10)
        #expect(address.network == (try IPPrefix("100.64.0.0/10")))
        #expect(address.description == "100.64.0.1/10")
        #expect(try InterfaceAddress("fd7a::1").prefixLength == 128)
    }

    @Test func invalidPrefixesAreRejectedBeforeSending() {
        #expect(throws: IPParseError.prefixLengthOutOfRange(maximum: 32)) { try IPPrefix("10.0.0.0/33") }
        #expect(throws: IPParseError.prefixLengthOutOfRange(maximum: 128)) { try InterfaceAddress("fd00::1/129") }
        #expect(throws: IPParseError.self) { try InterfaceAddress("10.0.0/8") }
        #expect(throws: IPParseError.prefixLengthOutOfRange(maximum: 32)) {
            try InterfaceAddress(.v4(IPv4Address(10, 0, 0, 1)), prefixLength: 40)
        }
    }

    @Test func routeDefaultsMatchWhatTheKernelStores() throws {
        let v4 = Route(destination: try IPPrefix("10.1.0.0/16"), interfaceIndex: 3)
        #expect(v4.scope == UInt8(RT_SCOPE_LINK.rawValue))
        #expect(v4.metric == 0)
        #expect(v4.table == 254)
        #expect(v4.protocolNumber == RouteProtocol.tern)
        let v6 = Route(destination: try IPPrefix("fd00::/8"), interfaceIndex: 3)
        #expect(v6.metric == 1024)
        #expect(v6.scope == UInt8(RT_SCOPE_UNIVERSE.rawValue))
        let viaGateway = Route(
            destination: try IPPrefix("10.2.0.0/16"), interfaceIndex: 3, gateway: try IPAddress("10.1.0.1"))
        #expect(viaGateway.scope == UInt8(RT_SCOPE_UNIVERSE.rawValue))
    }

    @Test func reconciliationRemovesStrayAndAddsMissingRoutes() throws {
        func route(_ text: String) throws -> Route { Route(destination: try IPPrefix(text), interfaceIndex: 2) }
        let a = try route("10.1.0.0/16")
        let b = try route("10.2.0.0/16")
        let c = try route("10.3.0.0/16")
        #expect(RTNetlink.changes(from: [a, b], to: [b, c, c]) == [.remove(a), .add(c)])
        #expect(RTNetlink.changes(from: [a, b], to: [b, a]).isEmpty)
        #expect(RTNetlink.changes(from: [], to: []).isEmpty)
        // A route whose metric changed is a different route: removed and re-added.
        let moved = Route(destination: a.destination, interfaceIndex: 2, metric: 5)
        #expect(RTNetlink.changes(from: [a], to: [moved]) == [.remove(a), .add(moved)])
    }

    @Test func messageBufferAlignsAttributesAndGrows() {
        let buffer = MessageBuffer(capacity: 64)
        for sequence in UInt32(1)...UInt32(50) {
            buffer.begin(type: UInt16(RTM_NEWROUTE), flags: NLM_F_ACK, sequence: sequence)
            buffer.extraHeader(rtmsg())
            buffer.put(Int(RTA_TABLE.rawValue), u32: 254)
            buffer.put(Int(RTA_DST.rawValue), bytes: UnsafeRawBufferPointer(start: nil, count: 0))
            buffer.put(7, string: "abc")
            buffer.end()
        }
        #expect(buffer.count == 50)
        // 16 header + 12 rtmsg + 8 table + 4 empty + 8 "abc\0".
        #expect(buffer.length == 50 * 48)
        var seen = 0
        try? forEachMessage(in: buffer.bytes) { (message) throws(NetlinkError) in
            seen += 1
            #expect(message.pointee.nlmsg_len == 48)
            var types: [Int] = []
            try forEachAttribute(in: attributeRegion(of: message, after: MemoryLayout<rtmsg>.size)) { (type, payload) throws(NetlinkError) in
                types.append(type)
                if type == 7 { #expect(payload.string == "abc") }
                if type == Int(RTA_TABLE.rawValue) { #expect(payload.u32 == 254) }
            }
            #expect(types == [Int(RTA_TABLE.rawValue), Int(RTA_DST.rawValue), 7])
        }
        #expect(seen == 50)
    }
}
