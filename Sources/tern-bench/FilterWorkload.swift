import ControlProtocol
import IP

/// A small deterministic generator (SplitMix64), so every run measures the
/// same rules and packets.
struct BenchRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`.
    mutating func below(_ bound: Int) -> Int { Int(truncatingIfNeeded: next() % UInt64(bound)) }

    /// True `percent` times in a hundred.
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// The kinds of inbound packet the filter benchmark sends.
enum FilterPacketClass: Int {
    /// A TCP SYN that a rule in the last tenth of the list allows.
    case lateRuleSYN
    /// A TCP SYN from a mesh peer that no rule allows (dropped).
    case noRuleSYN
    /// A UDP reply to a flow the node opened, which no rule allows: only
    /// the flow table lets it in.
    case flowReply
    /// An ICMP or ICMPv6 echo request, from a rule's source or any peer.
    case echoRequest

    static let count = 4

    /// For the packet-mix line.
    var label: String {
        switch self {
        case .lateRuleSYN: return "TCP SYN allowed by a late rule"
        case .noRuleSYN: return "TCP SYN no rule allows"
        case .flowReply: return "UDP reply to a flow the node opened"
        case .echoRequest: return "ICMP echo request"
        }
    }
}

/// One node's filter rules and a stream of inbound packets for it, built
/// from fixed seeds.
///
/// The node is 100.64.0.1 and fd7a:115c:a1e0::1 and routes two LAN subnets.
/// Rules have the shapes a policy compiles to: sources are mesh peers (each
/// as its /32 and /128, like a node's two addresses) and now and then a /24
/// or /16 elsewhere in 100.64.0.0/10; destinations are the node's own
/// addresses or a LAN prefix; ports are one port, a range or all; protocols
/// TCP, UDP, both, or the default set. The packet classes and address
/// families come from a seed of their own, so the mix is the same for every
/// rule count.
struct FilterWorkload {
    static let nodeV4 = IPv4Address(100, 64, 0, 1)
    static let nodeV6 = IPv6Address(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, 1)
    /// The node's addresses and the LAN subnets it routes.
    static let localPrefixes: [IPPrefix] = [
        try! IPPrefix(.v4(nodeV4), length: 32), try! IPPrefix(.v6(nodeV6), length: 128),
        try! IPPrefix(.v4(IPv4Address(192, 168, 10, 0)), length: 24),
        try! IPPrefix(.v4(IPv4Address(10, 20, 0, 0)), length: 16),
    ]
    /// Mesh peers that send packets.
    static let peerCount = 1000
    /// Packets in the stream: a power of two, so the timed loop wraps with a mask.
    static let packetCount = 4096
    /// Percent of packets sent over IPv6.
    static let ipv6Percent = 25

    let rules: [FilterRule]
    /// The inbound packets back to back: packet `i` is `bytes[offsets[i]..<offsets[i + 1]]`.
    private(set) var bytes: [UInt8] = []
    private(set) var offsets: [Int] = [0]
    private(set) var classes: [FilterPacketClass] = []
    /// The outbound packets that opened the flows the replies answer, laid out the same way.
    private(set) var outbound: [UInt8] = []
    private(set) var outboundOffsets: [Int] = [0]

    /// Rules and packets for a node with `ruleCount` rules.
    init(rules ruleCount: Int) {
        var random = BenchRandom(seed: 0x7465_726e)
        var rules: [FilterRule] = []
        for index in 0..<ruleCount { rules.append(FilterWorkload.rule(index, &random)) }
        self.rules = rules
        let linear = LinearScan(rules: rules, local: FilterWorkload.localPrefixes)

        var mix = BenchRandom(seed: 0x6d69_78)
        for _ in 0..<FilterWorkload.packetCount {
            let draw = mix.below(100)
            let packetClass: FilterPacketClass = draw < 40 ? .lateRuleSYN : draw < 65 ? .noRuleSYN
                : draw < 85 ? .flowReply : .echoRequest
            let ipv6 = mix.chance(FilterWorkload.ipv6Percent)
            switch packetClass {
            case .lateRuleSYN: addLateRuleSYN(ipv6: ipv6, &random)
            case .noRuleSYN: addNoRuleSYN(ipv6: ipv6, linear, &random)
            case .flowReply: addFlowReply(ipv6: ipv6, linear, &random)
            case .echoRequest: addEchoRequest(ipv6: ipv6, &random)
            }
            classes.append(packetClass)
        }
    }

    /// How many packets of `packetClass` the stream holds.
    func count(of packetClass: FilterPacketClass) -> Int {
        var count = 0
        for each in classes where each == packetClass { count += 1 }
        return count
    }

    /// Inbound packets sent over IPv6.
    var ipv6Count: Int {
        var count = 0
        for index in 0..<classes.count where bytes[offsets[index]] >> 4 == 6 { count += 1 }
        return count
    }

    // MARK: Rules

    /// Mesh peer `index`'s address: 100.64.1-4.x or fd7a:115c:a1e0::1:index.
    static func peer(_ index: Int, ipv6: Bool) -> IPAddress {
        ipv6 ? .v6(IPv6Address(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 1, UInt16(index)))
            : .v4(IPv4Address(100, 64, UInt8(1 + index / 250), UInt8(1 + index % 250)))
    }

    private static func rule(_ index: Int, _ random: inout BenchRandom) -> FilterRule {
        var sources: [IPPrefix] = []
        for _ in 0..<1 + random.below(3) {
            let peer = random.below(peerCount)
            sources.append(try! IPPrefix(FilterWorkload.peer(peer, ipv6: false), length: 32))
            sources.append(try! IPPrefix(FilterWorkload.peer(peer, ipv6: true), length: 128))
        }
        // Groups given as CIDRs, away from the peers' 100.64.1-4.x.
        if random.chance(8) {
            let address = IPv4Address(100, UInt8(80 + random.below(16)), UInt8(random.below(256)), 0)
            sources.append(try! IPPrefix(.v4(address), length: 24))
        }
        if random.chance(3) {
            sources.append(try! IPPrefix(.v4(IPv4Address(100, UInt8(96 + random.below(32)), 0, 0)), length: 16))
        }

        let ports: PortRange
        switch random.below(100) {
        case 0..<60:
            let common: [UInt16] = [22, 80, 443, 3000, 5432, 8080, 9090]
            let port = random.chance(50) ? common[random.below(common.count)] : UInt16(1 + random.below(10000))
            ports = PortRange(first: port, last: port)!
        case 60..<85:
            let first = UInt16(1000 + random.below(9000))
            ports = PortRange(first: first, last: first + 99)!
        default:
            ports = .all
        }

        var destinations: [FilterDestination]
        if random.chance(75) {
            destinations = [FilterDestination(prefix: localPrefixes[0], ports: ports),
                            FilterDestination(prefix: localPrefixes[1], ports: ports)]
        } else {
            let lan: [IPPrefix] = [
                localPrefixes[2], localPrefixes[3],
                try! IPPrefix(.v4(IPv4Address(192, 168, 10, UInt8(random.below(256)))), length: 32),
                try! IPPrefix(.v4(IPv4Address(10, 20, UInt8(random.below(256)), 0)), length: 24),
            ]
            destinations = [FilterDestination(prefix: lan[random.below(lan.count)], ports: ports)]
        }

        let protocols: [UInt8]
        switch random.below(10) {
        case 0..<4: protocols = []
        case 4..<7: protocols = [IPProtocolNumber.tcp]
        case 7..<9: protocols = [IPProtocolNumber.udp]
        default: protocols = [IPProtocolNumber.tcp, IPProtocolNumber.udp]
        }
        return FilterRule(sources: sources, destinations: destinations, protocols: protocols, policyRule: index)
    }

    // MARK: Packets

    /// A SYN from one of a rule's sources to one of its destinations and
    /// ports, for a TCP rule in the last tenth of the list; if none there
    /// fits the family, for one anywhere, and with very few rules, over the
    /// other family.
    private mutating func addLateRuleSYN(ipv6 wanted: Bool, _ random: inout BenchRandom) {
        let late = max(1, rules.count / 10)
        for attempt in 0..<20_000 {
            let index = attempt % 10_000 < 1000 ? rules.count - 1 - random.below(late) : random.below(rules.count)
            let ipv6 = attempt < 10_000 ? wanted : !wanted
            let rule = rules[index]
            guard rule.protocols.isEmpty || rule.protocols.contains(IPProtocolNumber.tcp),
                  let source = FilterWorkload.pick(rule.sources, ipv6: ipv6, &random),
                  let target = FilterWorkload.pick(rule.destinations.map { $0.prefix }, ipv6: ipv6, &random)
            else { continue }
            let ports = rule.destinations.first { $0.prefix == target }!.ports
            let port = ports.first &+ UInt16(random.below(Int(ports.last - ports.first) + 1))
            append(FilterWorkload.tcpSYN(from: FilterWorkload.host(in: source, &random),
                                         to: FilterWorkload.host(in: target, &random),
                                         sourcePort: ephemeralPort(&random), destinationPort: port))
            return
        }
        fail("filter: none of the " + String(rules.count) + " rules allows a TCP SYN; try more rules")
    }

    /// A SYN from a peer to the node (or a LAN host) on a port no rule allows it.
    private mutating func addNoRuleSYN(ipv6: Bool, _ linear: LinearScan, _ random: inout BenchRandom) {
        for _ in 0..<10_000 {
            let source = FilterWorkload.peer(random.below(FilterWorkload.peerCount), ipv6: ipv6)
            let destination: IPAddress = ipv6 ? .v6(FilterWorkload.nodeV6)
                : random.chance(10) ? .v4(IPv4Address(192, 168, 10, UInt8(1 + random.below(254)))) : .v4(FilterWorkload.nodeV4)
            let port = UInt16(1 + random.below(65535))
            guard !linear.firstRule(IPProtocolNumber.tcp, source, destination, port: port).allowed else { continue }
            append(FilterWorkload.tcpSYN(from: source, to: destination,
                                         sourcePort: ephemeralPort(&random), destinationPort: port))
            return
        }
        fail("filter: every SYN tried is allowed by a rule")
    }

    /// A UDP flow the node opens to a peer's service (recorded as an
    /// outbound packet) and the peer's reply, which no rule allows.
    private mutating func addFlowReply(ipv6: Bool, _ linear: LinearScan, _ random: inout BenchRandom) {
        let services: [UInt16] = [53, 123, 443, 3478, 41641]
        let node: IPAddress = ipv6 ? .v6(FilterWorkload.nodeV6) : .v4(FilterWorkload.nodeV4)
        for _ in 0..<10_000 {
            let peer = FilterWorkload.peer(random.below(FilterWorkload.peerCount), ipv6: ipv6)
            let service = services[random.below(services.count)]
            let port = ephemeralPort(&random)
            guard !linear.firstRule(IPProtocolNumber.udp, peer, node, port: port).allowed else { continue }
            append(FilterWorkload.udp(from: peer, to: node, sourcePort: service, destinationPort: port))
            outbound += FilterWorkload.udp(from: node, to: peer, sourcePort: port, destinationPort: service)
            outboundOffsets.append(outbound.count)
            return
        }
        fail("filter: every UDP reply tried is allowed by a rule")
    }

    /// An echo request to the node, half from a random rule's source (often allowed), half from any peer.
    private mutating func addEchoRequest(ipv6: Bool, _ random: inout BenchRandom) {
        var source = FilterWorkload.peer(random.below(FilterWorkload.peerCount), ipv6: ipv6)
        if !rules.isEmpty && random.chance(50),
           let prefix = FilterWorkload.pick(rules[random.below(rules.count)].sources, ipv6: ipv6, &random) {
            source = FilterWorkload.host(in: prefix, &random)
        }
        let destination: IPAddress = ipv6 ? .v6(FilterWorkload.nodeV6) : .v4(FilterWorkload.nodeV4)
        // Type, code, checksum, identifier, sequence number, then a little payload.
        let type: UInt8 = ipv6 ? 128 : 8
        append(FilterWorkload.ip(from: source, to: destination,
                                 protocolNumber: ipv6 ? IPProtocolNumber.icmpv6 : IPProtocolNumber.icmp,
                                 transport: [type, 0, 0, 0, 0x12, 0x34, 0, 1] + [UInt8](repeating: 0x61, count: 8)))
    }

    private mutating func append(_ packet: [UInt8]) {
        bytes += packet
        offsets.append(bytes.count)
    }

    private func ephemeralPort(_ random: inout BenchRandom) -> UInt16 { UInt16(32768 + random.below(28232)) }

    /// A random one of `prefixes` of the wanted family.
    private static func pick(_ prefixes: [IPPrefix], ipv6: Bool, _ random: inout BenchRandom) -> IPPrefix? {
        let fitting = prefixes.filter { $0.address.isIPv4 != ipv6 }
        return fitting.isEmpty ? nil : fitting[random.below(fitting.count)]
    }

    /// A random address inside `prefix` (host bits below /64 only, for IPv6).
    private static func host(in prefix: IPPrefix, _ random: inout BenchRandom) -> IPAddress {
        switch prefix.address {
        case .v4(let network):
            let hostBits: UInt32 = prefix.length == 32 ? 0 : UInt32.max >> UInt32(prefix.length)
            return .v4(IPv4Address(network.value | UInt32(truncatingIfNeeded: random.next()) & hostBits))
        case .v6(let network):
            let hostBits: UInt64 = prefix.length >= 128 ? 0 : prefix.length < 64 ? UInt64.max : UInt64.max >> UInt64(prefix.length - 64)
            return .v6(IPv6Address(high: network.high, low: network.low | random.next() & hostBits))
        }
    }

    // MARK: Wire format

    private static func tcpSYN(from source: IPAddress, to destination: IPAddress,
                               sourcePort: UInt16, destinationPort: UInt16) -> [UInt8] {
        // Ports, sequence and acknowledgement numbers, data offset 5 and SYN, window, checksum, urgent pointer.
        let header = bigEndian(sourcePort) + bigEndian(destinationPort) + [0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02]
            + bigEndian(65535) + [0, 0, 0, 0]
        return ip(from: source, to: destination, protocolNumber: IPProtocolNumber.tcp, transport: header)
    }

    private static func udp(from source: IPAddress, to destination: IPAddress,
                            sourcePort: UInt16, destinationPort: UInt16) -> [UInt8] {
        let payload: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let header = bigEndian(sourcePort) + bigEndian(destinationPort) + bigEndian(UInt16(8 + payload.count)) + [0, 0]
        return ip(from: source, to: destination, protocolNumber: IPProtocolNumber.udp, transport: header + payload)
    }

    /// An IPv4 or IPv6 header (checksums stay zero: the filter does not read them) and `transport`.
    private static func ip(from source: IPAddress, to destination: IPAddress,
                           protocolNumber: UInt8, transport: [UInt8]) -> [UInt8] {
        switch (source, destination) {
        case (.v4(let source), .v4(let destination)):
            // Version and IHL, total length, identification, don't-fragment, TTL, protocol, checksum.
            return [0x45, 0] + bigEndian(UInt16(20 + transport.count)) + [0x12, 0x34, 0x40, 0, 64, protocolNumber, 0, 0]
                + bigEndian(source.value) + bigEndian(destination.value) + transport
        case (.v6(let source), .v6(let destination)):
            return [0x60, 0, 0, 0] + bigEndian(UInt16(transport.count)) + [protocolNumber, 64]
                + bigEndian(source.high) + bigEndian(source.low)
                + bigEndian(destination.high) + bigEndian(destination.low) + transport
        default:
            fail("filter: a packet mixes IPv4 and IPv6")
        }
    }

    private static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        var bytes: [UInt8] = []
        for index in (0..<T.bitWidth / 8).reversed() { bytes.append(UInt8(truncatingIfNeeded: value >> (index * 8))) }
        return bytes
    }
}
