import ControlProtocol
import IP
@testable import PacketFilter

/// A packet described by its fields; `bytes` serializes it. Checksums stay
/// zero: the filter does not look at them.
struct PacketSpec: CustomStringConvertible {
    var source: IPAddress
    var destination: IPAddress
    var protocolNumber: UInt8
    var sourcePort: UInt16 = 0
    var destinationPort: UInt16 = 0
    var tcpFlags: UInt8 = 0
    var icmpType: UInt8 = 0
    /// IPv4: a fragment (more-fragments set, or offset `fragmentOffset`);
    /// IPv6: a fragment header in front of the transport header.
    var fragment = false
    var fragmentOffset: UInt16 = 0
    /// The transport header is cut to a few bytes (the IP header stays valid).
    var truncatedTransport = false
    /// IPv6 only: extension headers (hop-by-hop 0, routing 43, destination
    /// options 60), in order, between the IPv6 header and the transport (8
    /// bytes each; a fragment header, if any, comes after them).
    var extensionHeaders: [UInt8] = []
    /// ICMP errors: the packet quoted after the ICMP header (none or one;
    /// IPv4 quotes its first 28 bytes, IPv6 all of it).
    var quoted: [PacketSpec] = []

    static let syn: UInt8 = 0x02
    static let ack: UInt8 = 0x10
    static let fin: UInt8 = 0x01
    static let rst: UInt8 = 0x04

    var isIPv6: Bool { !source.isIPv4 }

    var description: String {
        var text = source.description + ":" + String(sourcePort) + " > " + destination.description + ":"
            + String(destinationPort) + " proto " + String(protocolNumber)
        if protocolNumber == 6 { text += " flags " + String(tcpFlags, radix: 16) }
        if protocolNumber == 1 || protocolNumber == 58 { text += " type " + String(icmpType) }
        if fragment { text += " fragment@" + String(fragmentOffset) }
        if truncatedTransport { text += " truncated" }
        if !extensionHeaders.isEmpty { text += " after " + extensionHeaders.map { String($0) }.joined(separator: ",") }
        if let quote = quoted.first { text += " quoting [" + quote.description + "]" }
        return text
    }

    /// The transport header (and a little payload).
    var transportBytes: [UInt8] {
        var body: [UInt8]
        switch protocolNumber {
        case 6:
            body = be16(sourcePort) + be16(destinationPort) + [0, 0, 0, 1, 0, 0, 0, 0, 0x50, tcpFlags]
                + be16(65535) + [0, 0, 0, 0] + [1, 2, 3]
        case 17:
            body = be16(sourcePort) + be16(destinationPort) + be16(12) + [0, 0] + [9, 9, 9, 9]
        case 132:
            body = be16(sourcePort) + be16(destinationPort) + [1, 2, 3, 4, 0, 0, 0, 0] + [7, 7, 7, 7]
        case 1 where !isIPv6, 58 where isIPv6:
            body = [icmpType, 0, 0, 0, 0x12, 0x34, 0, 1]
            if let quote = quoted.first {
                body += isIPv6 ? quote.bytes : Array(quote.bytes.prefix(28))
            } else {
                body += [0x61, 0x62]
            }
        default:
            body = [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]
        }
        if truncatedTransport { body = Array(body.prefix(protocolNumber == 6 ? 13 : 5)) }
        return body
    }

    var bytes: [UInt8] {
        var transport = transportBytes
        switch (source, destination) {
        case (.v4(let source), .v4(let destination)):
            var flags: UInt16 = 0x4000  // don't fragment
            if fragment { flags = (fragmentOffset == 0 ? 0x2000 : 0) | (fragmentOffset & 0x1fff) }
            if fragment && fragmentOffset != 0 { transport = [0xab, 0xcd, 0xef, 0x01, 2, 3, 4, 5] }
            return [0x45, 0] + be16(UInt16(20 + transport.count)) + [0x12, 0x34] + be16(flags)
                + [64, protocolNumber, 0, 0] + be32(source.value) + be32(destination.value) + transport
        case (.v6(let source), .v6(let destination)):
            var nextHeader = protocolNumber
            if fragment {
                // Fragment header: next header, reserved, offset+M, identification.
                let offsetField = fragmentOffset << 3 | (fragmentOffset == 0 ? 1 : 0)
                transport = [protocolNumber, 0] + be16(offsetField) + [0, 0, 0, 9] + transport
                nextHeader = 44
            }
            for header in extensionHeaders.reversed() {
                // Next header, length 0 (8 bytes in all), six bytes of options or padding.
                transport = [nextHeader, 0, 1, 4, 0, 0, 0, 0] + transport
                nextHeader = header
            }
            return [0x60, 0, 0, 0] + be16(UInt16(transport.count)) + [nextHeader, 64]
                + be64(source.high) + be64(source.low) + be64(destination.high) + be64(destination.low) + transport
        default:
            preconditionFailure("mixed families")
        }
    }

    /// The same packet coming back: addresses and ports swapped.
    var reversed: PacketSpec {
        var reply = self
        reply.source = destination
        reply.destination = source
        reply.sourcePort = destinationPort
        reply.destinationPort = sourcePort
        return reply
    }
}

func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
func be32(_ value: UInt32) -> [UInt8] { be16(UInt16(value >> 16)) + be16(UInt16(value & 0xffff)) }
func be64(_ value: UInt64) -> [UInt8] { be32(UInt32(value >> 32)) + be32(UInt32(value & 0xffff_ffff)) }

func address(_ text: String) -> IPAddress { try! IPAddress(text) }
func prefix(_ text: String) -> IPPrefix { try! IPPrefix(text) }

/// A rule from text: sources, "address-or-prefix:ports" destinations.
func rule(_ sources: [String], _ destinations: [String], protocols: [UInt8] = [], index: Int = 0) -> FilterRule {
    FilterRule(
        sources: sources.map(prefix),
        destinations: destinations.map { text in
            let colon = text.lastIndex(of: ":")!
            let target = String(text[..<colon].filter { $0 != "[" && $0 != "]" })
            return FilterDestination(prefix: prefix(target), ports: PortRange(parsing: String(text[text.index(after: colon)...]))!)
        },
        protocols: protocols, policyRule: index)
}

/// Nanoseconds in a second.
let second: UInt64 = 1_000_000_000

/// A filter behind a reference, so `#expect` can call its mutating methods.
final class Harness {
    var filter: PacketFilter

    init(_ filter: PacketFilter) { self.filter = filter }

    convenience init(_ policy: FilterPolicy, local: [IPPrefix]) {
        self.init(PacketFilter(policy: policy, localPrefixes: local))
    }

    func inbound(_ spec: PacketSpec, now: UInt64 = 0) -> FilterVerdict {
        spec.bytes.withUnsafeBytes { filter.inbound($0, now: now) }
    }

    func inbound(bytes: [UInt8], now: UInt64 = 0) -> FilterVerdict {
        bytes.withUnsafeBytes { filter.inbound($0, now: now) }
    }

    func outbound(_ spec: PacketSpec, now: UInt64 = 0) {
        spec.bytes.withUnsafeBytes { filter.outbound($0, now: now) }
    }

    func outbound(bytes: [UInt8], now: UInt64 = 0) {
        bytes.withUnsafeBytes { filter.outbound($0, now: now) }
    }

    func update(policy: FilterPolicy, localPrefixes: [IPPrefix]) {
        filter.update(policy: policy, localPrefixes: localPrefixes)
    }

    var counters: FilterCounters { filter.counters }
    var isAllowAll: Bool { filter.isAllowAll }
    var ruleCount: Int { filter.ruleCount }
    var flowsRecorded: UInt64 { filter.flowsRecorded }
    var flowsEvicted: UInt64 { filter.flowsEvicted }
    var flowCapacity: Int { filter.flowCapacity }
    var ruleCounters: [(policyRule: Int, packets: UInt64)] { filter.ruleCounters }
    func liveFlows(now: UInt64) -> Int { filter.liveFlows(now: now) }
    func acceptedPackets(policyRule: Int) -> UInt64 { filter.acceptedPackets(policyRule: policyRule) }
}
