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
    let tcpTimeout: UInt64
    /// (reply key, time of the last packet) for every flow ever sent.
    private var flows: [(key: String, lastSeen: UInt64)] = []
    private var tcpFlows: [(key: String, lastSeen: UInt64)] = []

    init(rules: [FilterRule]?, local: [IPPrefix], timeout: UInt64 = PacketFilter.defaultFlowTimeout,
         tcpTimeout: UInt64 = PacketFilter.defaultTCPFlowTimeout) {
        self.rules = rules
        self.local = local
        self.timeout = timeout
        self.tcpTimeout = tcpTimeout
    }

    /// What should happen to `spec`.
    mutating func inbound(_ spec: PacketSpec, now: UInt64) -> FilterVerdict {
        if spec.extensionHeaders.count > PacketFields.maximumExtensionHeaders { return FilterVerdict(.malformed) }
        // An IPv6 "transport" of hop-by-hop, routing or destination options
        // is an extension header: PacketSpec's bytes for it are no valid one.
        if spec.isIPv6 && [0, 43, 60].contains(spec.protocolNumber) && !spec.fragment { return FilterVerdict(.malformed) }
        if spec.truncatedTransport && hasTransportHeader(spec) && !spec.fragment { return FilterVerdict(.malformed) }
        guard local.contains(where: { $0.contains(spec.destination) }) else { return FilterVerdict(.notLocal) }
        guard let rules else { return FilterVerdict(.allowAll) }
        if spec.fragment { return FilterVerdict(.fragment) }

        let icmp: UInt8 = spec.isIPv6 ? 58 : 1
        let number = spec.protocolNumber
        let portKind: Int  // 0: destination port, 1: any port, 2: all ports
        if number == 6 {
            // A segment of a connection this node opened (or answered); else a rule must allow it.
            if spec.tcpFlags & PacketSpec.syn == 0 || spec.tcpFlags & PacketSpec.ack != 0,
               Self.refresh(&tcpFlows, Self.key(spec), now: now, timeout: tcpTimeout) {
                return FilterVerdict(.tcpEstablished)
            }
            portKind = 0
        } else if number == 17 || number == 132 {
            portKind = 0
        } else if number == icmp {
            let errors: [UInt8] = spec.isIPv6 ? [1, 2, 3, 4] : [3, 11, 12]
            if errors.contains(spec.icmpType) { return judgeError(spec, now: now) }
            if spec.icmpType == (spec.isIPv6 ? 129 : 0) { return FilterVerdict(.icmpResponse) }
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
        if number == 17 || number == 132, Self.refresh(&flows, Self.key(spec), now: now, timeout: timeout) {
            return FilterVerdict(.flowReply)
        }
        return FilterVerdict(.noRule)
    }

    /// An error passes if what it quotes left from here and, when the quote
    /// shows ports, belongs to a flow sent from here or a connection a rule
    /// lets in (the quoted packet answered it).
    private mutating func judgeError(_ spec: PacketSpec, now: UInt64) -> FilterVerdict {
        guard let quote = spec.quoted.first, !spec.truncatedTransport,
              local.contains(where: { $0.contains(quote.source) }) else { return FilterVerdict(.icmpUnrelated) }
        let showsPorts = [6, 17, 132].contains(quote.protocolNumber) && quote.extensionHeaders.isEmpty
            && !(quote.fragment && (quote.isIPv6 || quote.fragmentOffset != 0))
        guard showsPorts else { return FilterVerdict(.icmpResponse) }
        let key = Self.key(quote.reversed)
        let known = quote.protocolNumber == 6 ? Self.refresh(&tcpFlows, key, now: now, timeout: tcpTimeout)
                                              : Self.refresh(&flows, key, now: now, timeout: timeout)
        if known { return FilterVerdict(.icmpResponse) }
        let letIn = (rules ?? []).contains { rule in
            let protocols = rule.protocols.isEmpty ? [6, 17, 1, 58] : rule.protocols
            return protocols.contains(quote.protocolNumber) && rule.sources.contains { $0.contains(quote.destination) }
                && rule.destinations.contains { target in
                    target.prefix.contains(quote.source)
                        && target.ports.first <= quote.sourcePort && quote.sourcePort <= target.ports.last
                }
        }
        return FilterVerdict(letIn ? .icmpResponse : .icmpUnrelated)
    }

    mutating func outbound(_ spec: PacketSpec, now: UInt64) {
        guard [6, 17, 132].contains(spec.protocolNumber), !spec.truncatedTransport, !spec.fragment,
              spec.extensionHeaders.count <= PacketFields.maximumExtensionHeaders else { return }
        let key = Self.key(spec.reversed)
        if spec.protocolNumber == 6 {
            if !Self.refresh(&tcpFlows, key, now: now, timeout: tcpTimeout) { tcpFlows.append((key, now)) }
        } else {
            if !Self.refresh(&flows, key, now: now, timeout: timeout) { flows.append((key, now)) }
        }
    }

    /// True if `key` is live in `list` at `now` (and then it is refreshed).
    private static func refresh(_ list: inout [(key: String, lastSeen: UInt64)], _ key: String, now: UInt64,
                                timeout: UInt64) -> Bool {
        guard let index = list.lastIndex(where: { $0.key == key }), now < list[index].lastSeen + timeout else { return false }
        list[index].lastSeen = now
        return true
    }

    /// Flows live at `now`.
    func liveFlows(now: UInt64) -> Int {
        flows.filter { now < $0.lastSeen + timeout }.count + tcpFlows.filter { now < $0.lastSeen + tcpTimeout }.count
    }

    private func hasTransportHeader(_ spec: PacketSpec) -> Bool {
        [6, 17, 132].contains(spec.protocolNumber) || spec.protocolNumber == (spec.isIPv6 ? 58 : 1)
    }

    private static func key(_ spec: PacketSpec) -> String {
        "\(spec.protocolNumber) \(spec.source) \(spec.sourcePort) \(spec.destination) \(spec.destinationPort)"
    }
}
