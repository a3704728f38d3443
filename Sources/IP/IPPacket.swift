/// Why bytes are not a usable IP packet.
public enum IPPacketError: Error, Equatable, Sendable {
    /// The buffer is empty.
    case empty
    /// The version nibble is neither 4 nor 6.
    case unknownVersion(UInt8)
    /// The buffer ends inside the fixed header (20 bytes for IPv4, 40 for
    /// IPv6) or inside the IPv4 options the header length announces.
    case truncatedHeader
    /// The IPv4 header length (IHL) is below 5 words.
    case headerLengthTooSmall
    /// The IPv4 total length is smaller than the IPv4 header.
    case totalLengthTooSmall
    /// The total length the header announces is larger than the buffer.
    case totalLengthExceedsBuffer(totalLength: Int, bufferLength: Int)
}

extension IPPacketError: CustomStringConvertible {
    /// A one-line message for people.
    public var description: String {
        switch self {
        case .empty: return "empty packet"
        case .unknownVersion(let version): return "unknown IP version " + String(version)
        case .truncatedHeader: return "truncated IP header"
        case .headerLengthTooSmall: return "IPv4 header length below 20 bytes"
        case .totalLengthTooSmall: return "IPv4 total length smaller than its header"
        case .totalLengthExceedsBuffer(let totalLength, let bufferLength):
            return "total length " + String(totalLength) + " exceeds the " + String(bufferLength) + "-byte buffer"
        }
    }
}

/// A validated view over an IPv4 or IPv6 packet in memory the caller owns
/// (smoltcp style: the bytes stay where they are, the fields are read on
/// demand). The view is only valid while that memory is.
///
/// Creating the view checks the version, the header length (IPv4) and that
/// the announced total length fits in the buffer; every field is then
/// readable without further checks. Nothing here allocates or traps on
/// malformed input. The IPv4 header checksum is not verified (the kernel's
/// stack does that when the packet is written to the TUN device).
///
/// IPv6 extension headers are not followed: `protocolNumber` is the fixed
/// header's `next header`, so a packet with a hop-by-hop, routing or fragment
/// header reports that header's number and has no `transport`. Jumbograms
/// (payload length 0 with a hop-by-hop jumbo option) are treated as having no
/// payload.
public struct IPPacket {
    /// The packet: the buffer given to `init` trimmed to the total length, so
    /// trailing bytes (such as WireGuard's zero padding) are excluded.
    public let bytes: UnsafeRawBufferPointer
    /// 4 or 6.
    public let version: Int
    /// The IP header length in bytes: 20-60 for IPv4 (IHL × 4), 40 for IPv6.
    public let headerLength: Int

    /// The IPv4 fixed header length.
    public static let ipv4HeaderLength = 20
    /// The IPv6 fixed header length.
    public static let ipv6HeaderLength = 40

    /// Validates the IP header at the start of `buffer`.
    ///
    /// IPv4: at least 20 bytes, version 4, IHL ≥ 5, IHL × 4 ≤ total length ≤
    /// `buffer.count`. IPv6: at least 40 bytes, version 6, 40 + payload length
    /// ≤ `buffer.count`. Bytes after the total length are allowed and ignored.
    public init(_ buffer: UnsafeRawBufferPointer) throws(IPPacketError) {
        guard !buffer.isEmpty else { throw .empty }
        let versionNibble = buffer[0] >> 4
        let totalLength: Int
        switch versionNibble {
        case 4:
            guard buffer.count >= IPPacket.ipv4HeaderLength else { throw .truncatedHeader }
            let ihlBytes = Int(buffer[0] & 0x0f) * 4
            guard ihlBytes >= IPPacket.ipv4HeaderLength else { throw .headerLengthTooSmall }
            guard ihlBytes <= buffer.count else { throw .truncatedHeader }
            totalLength = Int(readUInt16(buffer, 2))
            guard totalLength >= ihlBytes else { throw .totalLengthTooSmall }
            headerLength = ihlBytes
            version = 4
        case 6:
            guard buffer.count >= IPPacket.ipv6HeaderLength else { throw .truncatedHeader }
            totalLength = IPPacket.ipv6HeaderLength + Int(readUInt16(buffer, 4))
            headerLength = IPPacket.ipv6HeaderLength
            version = 6
        default:
            throw .unknownVersion(versionNibble)
        }
        guard totalLength <= buffer.count else {
            throw .totalLengthExceedsBuffer(totalLength: totalLength, bufferLength: buffer.count)
        }
        bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<totalLength])
    }

    /// The total length from the header: IPv4 `tot_len`, IPv6 40 + payload
    /// length. This is where WireGuard trims decrypted padding (spec §6).
    public var totalLength: Int { bytes.count }

    /// The IPv4 `protocol` or the IPv6 `next header` field.
    public var protocolNumber: UInt8 { version == 4 ? bytes[9] : bytes[6] }

    /// The source address (read from the header, no allocation).
    public var source: IPAddress {
        version == 4 ? .v4(sourceIPv4Unchecked) : .v6(IPv6Address(networkOrderBytes: slice(8, 16)))
    }

    /// The destination address (read from the header, no allocation).
    public var destination: IPAddress {
        version == 4 ? .v4(destinationIPv4Unchecked) : .v6(IPv6Address(networkOrderBytes: slice(24, 16)))
    }

    /// The IPv4 source address, or nil for an IPv6 packet.
    public var sourceIPv4: IPv4Address? { version == 4 ? sourceIPv4Unchecked : nil }

    /// The IPv4 destination address, or nil for an IPv6 packet.
    public var destinationIPv4: IPv4Address? { version == 4 ? destinationIPv4Unchecked : nil }

    /// The IPv6 source address, or nil for an IPv4 packet.
    public var sourceIPv6: IPv6Address? { version == 6 ? IPv6Address(networkOrderBytes: slice(8, 16)) : nil }

    /// The IPv6 destination address, or nil for an IPv4 packet.
    public var destinationIPv6: IPv6Address? { version == 6 ? IPv6Address(networkOrderBytes: slice(24, 16)) : nil }

    /// True for an IPv4 packet that is a fragment (more-fragments flag set or
    /// a non-zero fragment offset). Always false for IPv6, whose fragments
    /// show as `protocolNumber == IPProtocolNumber.ipv6Fragment`.
    public var isFragment: Bool {
        version == 4 && readUInt16(bytes, 6) & 0x3fff != 0
    }

    /// The bytes after the IP header, up to the total length.
    public var payload: UnsafeRawBufferPointer { slice(headerLength, bytes.count - headerLength) }

    /// The TCP or UDP ports or the ICMP type and code, when the protocol is
    /// one of those and its header lies entirely inside the packet (see
    /// `TransportHeader`); nil otherwise, and for IPv4 fragments other than
    /// the first, which carry no transport header.
    public var transport: TransportHeader? {
        if version == 4 && readUInt16(bytes, 6) & 0x1fff != 0 { return nil }
        return TransportHeader.parse(protocolNumber: protocolNumber, isIPv6: version == 6, payload: payload)
    }

    private var sourceIPv4Unchecked: IPv4Address { IPv4Address(networkOrderBytes: slice(12, 4)) }
    private var destinationIPv4Unchecked: IPv4Address { IPv4Address(networkOrderBytes: slice(16, 4)) }

    /// `count` bytes of the packet from `offset`; the bounds follow from validation.
    @inline(__always)
    private func slice(_ offset: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }
}

/// IANA protocol numbers (the IPv4 `protocol` / IPv6 `next header` field)
/// that Tern looks into.
public enum IPProtocolNumber {
    /// ICMP for IPv4 (RFC 792).
    public static let icmp: UInt8 = 1
    /// TCP (RFC 9293).
    public static let tcp: UInt8 = 6
    /// UDP (RFC 768).
    public static let udp: UInt8 = 17
    /// IPv6 Fragment extension header (RFC 8200 §4.5).
    public static let ipv6Fragment: UInt8 = 44
    /// ICMPv6 (RFC 4443).
    public static let icmpv6: UInt8 = 58
}

/// The fields of a transport header that packet filters match on.
public enum TransportHeader: Equatable, Sendable {
    /// A TCP segment's ports (host byte order).
    case tcp(sourcePort: UInt16, destinationPort: UInt16)
    /// A UDP datagram's ports (host byte order).
    case udp(sourcePort: UInt16, destinationPort: UInt16)
    /// An ICMP (IPv4) message's type and code.
    case icmpv4(type: UInt8, code: UInt8)
    /// An ICMPv6 message's type and code.
    case icmpv6(type: UInt8, code: UInt8)

    /// The smallest TCP header (data offset 5).
    static let tcpMinimumLength = 20
    /// The UDP header.
    static let udpLength = 8
    /// The common ICMP/ICMPv6 header: type, code, checksum and 4 bytes that
    /// depend on the type.
    static let icmpLength = 8

    /// Reads the transport header of protocol `protocolNumber` at the start of
    /// `payload` (the bytes after the IP header, up to the IP total length).
    ///
    /// Returns nil for other protocols, and when the header is not entirely
    /// inside `payload`: fewer than 8 bytes for UDP and ICMP, or for TCP fewer
    /// than 20 bytes or fewer than its data offset says (a data offset below 5
    /// is malformed and also gives nil). ICMP is recognised only in IPv4
    /// packets and ICMPv6 only in IPv6 packets. Public for readers that find
    /// the transport header elsewhere (after IPv6 extension headers).
    public static func parse(
        protocolNumber: UInt8, isIPv6: Bool, payload: UnsafeRawBufferPointer
    ) -> TransportHeader? {
        switch protocolNumber {
        case IPProtocolNumber.tcp:
            guard payload.count >= tcpMinimumLength else { return nil }
            let headerLength = Int(payload[12] >> 4) * 4
            guard headerLength >= tcpMinimumLength && headerLength <= payload.count else { return nil }
            return .tcp(sourcePort: readUInt16(payload, 0), destinationPort: readUInt16(payload, 2))
        case IPProtocolNumber.udp:
            guard payload.count >= udpLength else { return nil }
            return .udp(sourcePort: readUInt16(payload, 0), destinationPort: readUInt16(payload, 2))
        case IPProtocolNumber.icmp where !isIPv6:
            guard payload.count >= icmpLength else { return nil }
            return .icmpv4(type: payload[0], code: payload[1])
        case IPProtocolNumber.icmpv6 where isIPv6:
            guard payload.count >= icmpLength else { return nil }
            return .icmpv6(type: payload[0], code: payload[1])
        default:
            return nil
        }
    }

    /// The source and destination ports of TCP and UDP, nil for ICMP.
    public var ports: (source: UInt16, destination: UInt16)? {
        switch self {
        case .tcp(let source, let destination), .udp(let source, let destination):
            return (source, destination)
        case .icmpv4, .icmpv6:
            return nil
        }
    }
}

/// The big-endian 16-bit number at `offset` (the caller checked the bounds).
@inline(__always)
func readUInt16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
}
