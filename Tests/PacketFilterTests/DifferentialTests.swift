import ControlProtocol
import IP
import Testing
import TestSupport
@testable import PacketFilter

/// Random rule sets and random packet streams (inbound and outbound, with
/// time moving on and the policy replaced now and then): the compiled
/// filter must give exactly the reference's verdict, rule included, and the
/// same counters.
@Suite struct DifferentialTests {
    @Test(arguments: 0..<24 as Range<UInt64>)
    func theCompiledFilterAgreesWithTheReference(seed: UInt64) {
        var workload = Workload(seed: seed)
        var policy: [FilterRule]? = workload.generator.chance(10) ? nil : workload.rules()
        let local = workload.localPrefixes()
        // A large table so that no bucket overflows (the reference never forgets a flow early).
        let filter = Harness(PacketFilter(policy: FilterPolicy(policy), localPrefixes: local,
                                          flowCapacity: 1 << 16, hashSeed: seed))
        var reference = ReferenceFilter(rules: policy, local: local)
        var now: UInt64 = 0
        var sent: [PacketSpec] = []
        var tally = [UInt64](repeating: 0, count: FilterReason.count)
        var mismatches = 0

        for step in 0..<3000 {
            now += workload.generator.chance(2) ? 100 * second : UInt64.random(in: 0...second / 2, using: &workload.generator)
            if workload.generator.chance(1) {
                policy = workload.generator.chance(10) ? nil : workload.rules()
                filter.update(policy: FilterPolicy(policy), localPrefixes: local)
                reference.rules = policy
            }
            if workload.generator.chance(25) {
                let spec = workload.outboundPacket(local: local)
                filter.outbound(spec, now: now)
                reference.outbound(spec, now: now)
                sent.append(spec)
                continue
            }
            // A quarter of inbound packets answer something sent earlier.
            var spec = workload.inboundPacket(local: local)
            if !sent.isEmpty && workload.generator.chance(25) {
                spec = sent[Int.random(in: max(0, sent.count - 50)..<sent.count, using: &workload.generator)].reversed
                if workload.generator.chance(20) { spec.sourcePort = workload.port() }
            } else if !sent.isEmpty && workload.generator.chance(10) {
                // An ICMP error about something sent (now and then altered, or a stranger's).
                var original = sent[Int.random(in: max(0, sent.count - 50)..<sent.count, using: &workload.generator)]
                if workload.generator.chance(20) { original.sourcePort = workload.port() }
                if workload.generator.chance(10) { original.source = workload.host(v6: original.isIPv6) }
                spec = PacketSpec(source: workload.host(v6: original.isIPv6), destination: original.source,
                                  protocolNumber: original.isIPv6 ? 58 : 1,
                                  icmpType: workload.pick(original.isIPv6 ? [1, 2, 3, 4] : [3, 11, 12]))
                spec.quoted = [original]
            }
            let expected = reference.inbound(spec, now: now)
            let actual = filter.inbound(spec, now: now)
            tally[Int(expected.reason.rawValue)] += 1
            if actual != expected {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record("seed \(seed) step \(step): \(spec): expected \(expected), got \(actual)")
                }
            }
        }
        #expect(mismatches == 0)
        for reason in 0..<FilterReason.count {
            #expect(filter.counters.packets(FilterReason(rawValue: UInt8(reason))!) == tally[reason])
        }
        #expect(filter.flowsEvicted == 0)
        #expect(filter.liveFlows(now: now) == reference.liveFlows(now: now))
    }

    /// The stream really exercises every outcome (so agreement means something).
    @Test func theWorkloadReachesEveryReason() {
        var seen = Set<UInt8>()
        for seed in 0..<24 as Range<UInt64> {
            var workload = Workload(seed: seed)
            let local = workload.localPrefixes()
            for policy in [workload.rules(), nil] {
                var reference = ReferenceFilter(rules: policy, local: local)
                let filter = Harness(FilterPolicy(policy), local: local)
                for step in 0..<1000 {
                    let out = workload.outboundPacket(local: local)
                    filter.outbound(out, now: UInt64(step))
                    reference.outbound(out, now: UInt64(step))
                    let spec = workload.generator.chance(20) ? out.reversed : workload.inboundPacket(local: local)
                    seen.insert(filter.inbound(spec, now: UInt64(step)).reason.rawValue)
                }
            }
        }
        let missing = (0..<UInt8(FilterReason.count)).filter { !seen.contains($0) && $0 != FilterReason.empty.rawValue }
        #expect(missing.isEmpty, "never produced: \(missing.map { FilterReason(rawValue: $0)!.description })")
    }
}

/// Random rules and packets over a small world of addresses and ports, so
/// that rules and packets meet often.
struct Workload {
    var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed &* 0x9E37_79B9 &+ 17) }

    static let nodes4 = (1...12).map { IPAddress.v4(IPv4Address(100, 64, 0, UInt8($0))) }
    static let nodes6 = (1...12).map { IPAddress.v6(IPv6Address(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, UInt16($0))) }
    static let lan4 = (1...6).map { IPAddress.v4(IPv4Address(192, 168, 10, UInt8($0 * 40))) }
    static let lan6 = (1...6).map { IPAddress.v6(IPv6Address(0xfd00, 0x10, 0, 0, 0, 0, 0, UInt16($0 * 40))) }
    static let outside4 = [address("8.8.8.8"), address("192.168.11.1"), address("100.128.0.1"), address("224.0.0.251")]
    static let outside6 = [address("2001:db8::1"), address("fd00:11::1"), address("ff02::1")]
    static let ports: [UInt16] = [0, 22, 53, 80, 443, 1000, 1001, 5000, 8080, 65535]
    static let protocols: [UInt8] = [6, 17, 1, 58, 132, 47, 50, 43, 89]

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &generator)] }

    mutating func port() -> UInt16 {
        generator.chance(80) ? pick(Self.ports) : UInt16.random(in: 0...65535, using: &generator)
    }

    /// This node (a random one of the twelve) and, half the time, a routed LAN.
    mutating func localPrefixes() -> [IPPrefix] {
        var prefixes = [prefix("100.64.0.1/32"), prefix("fd7a:115c:a1e0::1/128")]
        if generator.chance(50) { prefixes += [prefix("192.168.10.0/24"), prefix("fd00:10::/64")] }
        if generator.chance(10) { prefixes.append(prefix("0.0.0.0/0")) }
        return prefixes
    }

    mutating func host(v6: Bool) -> IPAddress {
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<6: return pick(v6 ? Self.nodes6 : Self.nodes4)
        case 6..<9: return pick(v6 ? Self.lan6 : Self.lan4)
        default: return pick(v6 ? Self.outside6 : Self.outside4)
        }
    }

    /// A prefix around a known host: the host itself most of the time, or a
    /// shorter prefix containing it (down to /0).
    mutating func covering(_ address: IPAddress) -> IPPrefix {
        let width = address.bitWidth
        let lengths = address.isIPv4 ? [32, 32, 32, 31, 30, 24, 16, 10, 8, 0] : [128, 128, 128, 127, 120, 64, 48, 16, 0]
        let length = generator.chance(80) ? width : pick(lengths)
        return try! IPPrefix(address, length: length)
    }

    mutating func portRange() -> PortRange {
        switch Int.random(in: 0..<10, using: &generator) {
        case 0..<3: return .all
        case 3..<7: let single = pick(Self.ports); return PortRange(first: single, last: single)!
        default:
            let a = port(), b = port()
            return PortRange(first: min(a, b), last: max(a, b))!
        }
    }

    mutating func rules() -> [FilterRule] {
        let count = generator.chance(10) ? 0 : Int.random(in: 1...(generator.chance(20) ? 150 : 12), using: &generator)
        return (0..<count).map { index in
            let sources = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                generator.chance(5) ? pick([prefix("0.0.0.0/0"), prefix("::/0")]) : covering(host(v6: generator.chance(40)))
            }
            let destinations = (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                let target = generator.chance(60) ? pick([address("100.64.0.1"), address("fd7a:115c:a1e0::1")])
                    : host(v6: generator.chance(40))
                return FilterDestination(prefix: covering(target), ports: portRange())
            }
            var protocols: [UInt8] = []
            if generator.chance(50) {
                protocols = (0..<Int.random(in: 1...3, using: &generator)).map { _ in pick(Self.protocols) }
            }
            return FilterRule(sources: sources, destinations: destinations, protocols: protocols,
                              policyRule: index * 7 + 3)
        }
    }

    mutating func packet(source: IPAddress, destination: IPAddress) -> PacketSpec {
        var spec = PacketSpec(source: source, destination: destination, protocolNumber: pick(Self.protocols),
                              sourcePort: port(), destinationPort: port())
        spec.tcpFlags = pick([PacketSpec.syn, PacketSpec.syn, PacketSpec.syn | PacketSpec.ack, PacketSpec.ack,
                              PacketSpec.fin | PacketSpec.ack, PacketSpec.rst, PacketSpec.syn | PacketSpec.fin, 0])
        spec.icmpType = pick([0, 3, 8, 11, 12, 13, 1, 2, 4, 128, 129, 135])
        if generator.chance(4) {
            spec.fragment = true
            spec.fragmentOffset = generator.chance(50) ? 0 : UInt16.random(in: 1...300, using: &generator)
        }
        if generator.chance(3) { spec.truncatedTransport = true }
        if !source.isIPv4 && generator.chance(10) {
            spec.extensionHeaders = (0..<Int.random(in: 1...9, using: &generator)).map { _ in pick([0, 43, 60]) }
        }
        return spec
    }

    mutating func inboundPacket(local: [IPPrefix]) -> PacketSpec {
        let v6 = generator.chance(40)
        let destination = generator.chance(50) ? pick([address(v6 ? "fd7a:115c:a1e0::1" : "100.64.0.1")]) : host(v6: v6)
        return packet(source: host(v6: v6), destination: destination)
    }

    mutating func outboundPacket(local: [IPPrefix]) -> PacketSpec {
        let v6 = generator.chance(40)
        return packet(source: address(v6 ? "fd7a:115c:a1e0::1" : "100.64.0.1"), destination: host(v6: v6))
    }
}
