import ControlProtocol
import IP
import PacketFilter

/// libFuzzer entry point for the node packet filter. The first bytes
/// describe a policy (allow-all or up to 15 rules over a small address
/// space, so rules and packets meet) and the node's local prefixes; the
/// rest is a stream of packets, each a header byte (direction, time step,
/// policy change) and a length, run inbound or outbound. Must hold:
///
/// 1. no trap, whatever the bytes;
/// 2. a verdict's `allowed` follows its reason, and only `.rule` names a
///    rule, one of the policy's;
/// 3. bytes that are not an IP packet are `.empty` or `.malformed`, and
///    in allow-all mode a well-formed packet to a local address passes
///    unless its transport header is cut short;
/// 4. the counters add up to the packets seen, and the flow table never
///    holds more than its capacity.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPacketFilter(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = FuzzInput(UnsafeBufferPointer(start: data, count: size))
    let local = input.localPrefixes()
    var policy = input.policy()
    var filter = PacketFilter(policy: policy, localPrefixes: local, flowCapacity: Int(input.byte() % 64),
                              flowTimeout: UInt64(input.byte()) * 1000, hashSeed: UInt64(input.byte()))
    var now: UInt64 = 0
    var inboundCount: UInt64 = 0
    var outboundCount: UInt64 = 0
    while !input.isEmpty {
        let header = input.byte()
        let length = Int(input.byte()) | Int(header & 0x01) << 8
        let packet = input.bytes(length)
        now &+= UInt64(header >> 4) * 500
        if header & 0x0e == 0x0e {
            // Now and then a new network map: rules change, flows stay.
            policy = input.policy()
            filter.update(policy: policy, localPrefixes: local)
        }
        packet.withUnsafeBytes { buffer in
            if header & 0x02 != 0 {
                filter.outbound(buffer, now: now)
                outboundCount += 1
                return
            }
            inboundCount += 1
            let verdict = filter.inbound(buffer, now: now)
            check(verdict, buffer, policy: policy, local: local)
        }
        precondition(filter.liveFlows(now: now) <= filter.flowCapacity, "flow table over capacity")
    }
    let counters = filter.counters
    precondition(counters.acceptedPackets &+ counters.droppedPackets == inboundCount, "counters do not add up")
    precondition(counters.outboundPackets == outboundCount, "outbound counter")
    _ = filter.ruleCounters
    return 0
}

private func check(_ verdict: FilterVerdict, _ buffer: UnsafeRawBufferPointer, policy: FilterPolicy, local: [IPPrefix]) {
    precondition(verdict.allowed == verdict.reason.allows, "allowed disagrees with the reason")
    precondition((verdict.policyRule != nil) == (verdict.reason == .rule), "a rule without .rule, or the reverse")
    _ = verdict.description
    switch policy {
    case .allowAll:
        precondition(verdict.reason != .rule && verdict.reason != .noRule && verdict.reason != .fragment,
                     "allow-all looked at rules")
    case .rules(let rules):
        precondition(verdict.reason != .allowAll, "allow-all verdict under rules")
        if let rule = verdict.policyRule {
            precondition(rules.contains { $0.policyRule == rule }, "verdict names a rule that does not exist")
        }
    }
    let packet: IPPacket
    do { packet = try IPPacket(buffer) } catch {
        precondition(verdict.reason == .empty || verdict.reason == .malformed, "a broken packet was judged")
        return
    }
    let isLocal = local.contains { $0.contains(packet.destination) }
    if !isLocal {
        precondition(verdict.reason == .notLocal || verdict.reason == .malformed, "a foreign packet passed")
    } else if case .allowAll = policy {
        precondition(verdict.reason == .allowAll || verdict.reason == .malformed, "allow-all dropped a good packet")
    }
}

/// Reads the fuzzer's bytes front to back; past the end every byte is 0.
private struct FuzzInput {
    let data: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(_ data: UnsafeBufferPointer<UInt8>) { self.data = data }

    var isEmpty: Bool { offset >= data.count }

    mutating func byte() -> UInt8 {
        guard offset < data.count else { return 0 }
        defer { offset += 1 }
        return data[offset]
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(data.count, offset + count)
        defer { offset = end }
        return Array(data[offset..<end])
    }

    /// An address from one byte: IPv4 100.64.0.x or 192.168.10.x, or IPv6
    /// fd7a:115c:a1e0::x, so that packets built by the fuzzer hit them.
    mutating func address() -> IPAddress {
        let selector = byte()
        let low = selector & 0x3f
        switch selector >> 6 {
        case 0: return .v4(IPv4Address(100, 64, 0, low))
        case 1: return .v4(IPv4Address(192, 168, 10, low))
        case 2: return .v6(IPv6Address(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, UInt16(low)))
        default: return .v4(IPv4Address(UInt32(byte()) << 24 | UInt32(byte()) << 16 | UInt32(byte()) << 8 | UInt32(low)))
        }
    }

    mutating func prefix() -> IPPrefix {
        let address = self.address()
        let length = Int(byte()) % (address.bitWidth + 1)
        return try! IPPrefix(address, length: length)
    }

    mutating func localPrefixes() -> [IPPrefix] {
        (0..<(1 + Int(byte() % 3))).map { _ in prefix() }
    }

    mutating func policy() -> FilterPolicy {
        let count = byte()
        if count & 0x80 != 0 { return .allowAll }
        var rules: [FilterRule] = []
        for _ in 0..<Int(count % 16) {
            let sources = (0..<Int(byte() % 4)).map { _ in prefix() }
            let destinations = (0..<Int(byte() % 4)).map { _ in
                let first = UInt16(byte()) << 8 | UInt16(byte())
                let span = UInt16(byte())
                let last = first > UInt16.max - span ? UInt16.max : first + span
                return FilterDestination(prefix: prefix(), ports: span == 255 ? .all : PortRange(first: first, last: last)!)
            }
            let protocols = (0..<Int(byte() % 3)).map { _ in byte() }
            rules.append(FilterRule(sources: sources, destinations: destinations, protocols: protocols,
                                    policyRule: Int(byte())))
        }
        return .rules(rules)
    }
}
