import ControlProtocol
import IP

/// The rules a node enforces: none (allow everything), or a rule list.
public enum FilterPolicy: Sendable {
    /// No policy at all: every well-formed packet to this node passes
    /// (Tailscale's `FilterAllowAll`).
    case allowAll
    /// Only what `rules` allow, plus replies; an empty list denies every new connection.
    case rules([FilterRule])

    /// `.allowAll` for nil (no policy was pushed), `.rules` otherwise.
    public init(_ rules: [FilterRule]?) {
        if let rules { self = .rules(rules) } else { self = .allowAll }
    }
}

/// The node's stateful packet filter (the client side of Tailscale's ACLs):
/// it decides about every decrypted inbound packet before it is written to
/// the TUN device, and watches every outbound packet to remember the TCP,
/// UDP and SCTP flows this node takes part in, so that their replies get in.
///
/// Inbound, in order:
///
/// 1. Empty or malformed packets are dropped (`.empty`, `.malformed`).
/// 2. The destination must be one of `localPrefixes` (the node's addresses
///    and the subnets it routes), else `.notLocal`. This holds in allow-all
///    mode too, as in Tailscale.
/// 3. Allow-all mode accepts here.
/// 4. Fragments are dropped (`.fragment`): only the first carries ports, and
///    judging the rest alone invites overlapping-fragment tricks. Inside a
///    WireGuard tunnel with path MTU discovery they are rare.
/// 5. TCP: a bare SYN (a new connection) needs a rule for its protocol,
///    source, destination and destination port. Any other segment (SYN+ACK,
///    ACK, FIN, RST) passes when its connection is in the TCP flow table
///    (this node sent a segment of it: it opened or answered it), or when a
///    rule would let the connection's SYN in; else it is dropped, so a scan
///    with ACK or SYN+ACK segments finds nothing.
///    UDP and SCTP: a rule, or a live flow in the flow table whose reverse
///    this node sent. ICMP/ICMPv6: echo replies pass; errors pass when the
///    packet they quote left from here and belongs to a known flow (or one a
///    rule let in), else `.icmpUnrelated`; echo requests (and other types)
///    need a rule allowing ICMP from the source to the destination on any
///    port. Other protocols need a rule naming the
///    protocol and covering all ports.
///
/// IPv6 hop-by-hop, routing and destination-options headers are walked (at
/// most 8) and the packet judged by the transport after them.
///
/// Outbound packets are always allowed; TCP, UDP and SCTP ones enter or
/// refresh the flow tables (TCP's keeps a connection for 3 hours without
/// packets: longer than Linux's 2-hour keepalive). Outbound fragments are
/// not recorded: they are rare inside the tunnel's MTU, and only the first
/// one carries ports.
///
/// Everything is sized when the filter is built: `inbound` and `outbound`
/// allocate nothing. Keep the filter in one place (a stored property) and
/// call its mutating methods there: a copy shares storage until its first
/// write, which then copies the flow table. Time comes in as `now`, in
/// nanoseconds on any monotonic clock; nothing here reads a clock.
public struct PacketFilter {
    /// Flow table slots unless told otherwise.
    public static let defaultFlowCapacity = 4096
    /// How long an idle UDP/SCTP flow keeps letting replies in: 120 s, like
    /// Linux conntrack's UDP stream timeout.
    public static let defaultFlowTimeout: UInt64 = 120_000_000_000
    /// How long an idle TCP connection keeps letting its segments in.
    public static let defaultTCPFlowTimeout: UInt64 = 3 * 3600 * 1_000_000_000

    /// True when no policy is in force.
    public private(set) var isAllowAll = true
    /// The compiled rules (none in allow-all mode).
    private var matcher = RuleMatcher([])
    /// The node's own addresses and routed subnets.
    private var local = PrefixTable<Bool>()
    private var flows: FlowTable
    private var tcpFlows: FlowTable
    /// Packets accepted per compiled rule (the matcher's order).
    private var ruleAccepted: [UInt64] = []

    /// Inbound verdicts by reason and outbound packets, since the filter was built.
    public private(set) var counters = FilterCounters()

    /// Builds a filter for `policy`, accepting only packets addressed to
    /// `localPrefixes`. The UDP/SCTP and the TCP flow tables have
    /// `flowCapacity` slots each (rounded up to a power of two, at least 8)
    /// and forget a flow `flowTimeout` (TCP: `tcpFlowTimeout`) nanoseconds
    /// after its last packet. `hashSeed` spreads flows over the tables; pass
    /// a random value so remote hosts cannot predict collisions.
    public init(
        policy: FilterPolicy, localPrefixes: [IPPrefix],
        flowCapacity: Int = PacketFilter.defaultFlowCapacity,
        flowTimeout: UInt64 = PacketFilter.defaultFlowTimeout,
        tcpFlowTimeout: UInt64 = PacketFilter.defaultTCPFlowTimeout, hashSeed: UInt64 = 0
    ) {
        flows = FlowTable(capacity: flowCapacity, timeout: flowTimeout, seed: hashSeed)
        tcpFlows = FlowTable(capacity: flowCapacity, timeout: tcpFlowTimeout, seed: hashSeed ^ 0x7463_7066_6c6f_7773)
        update(policy: policy, localPrefixes: localPrefixes)
    }

    /// Installs a new policy and set of local prefixes (a new network map).
    /// The flow table is kept, so replies to flows already open still pass;
    /// the per-rule counters start again from zero, the others continue.
    public mutating func update(policy: FilterPolicy, localPrefixes: [IPPrefix]) {
        switch policy {
        case .allowAll:
            isAllowAll = true
            matcher = RuleMatcher([])
        case .rules(let rules):
            isAllowAll = false
            matcher = RuleMatcher(rules)
        }
        ruleAccepted = [UInt64](repeating: 0, count: matcher.ruleCount)
        local.removeAll()
        for prefix in localPrefixes { local.insert(prefix, true) }
    }

    /// The number of rules in force (0 in allow-all mode).
    public var ruleCount: Int { matcher.ruleCount }

    /// Decides whether a decrypted inbound packet may go to the TUN device,
    /// and counts the verdict. `packet` holds one IP packet (trailing
    /// padding after its total length is ignored). Allocates nothing.
    public mutating func inbound(_ packet: UnsafeRawBufferPointer, now: UInt64) -> FilterVerdict {
        let verdict = decide(packet, now: now)
        counters.count(verdict.reason)
        return verdict
    }

    /// Notes an outbound packet read from the TUN device: TCP, UDP and
    /// SCTP flows are recorded so their replies pass `inbound`. Outbound
    /// packets are never dropped. Allocates nothing.
    public mutating func outbound(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        counters.outboundPackets &+= 1
        guard case .success(let fields) = PacketFields.parse(packet),
              fields.kind == .datagram || fields.kind == .tcp else { return }
        // Stored the way the reply will look: their address and port as the source.
        let reply = FlowKey(protocolNumber: fields.protocolNumber,
                            source: fields.destination, sourcePort: fields.destinationPort,
                            destination: fields.source, destinationPort: fields.sourcePort)
        if fields.kind == .tcp {
            tcpFlows.insert(reply, now: now)
        } else {
            flows.insert(reply, now: now)
        }
    }

    private mutating func decide(_ packet: UnsafeRawBufferPointer, now: UInt64) -> FilterVerdict {
        let fields: PacketFields
        switch PacketFields.parse(packet) {
        case .success(let parsed): fields = parsed
        case .failure(let failure): return FilterVerdict(failure.reason)
        }
        guard local.lookup(fields.destination) != nil else { return FilterVerdict(.notLocal) }
        if isAllowAll { return FilterVerdict(.allowAll) }

        let ports: PortRequirement
        switch fields.kind {
        case .fragment:
            return FilterVerdict(.fragment)
        case .tcp:
            if !fields.isTCPSYN && tcpFlows.lookup(FlowKey(inbound: fields), now: now) {
                return FilterVerdict(.tcpEstablished)
            }
            ports = .port(fields.destinationPort)
        case .datagram:
            ports = .port(fields.destinationPort)
        case .icmp:
            if fields.isICMPError { return judgeError(fields, now: now) }
            if fields.isICMPResponse { return FilterVerdict(.icmpResponse) }
            ports = .any
        case .other:
            ports = .all
        }
        if let rule = matcher.firstMatch(protocolNumber: fields.protocolNumber, source: fields.source,
                                         destination: fields.destination, ports: ports) {
            ruleAccepted[rule] &+= 1
            return FilterVerdict(.rule, policyRule: matcher.policyRules[rule])
        }
        if fields.kind == .datagram && flows.lookup(FlowKey(inbound: fields), now: now) {
            return FilterVerdict(.flowReply)
        }
        return FilterVerdict(.noRule)
    }

    /// An ICMP error passes when the packet it quotes left from here (its
    /// source is local) and, if the quote shows ports, that packet's flow is
    /// in a flow table or a rule let its connection in (the quoted packet
    /// was an answer on it).
    private mutating func judgeError(_ fields: PacketFields, now: UInt64) -> FilterVerdict {
        guard let quoted = fields.quoted, quoted.source.isIPv4 == fields.source.isIPv4,
              local.lookup(quoted.source) != nil else { return FilterVerdict(.icmpUnrelated) }
        guard let ports = quoted.ports else { return FilterVerdict(.icmpResponse) }
        // The quoted packet's flow, keyed the way its replies look.
        let key = FlowKey(protocolNumber: quoted.protocolNumber, source: quoted.destination, sourcePort: ports.destination,
                          destination: quoted.source, destinationPort: ports.source)
        let known = quoted.protocolNumber == IPProtocolNumber.tcp ? tcpFlows.lookup(key, now: now) : flows.lookup(key, now: now)
        if known { return FilterVerdict(.icmpResponse) }
        if matcher.firstMatch(protocolNumber: quoted.protocolNumber, source: quoted.destination,
                              destination: quoted.source, ports: .port(ports.source)) != nil {
            return FilterVerdict(.icmpResponse)
        }
        return FilterVerdict(.icmpUnrelated)
    }

    // MARK: Status

    /// Inbound packets accepted by the rules that came from policy rule
    /// `policyRule` since the last `update`. (Rules only allow, so drops
    /// are counted by reason, in `counters`.)
    public func acceptedPackets(policyRule: Int) -> UInt64 {
        var total: UInt64 = 0
        for index in 0..<matcher.ruleCount where matcher.policyRules[index] == policyRule {
            total &+= ruleAccepted[index]
        }
        return total
    }

    /// Accepted packets per policy rule since the last `update`, one entry
    /// per distinct `policyRule`, by increasing index. Allocates: for status, not per packet.
    public var ruleCounters: [(policyRule: Int, packets: UInt64)] {
        var result: [(policyRule: Int, packets: UInt64)] = []
        for index in 0..<matcher.ruleCount {
            let policyRule = matcher.policyRules[index]
            if let existing = result.firstIndex(where: { $0.policyRule == policyRule }) {
                result[existing].packets &+= ruleAccepted[index]
            } else {
                result.append((policyRule, ruleAccepted[index]))
            }
        }
        result.sort { $0.policyRule < $1.policyRule }
        return result
    }

    /// The flow tables' size in slots (UDP/SCTP and TCP together).
    public var flowCapacity: Int { flows.capacity + tcpFlows.capacity }

    /// Flows live at `now` (scans the tables; for status).
    public func liveFlows(now: UInt64) -> Int { flows.liveCount(now: now) + tcpFlows.liveCount(now: now) }

    /// Flows recorded since the filter was built (new ones, not refreshes).
    public var flowsRecorded: UInt64 { flows.inserted &+ tcpFlows.inserted }

    /// Live flows pushed out of a full bucket of a flow table to make room.
    public var flowsEvicted: UInt64 { flows.evicted &+ tcpFlows.evicted }
}
