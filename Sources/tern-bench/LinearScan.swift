import ControlProtocol
import IP

/// The header fields an inbound packet is judged on, read straight from
/// its bytes.
struct PacketHeader: CustomStringConvertible {
    var protocolNumber: UInt8
    var source: IPAddress
    var destination: IPAddress
    var sourcePort: UInt16 = 0
    var destinationPort: UInt16 = 0
    var tcpFlags: UInt8 = 0
    var icmpType: UInt8 = 0
    var isFragment = false

    /// The fields of a well-formed IPv4 or IPv6 packet, or nil if the IP
    /// header or the TCP, UDP or ICMP header is cut short.
    init?(_ packet: UnsafeRawBufferPointer) {
        guard !packet.isEmpty else { return nil }
        let transport: Int
        switch packet[0] >> 4 {
        case 4:
            transport = Int(packet[0] & 0x0f) * 4
            guard transport >= 20, packet.count >= transport else { return nil }
            protocolNumber = packet[9]
            source = IPAddress(networkOrderBytes: UnsafeRawBufferPointer(rebasing: packet[12..<16]))
            destination = IPAddress(networkOrderBytes: UnsafeRawBufferPointer(rebasing: packet[16..<20]))
            // More-fragments flag or a fragment offset.
            isFragment = (UInt16(packet[6]) << 8 | UInt16(packet[7])) & 0x3fff != 0
        case 6:
            transport = 40
            guard packet.count >= transport else { return nil }
            protocolNumber = packet[6]
            source = IPAddress(networkOrderBytes: UnsafeRawBufferPointer(rebasing: packet[8..<24]))
            destination = IPAddress(networkOrderBytes: UnsafeRawBufferPointer(rebasing: packet[24..<40]))
            isFragment = protocolNumber == IPProtocolNumber.ipv6Fragment
        default:
            return nil
        }
        if isFragment { return }
        let available = packet.count - transport
        switch protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp:
            guard available >= (protocolNumber == IPProtocolNumber.tcp ? 20 : 8) else { return nil }
            sourcePort = UInt16(packet[transport]) << 8 | UInt16(packet[transport + 1])
            destinationPort = UInt16(packet[transport + 2]) << 8 | UInt16(packet[transport + 3])
            if protocolNumber == IPProtocolNumber.tcp { tcpFlags = packet[transport + 13] }
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            guard available >= 8 else { return nil }
            icmpType = packet[transport]
        default:
            break
        }
    }

    /// "100.64.1.7:51234 > [fd7a:115c:a1e0::1]:22 proto 6".
    var description: String {
        func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
            (address.isIPv4 ? address.description : "[" + address.description + "]") + ":" + String(port)
        }
        return endpoint(source, sourcePort) + " > " + endpoint(destination, destinationPort)
            + " proto " + String(protocolNumber)
    }
}

/// What the linear scan decided about a packet.
struct LinearVerdict {
    /// True if the packet may pass.
    var allowed: Bool
    /// The index of the first rule that allows it; nil when no rule was
    /// needed (established TCP, ICMP responses) or none allows it.
    var rule: Int?
}

/// The baseline the filter is raced against: the same inbound decision as
/// `PacketFilter` (without its flow table), made the obvious way. Every
/// packet is parsed, then every rule is checked in order (protocols,
/// sources, destinations and ports) until one allows it.
struct LinearScan {
    let rules: [FilterRule]
    /// The node's own addresses and routed subnets.
    let local: [IPPrefix]

    /// The verdict for one inbound packet. Allocates nothing.
    func inbound(_ packet: UnsafeRawBufferPointer) -> LinearVerdict {
        guard let header = PacketHeader(packet),
              local.contains(where: { $0.contains(header.destination) }),
              !header.isFragment else { return LinearVerdict(allowed: false) }
        let number = header.protocolNumber
        switch number {
        case IPProtocolNumber.tcp:
            // Only a bare SYN opens a connection; the rest of a TCP conversation passes.
            if header.tcpFlags & 0x12 != 0x02 { return LinearVerdict(allowed: true) }
            return firstRule(number, header.source, header.destination, port: header.destinationPort)
        case IPProtocolNumber.udp:
            return firstRule(number, header.source, header.destination, port: header.destinationPort)
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            // Echo replies and errors answer something this node sent.
            let type = header.icmpType
            let response = number == IPProtocolNumber.icmp
                ? type == 0 || type == 3 || type == 11 || type == 12
                : type == 129 || (type >= 1 && type <= 4)
            if response { return LinearVerdict(allowed: true) }
            return firstRule(number, header.source, header.destination, port: nil)
        default:
            return firstRule(number, header.source, header.destination, port: nil, needsAllPorts: true)
        }
    }

    /// The first rule allowing `number` from `source` to `destination`:
    /// on `port`, on any port if `port` is nil, or on all ports for
    /// protocols without ports.
    func firstRule(_ number: UInt8, _ source: IPAddress, _ destination: IPAddress, port: UInt16?,
                   needsAllPorts: Bool = false) -> LinearVerdict {
        for index in 0..<rules.count {
            let rule = rules[index]
            let protocolAllowed = rule.protocols.isEmpty
                ? number == 6 || number == 17 || number == 1 || number == 58
                : rule.protocols.contains(number)
            guard protocolAllowed, rule.sources.contains(where: { $0.contains(source) }) else { continue }
            for target in rule.destinations where target.prefix.contains(destination) {
                if needsAllPorts {
                    if target.ports == PortRange.all { return LinearVerdict(allowed: true, rule: index) }
                } else if let port {
                    if target.ports.contains(port) { return LinearVerdict(allowed: true, rule: index) }
                } else {
                    return LinearVerdict(allowed: true, rule: index)
                }
            }
        }
        return LinearVerdict(allowed: false)
    }
}
