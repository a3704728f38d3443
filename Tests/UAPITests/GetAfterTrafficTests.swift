import IP
import TernCrypto
import Testing
import UAPI
import WireGuard

/// Two devices configured only through UAPI exchange a packet in memory;
/// `get` then shows the handshake time in wall-clock terms, the byte
/// counters and the endpoint the responder learned.
@Suite struct GetAfterTrafficTests {
    init() throws { try Sodium.initialize() }

    static let bPrivate = "a8b9c0d1e2f30415263748596a7b8c9daebfc0d1e2f30415263748596a7b8c5d"

    /// A 24-byte IPv4 packet (protocol 253) from `source` to `destination`.
    static func packet(from source: IPv4Address, to destination: IPv4Address) -> [UInt8] {
        var packet = [UInt8](repeating: 0, count: 24)
        packet[0] = 0x45
        packet[3] = 24
        packet[8] = 64
        packet[9] = 253
        for i in 0..<4 {
            packet[12 + i] = UInt8(truncatingIfNeeded: source.value >> (24 - 8 * UInt32(i)))
            packet[16 + i] = UInt8(truncatingIfNeeded: destination.value >> (24 - 8 * UInt32(i)))
        }
        packet[20...] = [1, 2, 3, 4]
        return packet
    }

    @Test func handshakeTimeAndCountersAppearInGet() throws {
        let a = Harness(seed: 1)
        let b = Harness(seed: 2)
        let bPublic = try PrivateKey(hex: Self.bPrivate).publicKey.hex
        let aAddress = try Endpoint("192.0.2.1:51820")
        let bAddress = try Endpoint("192.0.2.2:51820")
        #expect(a.set("private_key=\(Keys.ownPrivate)\nlisten_port=51820\npublic_key=\(bPublic)\n"
                      + "endpoint=192.0.2.2:51820\nallowed_ip=10.0.0.2/32\n") == "errno=0\n\n")
        #expect(b.set("private_key=\(Self.bPrivate)\nlisten_port=51820\npublic_key=\(Keys.ownPublic)\n"
                      + "allowed_ip=10.0.0.1/32\n") == "errno=0\n\n")

        // Everything happens at t = 1 s.
        let t = 1 * second
        var buffer = [UInt8](repeating: 0, count: 4096)
        let ip = Self.packet(from: IPv4Address(10, 0, 0, 1), to: IPv4Address(10, 0, 0, 2))
        buffer.replaceSubrange(16..<16 + ip.count, with: ip)
        _ = buffer.withUnsafeMutableBytes { a.device.send($0, length: ip.count, now: t) }   // staged

        /// Delivers everything `from` has queued to `to`, returning what `to` answered directly.
        func deliver(from: Harness, source: Endpoint, to: Harness) -> [[UInt8]] {
            var replies: [[UInt8]] = []
            var outgoing: [[UInt8]] = []
            while true {
                let action = buffer.withUnsafeMutableBytes { from.device.poll(into: $0, now: t) }
                guard case .writeToNetwork(_, _, let length) = action else { break }
                outgoing.append(Array(buffer[0..<length]))
            }
            for datagram in outgoing {
                buffer.replaceSubrange(0..<datagram.count, with: datagram)
                let action = buffer.withUnsafeMutableBytes {
                    to.device.receive($0, length: datagram.count, from: source, now: t)
                }
                if case .writeToNetwork(_, _, let length) = action { replies.append(Array(buffer[0..<length])) }
            }
            return replies
        }

        let responses = deliver(from: a, source: aAddress, to: b)           // initiation → response
        #expect(responses.count == 1)
        for response in responses {
            buffer.replaceSubrange(0..<response.count, with: response)
            _ = buffer.withUnsafeMutableBytes { a.device.receive($0, length: response.count, from: bAddress, now: t) }
        }
        _ = deliver(from: a, source: aAddress, to: b)                        // the staged packet

        // Read at t = 3.25 s, when the wall clock says 1_700_000_000 s. Counters are
        // WireGuard message bytes, as the kernel reports them: A sent the initiation
        // (148) and the 24-byte packet padded to 32 plus header and tag (64); B sent
        // the response (92).
        a.now = 3_250_000_000
        b.now = 3_250_000_000
        #expect(a.get() == """
            private_key=\(Keys.ownPrivate)
            listen_port=51820
            public_key=\(bPublic)
            preshared_key=\(Keys.zero)
            protocol_version=1
            endpoint=192.0.2.2:51820
            last_handshake_time_sec=1699999997
            last_handshake_time_nsec=750000000
            tx_bytes=212
            rx_bytes=92
            persistent_keepalive_interval=0
            allowed_ip=10.0.0.2/32
            errno=0


            """)
        #expect(b.get() == """
            private_key=\(Self.bPrivate)
            listen_port=51820
            public_key=\(Keys.ownPublic)
            preshared_key=\(Keys.zero)
            protocol_version=1
            endpoint=192.0.2.1:51820
            last_handshake_time_sec=1699999997
            last_handshake_time_nsec=750000000
            tx_bytes=92
            rx_bytes=212
            persistent_keepalive_interval=0
            allowed_ip=10.0.0.1/32
            errno=0


            """)
    }
}
