import IP
import Testing
import TernCrypto
@testable import WireGuard

/// Load, cookies, roaming, and packets an attacker or a broken network sends:
/// each is dropped and counted, never a crash.
@Suite struct DeviceHostileInputTests {
    static let second = Protocol.second

    init() throws { try Sodium.initialize() }

    @Test func underLoadTheResponderDemandsACookieAndThenAccepts() throws {
        let (network, a, b) = try Network.pair()
        b.device.underLoadThreshold = 0                      // every handshake counts as load
        network.sendPacket(from: a, to: b)
        network.run()
        #expect(network.sent(by: b, .cookieReply) == 1)
        #expect(network.sent(by: b, .response) == 0)
        #expect(b.device.dropCount(.cookieRequired) == 1)
        // The retransmission carries mac2 from the cookie and is answered.
        network.advance(to: 6 * Self.second)
        #expect(network.sent(by: a, .initiation) == 2)
        #expect(network.sent(by: b, .response) == 1)
        #expect(b.tunnel.count == 1)
        let second = network.log.last { $0.from == a.endpoint && $0.type == .initiation }!
        #expect(second.bytes[132..<148].contains { $0 != 0 })  // mac2 present
    }

    @Test func rateLimiterCapsHandshakesFromOneSourceUnderLoad() throws {
        let (network, a, b) = try Network.pair()
        b.device.underLoadThreshold = 0
        network.sendPacket(from: a, to: b)
        network.run()
        network.advance(to: 6 * Self.second)                 // A now holds a cookie; session up
        let initiation = network.log.last { $0.from == a.endpoint && $0.type == .initiation }!
        // Replaying the valid, mac2-carrying initiation many times within one second:
        // at most the burst of 5 pass the limiter (and then fail as replays).
        for _ in 0..<50 { network.inject(initiation.bytes, to: b, from: a.endpoint) }
        #expect(b.device.dropCount(.rateLimited) >= 45)
    }

    @Test func roamingFollowsTheNewSourceAddress() throws {
        let (network, a, b) = try Network.pair()
        network.sendPacket(from: a, to: b)
        network.run()
        a.endpoint = try Endpoint("198.51.100.7:40000")      // A's NAT mapping changed
        network.sendPacket(from: a, to: b)
        network.run()
        #expect(b.device.peer(for: a.publicKey)?.endpoint == .udp(a.endpoint))
        network.sendPacket(from: b, to: a)
        network.run()
        #expect(a.tunnel.count == 1)
    }

    @Test func randomAndTruncatedDatagramsAreDroppedAndCounted() throws {
        let (network, a, b) = try Network.pair()
        network.sendPacket(from: a, to: b)
        network.run()
        var random = SeededRandom(state: 99)
        var dropped = 0
        for _ in 0..<2000 {
            let length = Int(random.uniform(200))
            var bytes = [UInt8](repeating: 0, count: length)
            bytes.withUnsafeMutableBytes { random.fill($0) }
            if length >= 4, random.uniform(2) == 0 { bytes[0] = UInt8(1 + random.uniform(4)); bytes[1] = 0; bytes[2] = 0; bytes[3] = 0 }
            if case .drop = network.inject(bytes, to: b, from: a.endpoint) { dropped += 1 }
        }
        #expect(dropped == 2000)
        // Truncations of every real message type at every length.
        for datagram in network.log {
            for cut in 0..<datagram.bytes.count {
                let action = network.inject(Array(datagram.bytes[0..<cut]), to: b, from: a.endpoint)
                var answered = false
                if case .writeToNetwork(_, _, Response.size) = action { answered = true }
                #expect(action != .done && !answered)
            }
        }
        #expect(b.device.dropCount(.malformed) > 0)
        // The session still works.
        network.sendPacket(from: a, to: b)
        network.run()
        #expect(b.tunnel.count == 2)
    }

    @Test func wrongMAC1IsDropped() throws {
        let (network, a, b) = try Network.pair()
        network.deliver = { _ in false }
        network.sendPacket(from: a, to: b)
        var initiation = network.log.first { $0.type == .initiation }!.bytes
        initiation[120] ^= 1
        #expect(network.inject(initiation, to: b, from: a.endpoint) == .drop(.invalidMAC1))
    }

    @Test func replayedTransportAndHandshakeAreDropped() throws {
        let (network, a, b) = try Network.pair()
        network.sendPacket(from: a, to: b)
        network.run()
        let data = network.log.first { $0.type == .transport }!.bytes
        #expect(network.inject(data, to: b, from: a.endpoint) == .drop(.replayed))
        let initiation = network.log.first { $0.type == .initiation }!.bytes
        #expect(network.inject(initiation, to: b, from: a.endpoint) == .drop(.replayedHandshake))
        #expect(b.tunnel.count == 1)
    }

    @Test func innerSourceOutsideAllowedIPsIsDropped() throws {
        let (network, a, b) = try Network.pair()
        network.sendPacket(from: a, to: b)
        network.run()
        // A claims to be 10.9.9.9, which B does not route to A.
        let spoofed = ipv4Packet(from: try IPAddress("10.9.9.9"), to: b.tunnelAddress, payload: [7])
        network.sendRaw(from: a, packet: spoofed)
        network.run()
        #expect(b.device.dropCount(.sourceNotAllowed) == 1)
        #expect(b.tunnel.count == 1)
    }

    @Test func packetsWithoutRouteOrEndpointAreDropped() throws {
        let (network, a, b) = try Network.pair()
        let stray = ipv4Packet(from: a.tunnelAddress, to: try IPAddress("10.77.0.1"), payload: [])
        #expect(network.sendRaw(from: a, packet: stray) == .drop(.noRoute))
        let c = try Node(name: "c", seed: 3, endpoint: "192.0.2.3:51820", tunnelAddress: "10.0.0.3")
        network.nodes.append(c)
        try network.connect(a, c, endpoints: false)
        let toC = ipv4Packet(from: a.tunnelAddress, to: c.tunnelAddress, payload: [])
        #expect(network.sendRaw(from: a, packet: toC) == .drop(.noEndpoint))
        #expect(network.sendRaw(from: a, packet: [0x45, 0, 0]) == .drop(.invalidInnerPacket))
        _ = b
    }

    @Test func unknownPeerInitiationIsDropped() throws {
        let (network, a, b) = try Network.pair()
        let stranger = try Node(name: "s", seed: 4, endpoint: "192.0.2.9:51820", tunnelAddress: "10.0.0.9")
        network.nodes.append(stranger)
        // The stranger knows B, but B does not know the stranger.
        let id = stranger.device.addPeer(b.publicKey)!
        stranger.device.setEndpoint(id, b.endpoint)
        stranger.device.addAllowedIP(id, try IPPrefix("10.0.0.2/32"))
        network.sendPacket(from: stranger, to: b)
        network.run()
        #expect(b.device.dropCount(.unknownPeer) == 1)
        #expect(network.sent(by: b, .response) == 0)
        _ = a
    }
}
