import ControlProtocol
import IP
@testable import PacketFilter

/// The obviously-correct filter the compiled one is checked against: the
/// semantics of acl.md read straight off a packet's description, every rule
/// scanned in order, and an unbounded list of flows.
struct ReferenceFilter {
    var rules: [FilterRule]?
    var local: [IPPrefix]
    let timeout: UInt64
    /// (reply key, time of the last packet) for every flow ever sent.
    private var flows: [(key: String, lastSeen: UInt64)] = []

    init(rules: [FilterRule]?, local: [IPPrefix], timeout: UInt64 = PacketFilter.defaultFlowTimeout) {
        self.rules = rules
        self.local = local
        self.timeout = timeout
    }

    /// What should happen to `spec`.
    mutating func inbound(_ spec: PacketSpec, now: UInt64) -> FilterVerdict {
        if spec.truncatedTransport && hasTransportHeader(spec) && !spec.fragment { return FilterVerdict(.malformed) }
        guard local.contains(where: { $0.contains(spec.destination) }) else { return FilterVerdict(.notLocal) }
        guard let rules else { return FilterVerdict(.allowAll) }
        if spec.fragment { return FilterVerdict(.fragment) }

        let icmp: UInt8 = spec.isIPv6 ? 58 : 1
        let number = spec.protocolNumber
        let portKind: Int  // 0: destination port, 1: any port, 2: all ports
        if number == 6 {
            if spec.tcpFlags & PacketSpec.syn == 0 || spec.tcpFlags & PacketSpec.ack != 0 {
                return FilterVerdict(.tcpEstablished)
            }
            portKind = 0
        } else if number == 17 || number == 132 {
            portKind = 0
        } else if number == icmp {
            let replies: [UInt8] = spec.isIPv6 ? [1, 2, 3, 4, 129] : [0, 3, 11, 12]
            if replies.contains(spec.icmpType) { return FilterVerdict(.icmpResponse) }
            portKind = 1
        } else {
            portKind = 2
        }
        for rule in rules {
            let protocols = rule.protocols.isEmpty ? [6, 17, 1, 58] : rule.protocols
            guard protocols.contains(number), rule.sources.contains(where: { $0.contains(spec.source) }) else { continue }
            let fits = rule.destinations.contains { target in
                guard target.prefix.contains(spec.destination) else { return false }
                switch portKind {
                case 0: return target.ports.first <= spec.destinationPort && spec.destinationPort <= target.ports.last
                case 1: return true
                default: return target.ports.first == 0 && target.ports.last == 65535
                }
            }
            if fits { return FilterVerdict(.rule, policyRule: rule.policyRule) }
        }
        if number == 17 || number == 132 {
            let key = Self.key(spec)
            if let index = flows.lastIndex(where: { $0.key == key }), now < flows[index].lastSeen + timeout {
                flows[index].lastSeen = now
                return FilterVerdict(.flowReply)
            }
        }
        return FilterVerdict(.noRule)
    }

    mutating func outbound(_ spec: PacketSpec, now: UInt64) {
        guard spec.protocolNumber == 17 || spec.protocolNumber == 132,
              !spec.truncatedTransport, !spec.fragment else { return }
        let key = Self.key(spec.reversed)
        if let index = flows.lastIndex(where: { $0.key == key }), now < flows[index].lastSeen + timeout {
            flows[index].lastSeen = now
        } else {
            flows.append((key, now))
        }
    }

    /// Flows live at `now`.
    func liveFlows(now: UInt64) -> Int { flows.filter { now < $0.lastSeen + timeout }.count }

    private func hasTransportHeader(_ spec: PacketSpec) -> Bool {
        [6, 17, 132].contains(spec.protocolNumber) || spec.protocolNumber == (spec.isIPv6 ? 58 : 1)
    }

    private static func key(_ spec: PacketSpec) -> String {
        "\(spec.protocolNumber) \(spec.source) \(spec.sourcePort) \(spec.destination) \(spec.destinationPort)"
    }
}
