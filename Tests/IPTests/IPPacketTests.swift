import Testing

@testable import IP
import TestSupport

/// Hand-built packets. Checksums are left zero: IPPacket does not verify them.
private enum Build {
    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    static func tcp(source: Int, destination: Int, dataOffsetWords: Int = 5, payload: [UInt8] = []) -> [UInt8] {
        var header = be16(source) + be16(destination) + [0, 0, 0, 1, 0, 0, 0, 0]
        header += [UInt8(dataOffsetWords << 4), 0x02] + be16(65535) + [0, 0, 0, 0]
        header += [UInt8](repeating: 1, count: max(0, dataOffsetWords * 4 - 20))  // NOP options
        return header + payload
    }

    static func udp(source: Int, destination: Int, payload: [UInt8] = []) -> [UInt8] {
        be16(source) + be16(destination) + be16(8 + payload.count) + [0, 0] + payload
    }

    static func icmp(type: UInt8, code: UInt8) -> [UInt8] {
        [type, code, 0, 0, 0x12, 0x34, 0, 1] + [UInt8](repeating: 0x61, count: 8)
    }

    static func ipv4(
        protocolNumber: UInt8, source: [UInt8] = [192, 168, 1, 2], destination: [UInt8] = [10, 0, 0, 1],
        options: [UInt8] = [], flagsAndOffset: Int = 0x4000, body: [UInt8], totalLength: Int? = nil
    ) -> [UInt8] {
        let headerLength = 20 + options.count
        let total = totalLength ?? headerLength + body.count
        var packet: [UInt8] = [UInt8(0x40 | headerLength / 4), 0] + be16(total) + [0x12, 0x34]
        packet += be16(flagsAndOffset) + [64, protocolNumber, 0, 0] + source + destination + options
        return packet + body
    }

    static let ipv6Source: [UInt8] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    static let ipv6Destination: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]

    static func ipv6(nextHeader: UInt8, body: [UInt8], payloadLength: Int? = nil) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payloadLength ?? body.count) + [nextHeader, 64] + ipv6Source + ipv6Destination + body
    }
}

@Suite("IPPacket")
struct IPPacketTests {
    // IPv4 TCP: every field, and the transport ports.
    @Test func ipv4TCP() {
        let bytes = Build.ipv4(protocolNumber: 6, body: Build.tcp(source: 40000, destination: 443, payload: [1, 2, 3]))
        let fields = withPacket(bytes) { packet in
            #expect(packet.version == 4)
            #expect(packet.headerLength == 20)
            #expect(packet.totalLength == 43)
            #expect(packet.protocolNumber == IPProtocolNumber.tcp)
            #expect(packet.source == .v4(IPv4Address(192, 168, 1, 2)))
            #expect(packet.destination == .v4(IPv4Address(10, 0, 0, 1)))
            #expect(packet.sourceIPv4 == IPv4Address(192, 168, 1, 2))
            #expect(packet.destinationIPv6 == nil)
            #expect(!packet.isFragment)
            #expect(packet.payload.count == 23)
            #expect(packet.transport?.ports?.destination == 443)
            return packet.transport
        }
        #expect(fields == .tcp(sourcePort: 40000, destinationPort: 443))
    }

    // IPv4 UDP with header options: the transport starts after the options.
    @Test func ipv4UDPWithOptions() {
        let bytes = Build.ipv4(protocolNumber: 17, options: [1, 1, 1, 0, 0x94, 4, 0, 0],
                               body: Build.udp(source: 51820, destination: 53, payload: [9, 9]))
        #expect(withPacket(bytes) { $0.headerLength } == 28)
        #expect(withPacket(bytes) { $0.transport } == .udp(sourcePort: 51820, destinationPort: 53))
    }

    // IPv4 ICMP echo request: type and code.
    @Test func ipv4ICMP() {
        let bytes = Build.ipv4(protocolNumber: 1, body: Build.icmp(type: 8, code: 0))
        #expect(withPacket(bytes) { $0.transport } == .icmpv4(type: 8, code: 0))
        #expect(withPacket(bytes) { $0.transport?.ports == nil } == true)
    }

    // IPv6 TCP, UDP and ICMPv6: addresses, lengths and transport fields.
    @Test func ipv6Transports() {
        let tcp = Build.ipv6(nextHeader: 6, body: Build.tcp(source: 1234, destination: 22, dataOffsetWords: 8))
        let result = withPacket(tcp) { packet in
            #expect(packet.version == 6)
            #expect(packet.headerLength == 40)
            #expect(packet.totalLength == 72)
            #expect(packet.source.description == "fd00::1")
            #expect(packet.destination.description == "2001:db8::2")
            #expect(packet.sourceIPv6?.description == "fd00::1")
            #expect(packet.sourceIPv4 == nil)
            #expect(!packet.isFragment)
            return packet.transport
        }
        #expect(result == .tcp(sourcePort: 1234, destinationPort: 22))
        let udp = Build.ipv6(nextHeader: 17, body: Build.udp(source: 5353, destination: 5353))
        #expect(withPacket(udp) { $0.transport } == .udp(sourcePort: 5353, destinationPort: 5353))
        let icmp = Build.ipv6(nextHeader: 58, body: Build.icmp(type: 128, code: 0))
        #expect(withPacket(icmp) { $0.transport } == .icmpv6(type: 128, code: 0))
    }

    // ICMP numbers only count in their own family; unknown protocols have no transport.
    @Test func protocolFamilyRules() {
        let icmpv6InIPv4 = Build.ipv4(protocolNumber: 58, body: Build.icmp(type: 128, code: 0))
        let icmpInIPv6 = Build.ipv6(nextHeader: 1, body: Build.icmp(type: 8, code: 0))
        let gre = Build.ipv4(protocolNumber: 47, body: [UInt8](repeating: 0, count: 24))
        let fragmentHeader = Build.ipv6(nextHeader: 44, body: [17, 0, 0, 1, 0, 0, 0, 7] + Build.udp(source: 1, destination: 2))
        for bytes in [icmpv6InIPv4, icmpInIPv6, gre, fragmentHeader] {
            #expect(withPacket(bytes) { $0.transport } == .some(nil))
        }
        #expect(withPacket(fragmentHeader) { $0.protocolNumber } == IPProtocolNumber.ipv6Fragment)
    }

    // IPv4 fragments: the first carries the transport header, later ones do not.
    @Test func ipv4Fragments() {
        let body = Build.udp(source: 7, destination: 9, payload: [UInt8](repeating: 0, count: 16))
        let first = Build.ipv4(protocolNumber: 17, flagsAndOffset: 0x2000, body: body)
        let later = Build.ipv4(protocolNumber: 17, flagsAndOffset: 0x0003, body: body)
        #expect(withPacket(first) { $0.isFragment } == true)
        #expect(withPacket(first) { $0.transport } == .udp(sourcePort: 7, destinationPort: 9))
        #expect(withPacket(later) { $0.isFragment } == true)
        #expect(withPacket(later) { $0.transport } == .some(nil))
    }

    // Bytes past the total length (WireGuard padding) are excluded, also from
    // the transport: a header cut by the total length is absent.
    @Test func trailingPaddingIsIgnored() {
        var padded = Build.ipv4(protocolNumber: 17, body: Build.udp(source: 1, destination: 2))
        padded += [UInt8](repeating: 0, count: 12)
        #expect(withPacket(padded) { ($0.totalLength, $0.bytes.count) } .map { $0 == (28, 28) } == true)

        var cut = Build.ipv4(protocolNumber: 17, body: Build.udp(source: 1, destination: 2), totalLength: 24)
        cut += [UInt8](repeating: 0, count: 8)
        #expect(withPacket(cut) { $0.transport } == .some(nil))

        let v6 = Build.ipv6(nextHeader: 58, body: Build.icmp(type: 1, code: 4), payloadLength: 4) + [0, 0, 0, 0]
        #expect(withPacket(v6) { ($0.totalLength, $0.transport) }.map { $0.0 == 44 && $0.1 == nil } == true)
    }

    // Every proper prefix of a valid packet is refused with the right error,
    // and never traps.
    @Test func truncatedAtEveryLength() {
        let packets = [
            Build.ipv4(protocolNumber: 6, body: Build.tcp(source: 1, destination: 2)),
            Build.ipv4(protocolNumber: 17, options: [1, 1, 1, 0], body: Build.udp(source: 1, destination: 2)),
            Build.ipv6(nextHeader: 58, body: Build.icmp(type: 128, code: 0)),
        ]
        for packet in packets {
            let version = packet[0] >> 4
            let headerLength = version == 4 ? Int(packet[0] & 0xf) * 4 : 40
            for length in 0..<packet.count {
                let expected: IPPacketError
                if length == 0 {
                    expected = .empty
                } else if length < (version == 4 ? 20 : 40) || length < headerLength {
                    expected = .truncatedHeader
                } else {
                    expected = .totalLengthExceedsBuffer(totalLength: packet.count, bufferLength: length)
                }
                #expect(packetError(Array(packet[0..<length])) == expected, "length \(length)")
            }
            #expect(packetError(packet) == nil)
        }
    }

    // A transport header cut short by the total length is absent, at every cut.
    @Test func truncatedTransportAtEveryLength() {
        let bodies: [(UInt8, [UInt8], Int)] = [(6, Build.tcp(source: 1, destination: 2, dataOffsetWords: 6), 24),
                                               (17, Build.udp(source: 1, destination: 2), 8),
                                               (1, Build.icmp(type: 0, code: 0), 8)]
        for (protocolNumber, body, needed) in bodies {
            for length in 0...body.count {
                let packet = Build.ipv4(protocolNumber: protocolNumber, body: Array(body[0..<length]))
                let present = withPacket(packet) { $0.transport != nil }
                #expect(present == (length >= needed), "protocol \(protocolNumber) length \(length)")
            }
        }
    }

    // Malformed TCP data offsets give no transport.
    @Test func badTCPDataOffset() {
        let tooSmall = Build.ipv4(protocolNumber: 6, body: Build.tcp(source: 1, destination: 2, dataOffsetWords: 4))
        var tooLarge = Build.ipv4(protocolNumber: 6, body: Build.tcp(source: 1, destination: 2))
        tooLarge[20 + 12] = 6 << 4
        #expect(withPacket(tooSmall) { $0.transport } == .some(nil))
        #expect(withPacket(tooLarge) { $0.transport } == .some(nil))
    }

    // Header validation: version nibble, IHL, total length against header and buffer.
    @Test func headerValidation() {
        let good = Build.ipv4(protocolNumber: 17, body: Build.udp(source: 1, destination: 2))
        for version in UInt8(0)...15 where version != 4 && version != 6 {
            var bytes = good
            bytes[0] = version << 4 | 5
            #expect(packetError(bytes) == .unknownVersion(version))
        }
        for ihl in UInt8(0)..<5 {
            var bytes = good
            bytes[0] = 0x40 | ihl
            #expect(packetError(bytes) == .headerLengthTooSmall, "IHL \(ihl)")
        }
        var longHeader = good
        longHeader[0] = 0x4f  // 60-byte header in a 28-byte buffer
        #expect(packetError(longHeader) == .truncatedHeader)

        var shortTotal = good
        shortTotal[2] = 0
        shortTotal[3] = 19
        #expect(packetError(shortTotal) == .totalLengthTooSmall)

        var longTotal = good
        longTotal[3] = 29
        #expect(packetError(longTotal) == .totalLengthExceedsBuffer(totalLength: 29, bufferLength: 28))

        let v6 = Build.ipv6(nextHeader: 17, body: Build.udp(source: 1, destination: 2), payloadLength: 9)
        #expect(packetError(v6) == .totalLengthExceedsBuffer(totalLength: 49, bufferLength: 48))
        let v6Header = Build.ipv6(nextHeader: 59, body: [], payloadLength: 0)
        #expect(withPacket(v6Header) { ($0.totalLength, $0.payload.count) }.map { $0 == (40, 0) } == true)
        #expect(packetError([0x45]) == .truncatedHeader)
        #expect(packetError([0x60] + [UInt8](repeating: 0, count: 38)) == .truncatedHeader)
        #expect(packetError([]) == .empty)
        #expect(!IPPacketError.totalLengthExceedsBuffer(totalLength: 9, bufferLength: 8).description.isEmpty)
    }

    // Random bytes with a plausible first byte never trap; accepted ones are consistent.
    @Test func randomBytesNeverTrap() {
        var generator = SplitMix64(seed: 0x5041_434b)
        var accepted = 0
        for _ in 0..<20000 {
            var bytes = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !bytes.isEmpty && generator.chance(80) { bytes[0] = generator.chance(50) ? 0x45 : 0x60 }
            if bytes.count >= 6 && generator.chance(70) {
                // Keep the length fields small so that some packets pass.
                if bytes[0] >> 4 == 4 { bytes[2] = 0; bytes[3] = UInt8.random(in: 0...UInt8(min(bytes.count, 255)), using: &generator) }
                else { bytes[4] = 0; bytes[5] = UInt8.random(in: 0...UInt8(min(bytes.count, 255)), using: &generator) }
            }
            let consistent = withPacket(bytes) { packet in
                _ = packet.transport
                _ = (packet.source, packet.destination, packet.isFragment)
                return packet.totalLength <= bytes.count && packet.headerLength <= packet.totalLength
                    && packet.payload.count == packet.totalLength - packet.headerLength
            }
            if let consistent {
                accepted += 1
                #expect(consistent)
            }
        }
        #expect(accepted > 1000)
    }
}
