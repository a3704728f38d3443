import IP

/// How the filter treats a packet, decided by its protocol.
enum PacketKind: UInt8 {
    /// TCP with a complete header.
    case tcp
    /// UDP or SCTP with their ports: new flows need a rule, replies use the flow table.
    case datagram
    /// ICMP in IPv4 or ICMPv6 in IPv6, with the 8-byte common header.
    case icmp
    /// Any other protocol (no ports): only a rule naming it, for all ports.
    case other
    /// An IPv4 fragment or an IPv6 packet whose next header is a fragment header.
    case fragment
}

/// The fields of one packet the filter decides on, read once from the
/// header without copying the packet.
struct PacketFields {
    var kind: PacketKind
    var protocolNumber: UInt8
    var source: IPAddress
    var destination: IPAddress
    var sourcePort: UInt16 = 0
    var destinationPort: UInt16 = 0
    /// TCP flags (byte 13 of the TCP header).
    var tcpFlags: UInt8 = 0
    /// The ICMP or ICMPv6 type.
    var icmpType: UInt8 = 0

    static let sctp: UInt8 = 132
    /// SCTP's common header: ports, verification tag, checksum.
    static let sctpHeaderLength = 12
    static let tcpSYN: UInt8 = 0x02
    static let tcpACK: UInt8 = 0x10

    /// The fields of `buffer`, or why it cannot be filtered (`.empty`,
    /// `.malformed`). IPv6 extension headers are not followed: a hop-by-hop,
    /// routing or destination-options header shows as an "other" protocol
    /// of that number, a fragment header as a fragment.
    static func parse(_ buffer: UnsafeRawBufferPointer) -> Result<PacketFields, ParseFailure> {
        if buffer.isEmpty { return .failure(ParseFailure(reason: .empty)) }
        let packet: IPPacket
        do { packet = try IPPacket(buffer) } catch { return .failure(ParseFailure(reason: .malformed)) }
        let number = packet.protocolNumber
        var fields = PacketFields(
            kind: .other, protocolNumber: number, source: packet.source, destination: packet.destination)
        if packet.isFragment || (packet.version == 6 && number == IPProtocolNumber.ipv6Fragment) {
            fields.kind = .fragment
            return .success(fields)
        }
        switch packet.transport {
        case .tcp(let sourcePort, let destinationPort):
            fields.kind = .tcp
            fields.sourcePort = sourcePort
            fields.destinationPort = destinationPort
            fields.tcpFlags = packet.payload[13]
        case .udp(let sourcePort, let destinationPort):
            fields.kind = .datagram
            fields.sourcePort = sourcePort
            fields.destinationPort = destinationPort
        case .icmpv4(let type, _), .icmpv6(let type, _):
            fields.kind = .icmp
            fields.icmpType = type
        case nil:
            // `transport` is nil for a short TCP/UDP/ICMP header and for every other protocol.
            switch number {
            case IPProtocolNumber.tcp, IPProtocolNumber.udp:
                return .failure(ParseFailure(reason: .malformed))
            case IPProtocolNumber.icmp where packet.version == 4, IPProtocolNumber.icmpv6 where packet.version == 6:
                return .failure(ParseFailure(reason: .malformed))
            case sctp:
                let payload = packet.payload
                guard payload.count >= sctpHeaderLength else { return .failure(ParseFailure(reason: .malformed)) }
                fields.kind = .datagram
                fields.sourcePort = UInt16(payload[0]) << 8 | UInt16(payload[1])
                fields.destinationPort = UInt16(payload[2]) << 8 | UInt16(payload[3])
            default:
                fields.kind = .other
            }
        }
        return .success(fields)
    }

    /// A TCP segment that opens a connection: SYN without ACK.
    var isTCPSYN: Bool { tcpFlags & (PacketFields.tcpSYN | PacketFields.tcpACK) == PacketFields.tcpSYN }

    /// An ICMP message that answers something this node sent: an echo reply
    /// or an error. IPv4: echo reply 0, destination unreachable 3, time
    /// exceeded 11, parameter problem 12. ICMPv6: destination unreachable 1,
    /// packet too big 2 (path MTU discovery needs it), time exceeded 3,
    /// parameter problem 4, echo reply 129.
    var isICMPResponse: Bool {
        if protocolNumber == IPProtocolNumber.icmp {
            return icmpType == 0 || icmpType == 3 || icmpType == 11 || icmpType == 12
        }
        return (icmpType >= 1 && icmpType <= 4) || icmpType == 129
    }
}

/// Why a packet could not be read (a typed error for `Result`).
struct ParseFailure: Error {
    let reason: FilterReason
}
