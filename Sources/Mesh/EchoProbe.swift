import IP

/// ICMP echo requests the daemon itself sends through the tunnel for
/// `tern ping`, and recognition of their replies before they reach the TUN
/// device. Echo is what `ping` uses, so the peer's kernel answers and the
/// probe crosses exactly the path user traffic takes.
public enum EchoProbe {
    /// The identifier in every probe, so replies to other pings on the
    /// host (which share the address) are left alone.
    public static let identifier: UInt16 = 0x7465   // "te"

    /// An echo request from `source` to `destination` (same family) with
    /// `sequence` and 16 bytes of payload.
    public static func request(from source: IPAddress, to destination: IPAddress, sequence: UInt16) -> [UInt8] {
        let payloadLength = 16
        switch (source, destination) {
        case (.v4, .v4):
            var packet = [UInt8](repeating: 0, count: 20 + 8 + payloadLength)
            packet[0] = 0x45
            store16(&packet, 2, UInt16(packet.count))
            packet[8] = 64                              // TTL
            packet[9] = IPProtocolNumber.icmp
            writeAddress(source, into: &packet, at: 12)
            writeAddress(destination, into: &packet, at: 16)
            store16(&packet, 10, checksum(packet, 0..<20, initial: 0))
            packet[20] = 8                              // echo request
            store16(&packet, 24, identifier)
            store16(&packet, 26, sequence)
            fillPayload(&packet, from: 28)
            store16(&packet, 22, checksum(packet, 20..<packet.count, initial: 0))
            return packet
        default:
            var packet = [UInt8](repeating: 0, count: 40 + 8 + payloadLength)
            packet[0] = 0x60
            store16(&packet, 4, UInt16(8 + payloadLength))
            packet[6] = IPProtocolNumber.icmpv6
            packet[7] = 64                              // hop limit
            writeAddress(source, into: &packet, at: 8)
            writeAddress(destination, into: &packet, at: 24)
            packet[40] = 128                            // echo request
            store16(&packet, 44, identifier)
            store16(&packet, 46, sequence)
            fillPayload(&packet, from: 48)
            store16(&packet, 42, checksum(packet, 40..<packet.count, initial: pseudoHeaderSum(packet)))
            return packet
        }
    }

    /// The sequence number of `packet` if it is an echo reply to one of our
    /// probes addressed to `local`; nil for anything else (which then goes
    /// to the TUN device as usual).
    public static func reply(_ packet: UnsafeRawBufferPointer, to local: [IPAddress]) -> (from: IPAddress, sequence: UInt16)? {
        guard let ip = try? IPPacket(packet), !ip.isFragment, local.contains(ip.destination) else { return nil }
        let payload = ip.payload
        guard payload.count >= 8 else { return nil }
        let expectedType: UInt8 = ip.version == 4 ? 0 : 129
        guard ip.protocolNumber == (ip.version == 4 ? IPProtocolNumber.icmp : IPProtocolNumber.icmpv6),
              payload[0] == expectedType, payload[1] == 0, load16(payload, 4) == identifier
        else { return nil }
        return (ip.source, load16(payload, 6))
    }

    private static func fillPayload(_ packet: inout [UInt8], from offset: Int) {
        let text: StaticString = "tern ping probe!"
        text.withUTF8Buffer { bytes in
            for i in 0..<min(bytes.count, packet.count - offset) { packet[offset + i] = bytes[i] }
        }
    }

    private static func writeAddress(_ address: IPAddress, into packet: inout [UInt8], at offset: Int) {
        packet.withUnsafeMutableBytes { buffer in
            address.write(networkOrderBytesTo: UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + address.byteCount]))
        }
    }

    /// The IPv6 pseudo-header's contribution: addresses, length, next header.
    private static func pseudoHeaderSum(_ packet: [UInt8]) -> UInt32 {
        var sum: UInt32 = 0
        for i in stride(from: 8, to: 40, by: 2) { sum += UInt32(packet[i]) << 8 | UInt32(packet[i + 1]) }
        sum += UInt32(packet.count - 40)
        sum += UInt32(IPProtocolNumber.icmpv6)
        return sum
    }

    /// The Internet checksum (RFC 1071) of `packet[range]` on top of `initial`.
    static func checksum(_ packet: [UInt8], _ range: Range<Int>, initial: UInt32) -> UInt16 {
        var sum = initial
        var i = range.lowerBound
        while i + 1 < range.upperBound {
            sum += UInt32(packet[i]) << 8 | UInt32(packet[i + 1])
            i += 2
        }
        if i < range.upperBound { sum += UInt32(packet[i]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    private static func store16(_ packet: inout [UInt8], _ offset: Int, _ value: UInt16) {
        packet[offset] = UInt8(value >> 8)
        packet[offset + 1] = UInt8(value & 0xFF)
    }

    private static func load16(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(buffer[offset]) << 8 | UInt16(buffer[offset + 1])
    }
}
