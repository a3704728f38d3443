/// Why the filter accepted or dropped a packet. Each reason has its own
/// counter (`FilterCounters`), so the raw values are dense from 0.
public enum FilterReason: UInt8, Sendable, CustomStringConvertible {
    // Accepted.

    /// No policy is in force (`FilterPolicy.allowAll`).
    case allowAll = 0
    /// A rule allows the packet (the verdict names it).
    case rule = 1
    /// TCP that does not open a connection (no SYN, or SYN+ACK) on a
    /// connection this node sent on (the TCP flow table).
    case tcpEstablished = 2
    /// UDP or SCTP answering a flow this node opened (the flow table).
    case flowReply = 3
    /// An ICMP or ICMPv6 echo reply, or an error about a packet that left
    /// from here (its flow is known, or a rule let its connection in).
    case icmpResponse = 4

    // Dropped.

    /// A zero-length packet.
    case empty = 5
    /// Not a valid IP packet, or its TCP, UDP, SCTP or ICMP header is cut short.
    case malformed = 6
    /// An IPv4 fragment or an IPv6 packet with a fragment header, while rules are in force.
    case fragment = 7
    /// The destination is none of this node's addresses or routed subnets.
    case notLocal = 8
    /// A packet that needs a rule (a TCP SYN, a new UDP/SCTP flow, an echo
    /// request, another protocol) and no rule allows it.
    case noRule = 9
    /// An ICMP or ICMPv6 error about a packet that did not leave from here,
    /// or about a flow this node has no part in (a forged error, or one
    /// meant to tear down someone else's connection).
    case icmpUnrelated = 10

    /// The number of reasons (the size of the counter array).
    public static let count = 11

    /// True for the reasons a packet is accepted for.
    public var allows: Bool { rawValue <= FilterReason.icmpResponse.rawValue }

    /// A short name for `tern status`, such as "no-rule".
    public var description: String {
        switch self {
        case .allowAll: return "allow-all"
        case .rule: return "rule"
        case .tcpEstablished: return "tcp-established"
        case .flowReply: return "flow-reply"
        case .icmpResponse: return "icmp-response"
        case .empty: return "empty"
        case .malformed: return "malformed"
        case .fragment: return "fragment"
        case .notLocal: return "not-local"
        case .noRule: return "no-rule"
        case .icmpUnrelated: return "icmp-unrelated"
        }
    }
}

/// The filter's decision about one inbound packet.
public struct FilterVerdict: Equatable, Sendable, CustomStringConvertible {
    /// Why it was accepted or dropped.
    public let reason: FilterReason
    /// The `FilterRule.policyRule` of the rule that allowed it (the first
    /// allowing rule in the order the rules were given); nil unless `reason`
    /// is `.rule`.
    public let policyRule: Int?

    /// A verdict; `policyRule` only goes with `.rule`.
    public init(_ reason: FilterReason, policyRule: Int? = nil) {
        self.reason = reason
        self.policyRule = policyRule
    }

    /// True if the packet may be written to the TUN device.
    public var allowed: Bool { reason.allows }

    /// "accept rule 3", "drop no-rule".
    public var description: String {
        var text = (allowed ? "accept " : "drop ") + reason.description
        if let policyRule { text += " " + String(policyRule) }
        return text
    }
}
