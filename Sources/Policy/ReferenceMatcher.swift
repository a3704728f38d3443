import ControlProtocol
import IP

/// The reference answer to "may a new connection from `source` to
/// `destination`:`port` over `proto` pass these rules?", written as plainly
/// as possible (a scan of every rule) so faster filters can be tested
/// against it. It is also what the policy `tests` use.
///
/// A rule matches when its protocols contain `proto` (an empty list means
/// TCP, UDP, ICMP and ICMPv6), one of its sources contains `source`, and one
/// of its destinations contains `destination` with ports that fit:
/// - TCP, UDP, SCTP (6, 17, 132): the port range contains `port`;
/// - ICMP and ICMPv6 (1, 58): any port range (ICMP has no ports; an echo
///   request is allowed where the rule allows any port);
/// - any other protocol: only a destination with all ports (`*`).
///
/// It answers for connection openers only: replies and established flows are
/// the stateful filter's business.
public func allows(_ rules: [FilterRule], source: IPAddress, destination: IPAddress, proto: UInt8, port: UInt16) -> Bool {
    for rule in rules {
        let protocols = rule.protocols.isEmpty ? FilterRule.defaultProtocols : rule.protocols
        guard protocols.contains(proto) else { continue }
        guard rule.sources.contains(where: { $0.contains(source) }) else { continue }
        for entry in rule.destinations where entry.prefix.contains(destination) {
            switch proto {
            case 6, 17, 132:
                if entry.ports.contains(port) { return true }
            case 1, 58:
                return true
            default:
                if entry.ports == .all { return true }
            }
        }
    }
    return false
}
