import IP
import Testing
import TernCrypto
@testable import ControlProtocol
@testable import WireGuard

/// A control handshake and a WireGuard handshake between the same keys never
/// produce a session: the control preshared key separates the two protocols.
@Suite struct DomainSeparationTests {
    init() throws { try Sodium.initialize() }

    @Test func wireGuardDeviceCannotCompleteAControlHandshake() throws {
        var pair = Pair()
        // A real WireGuard device holding the server's key, with the machine as a peer (no psk).
        let device = Device(random: SeededRandom(seed: 5))
        device.setPrivateKey(pair.server.privateKey)
        _ = try #require(device.addPeer(pair.machine.publicKey))

        var client = pair.client()
        let initiation = try pair.initiation(&client, at: stamp(0))
        var buffer = initiation + [UInt8](repeating: 0, count: 64)
        let source = try Endpoint("192.0.2.1:51820")
        let action = buffer.withUnsafeMutableBytes { device.receive($0, length: initiation.count, from: source, now: 1) }
        // The initiation carries no psk, so the device answers it...
        guard case .writeToNetwork(_, _, let length) = action else {
            Issue.record("device did not answer: \(action)")
            return
        }
        #expect(length == Response.size)
        // ...but its response, made without the control psk, does not open.
        #expect(throws: ControlChannelError.handshakeFailed) {
            try client.finish(response: Array(buffer[0..<length]))
        }
    }

    @Test func sameDeviceWithTheControlPSKCompletesIt() throws {
        // The control test: the failure above is the psk and nothing else.
        var pair = Pair()
        let device = Device(random: SeededRandom(seed: 5))
        device.setPrivateKey(pair.server.privateKey)
        let peer = try #require(device.addPeer(pair.machine.publicKey))
        device.setPresharedKey(peer, ControlHandshake.presharedKey)

        var client = pair.client()
        let initiation = try pair.initiation(&client, at: stamp(0))
        var buffer = initiation + [UInt8](repeating: 0, count: 64)
        let source = try Endpoint("192.0.2.1:51820")
        let action = buffer.withUnsafeMutableBytes { device.receive($0, length: initiation.count, from: source, now: 1) }
        guard case .writeToNetwork(_, _, let length) = action else {
            Issue.record("device did not answer: \(action)")
            return
        }
        _ = try client.finish(response: Array(buffer[0..<length]))
    }

    @Test func wireGuardInitiatorCannotCompleteAControlHandshake() throws {
        var pair = Pair()
        // A plain WireGuard initiator (no psk) with the machine's key, aimed at the server's key.
        let peer = PeerKeys(identity: pair.machine, remoteStatic: pair.server.publicKey)
        var handshake = Handshake()
        var message = [UInt8](repeating: 0, count: Initiation.size)
        try message.withUnsafeMutableBytes { bytes in
            try handshake.createInitiation(into: bytes, identity: pair.machine, peer: peer, ephemeral: pair.random.privateKey(),
                                           localIndex: 3, timestamp: stamp(0))
            var cookie = PeerCookie()
            cookie.addMACs(to: bytes, peer: peer, now: 1)
        }
        // The responder cannot tell yet (the psk enters at the response)...
        let acceptance = try pair.accept(message)
        #expect(acceptance.machineKey == pair.machine.publicKey)
        // ...but the WireGuard side cannot open the response, so no session exists on its side.
        let response = try body(of: acceptance.response)
        #expect(throws: HandshakeError.decryptionFailed) {
            try response.withUnsafeBytes { bytes in
                _ = try handshake.consumeResponse(bytes, identity: pair.machine, peer: peer)
            }
        }
    }

    @Test func controlInitiationIsNotTakenForAnotherWireGuardPeer() throws {
        // A device with the server key that does not list the machine refuses the initiation outright.
        var pair = Pair()
        let device = Device(random: SeededRandom(seed: 5))
        device.setPrivateKey(pair.server.privateKey)
        var client = pair.client()
        var buffer = try pair.initiation(&client, at: stamp(0))
        let action = buffer.withUnsafeMutableBytes { device.receive($0, length: Initiation.size, from: try! Endpoint("192.0.2.1:1"), now: 1) }
        #expect(action == .drop(.unknownPeer))
    }
}
