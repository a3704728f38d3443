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
    /// For an ICMP or ICMPv6 error: the packet it quotes, if enough of it is there.
    var quoted: QuotedPacket?

    static let sctp: UInt8 = 132
    /// SCTP's common header: ports, verification tag, checksum.
    static let sctpHeaderLength = 12
    static let tcpSYN: UInt8 = 0x02
    static let tcpACK: UInt8 = 0x10

    /// IPv6 extension headers followed to the transport header, at most.
    static let maximumExtensionHeaders = 8
    static let hopByHop: UInt8 = 0
    static let routing: UInt8 = 43
    static let destinationOptions: UInt8 = 60

    /// The fields of `buffer`, or why it cannot be filtered (`.empty`,
    /// `.malformed`). IPv6 hop-by-hop, routing and destination-options
    /// headers are walked (at most `maximumExtensionHeaders`) and the packet
    /// judged by what follows them; a fragment header anywhere makes it a
    /// fragment.
    static func parse(_ buffer: UnsafeRawBufferPointer) -> Result<PacketFields, ParseFailure> {
        if buffer.isEmpty { return .failure(ParseFailure(reason: .empty)) }
        let packet: IPPacket
        do { packet = try IPPacket(buffer) } catch { return .failure(ParseFailure(reason: .malformed)) }
        var number = packet.protocolNumber
        var payload = packet.payload
        if packet.version == 6 {
            guard let transport = walkExtensionHeaders(first: number, payload) else {
                return .failure(ParseFailure(reason: .malformed))
            }
            (number, payload) = transport
        }
        var fields = PacketFields(
            kind: .other, protocolNumber: number, source: packet.source, destination: packet.destination)
        if packet.isFragment || (packet.version == 6 && number == IPProtocolNumber.ipv6Fragment) {
            fields.kind = .fragment
            return .success(fields)
        }
        switch TransportHeader.parse(protocolNumber: number, isIPv6: packet.version == 6, payload: payload) {
        case .tcp(let sourcePort, let destinationPort):
            fields.kind = .tcp
            fields.sourcePort = sourcePort
            fields.destinationPort = destinationPort
            fields.tcpFlags = payload[13]
        case .udp(let sourcePort, let destinationPort):
            fields.kind = .datagram
            fields.sourcePort = sourcePort
            fields.destinationPort = destinationPort
        case .icmpv4(let type, _), .icmpv6(let type, _):
            fields.kind = .icmp
            fields.icmpType = type
            if fields.isICMPError { fields.quoted = QuotedPacket(icmp: payload, ipv6: packet.version == 6) }
        case nil:
            // `transport` is nil for a short TCP/UDP/ICMP header and for every other protocol.
            switch number {
            case IPProtocolNumber.tcp, IPProtocolNumber.udp:
                return .failure(ParseFailure(reason: .malformed))
            case IPProtocolNumber.icmp where packet.version == 4, IPProtocolNumber.icmpv6 where packet.version == 6:
                return .failure(ParseFailure(reason: .malformed))
            case sctp:
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

    /// The protocol after the IPv6 extension headers that start with
    /// `first` in `payload`, and its bytes; a fragment header ends the walk
    /// (the caller sees protocol 44). Nil when a header runs past the
    /// payload or the chain is longer than `maximumExtensionHeaders`.
    private static func walkExtensionHeaders(first: UInt8, _ payload: UnsafeRawBufferPointer)
        -> (UInt8, UnsafeRawBufferPointer)? {
        var number = first
        var offset = 0
        var walked = 0
        while number == hopByHop || number == routing || number == destinationOptions {
            guard walked < maximumExtensionHeaders, offset + 2 <= payload.count else { return nil }
            // Next header, then the length in 8-byte units after the first 8.
            let length = (Int(payload[offset + 1]) + 1) * 8
            guard offset + length <= payload.count else { return nil }
            number = payload[offset]
            offset += length
            walked += 1
        }
        return (number, UnsafeRawBufferPointer(rebasing: payload[offset...]))
    }

    /// A TCP segment that opens a connection: SYN without ACK.
    var isTCPSYN: Bool { tcpFlags & (PacketFields.tcpSYN | PacketFields.tcpACK) == PacketFields.tcpSYN }

    /// An ICMP error (not an echo reply): destination unreachable, time
    /// exceeded, parameter problem; ICMPv6 also packet too big.
    var isICMPError: Bool {
        if protocolNumber == IPProtocolNumber.icmp { return icmpType == 3 || icmpType == 11 || icmpType == 12 }
        return icmpType >= 1 && icmpType <= 4
    }

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

/// What an ICMP error says about the packet that caused it: the start of
/// that packet, quoted after the 8-byte ICMP header (IPv4: its header and
/// at least 8 bytes more; IPv6: as much as fits).
struct QuotedPacket {
    var protocolNumber: UInt8
    var source: IPAddress
    var destination: IPAddress
    /// Its TCP, UDP or SCTP ports, when the quote shows them (not for a
    /// later fragment, nor behind IPv6 extension headers).
    var ports: (source: UInt16, destination: UInt16)?

    /// The packet `icmp` (an ICMP or ICMPv6 error, header included) quotes,
    /// or nil when too little of it is there or it is of another family.
    init?(icmp: UnsafeRawBufferPointer, ipv6: Bool) {
        let quote = UnsafeRawBufferPointer(rebasing: icmp[min(8, icmp.count)...])
        let transportOffset: Int
        var hasPorts: Bool
        if ipv6 {
            guard quote.count >= 40, quote[0] >> 4 == 6 else { return nil }
            protocolNumber = quote[6]
            source = IPAddress(networkOrderBytes: UnsafeRawBufferPointer(rebasing: quote[8..<24]))
            destination = IPAddress(networkOrderBytes: UnsafeRawBufferPointer(rebasing: quote[24..<40]))
            transportOffset = 40
            hasPorts = true
        } else {
            guard quote.count >= 20, quote[0] >> 4 == 4 else { return nil }
            let headerLength = Int(quote[0] & 0x0f) * 4
            guard headerLength >= 20, headerLength <= quote.count else { return nil }
            protocolNumber = quote[9]
            source = IPAddress(networkOrderBytes: UnsafeRawBufferPointer(rebasing: quote[12..<16]))
            destination = IPAddress(networkOrderBytes: UnsafeRawBufferPointer(rebasing: quote[16..<20]))
            transportOffset = headerLength
            // Only the first fragment carries the transport header.
            hasPorts = (UInt16(quote[6]) << 8 | UInt16(quote[7])) & 0x1fff == 0
        }
        hasPorts = hasPorts && quote.count >= transportOffset + 4
            && (protocolNumber == IPProtocolNumber.tcp || protocolNumber == IPProtocolNumber.udp
                || protocolNumber == PacketFields.sctp)
        ports = hasPorts
            ? (UInt16(quote[transportOffset]) << 8 | UInt16(quote[transportOffset + 1]),
               UInt16(quote[transportOffset + 2]) << 8 | UInt16(quote[transportOffset + 3]))
            : nil
    }
}

/// Why a packet could not be read (a typed error for `Result`).
struct ParseFailure: Error {
    let reason: FilterReason
}
