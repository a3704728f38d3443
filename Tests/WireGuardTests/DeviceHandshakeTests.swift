import IP
import Testing
import TernCrypto
@testable import WireGuard

/// Two devices over the in-memory network: handshakes in both directions and
/// data both ways, with the key-confirmation rule for the responder.
@Suite struct DeviceHandshakeTests {
    init() throws { try Sodium.initialize() }

    @Test func firstPacketTriggersHandshakeAndArrives() throws {
        let (network, a, b) = try Network.pair()
        network.sendPacket(from: a, to: b, payload: [42])
        network.run()
        #expect(network.sent(by: a, .initiation) == 1)
        #expect(network.sent(by: b, .response) == 1)
        #expect(b.tunnel.count == 1)
        #expect(b.tunnel.first.map { Array($0.suffix(1)) } == [42])
        // The staged packet itself confirmed the session: no keepalive was needed.
        #expect(network.sent(by: a, .transport, keepaliveOnly: true) == 0)
    }

    @Test func dataFlowsBothWaysAfterEitherSideInitiates() throws {
        for initiatorIsA in [true, false] {
            let (network, a, b) = try Network.pair()
            let (first, second) = initiatorIsA ? (a, b) : (b, a)
            network.sendPacket(from: first, to: second, payload: [1])
            network.run()
            network.sendPacket(from: second, to: first, payload: [2])
            network.run()
            for i in 0..<10 {
                network.sendPacket(from: first, to: second, payload: [UInt8(i)])
                network.sendPacket(from: second, to: first, payload: [UInt8(100 + i)])
            }
            network.run()
            #expect(second.tunnel.count == 11)
            #expect(first.tunnel.count == 11)
            #expect(network.sent(by: first, .initiation) == 1)
            #expect(network.sent(by: second, .initiation) == 0)
        }
    }

    @Test func responderWaitsForConfirmationBeforeSending() throws {
        let (network, a, b) = try Network.pair()
        // Lose A's first data packet, so B sees the initiation but no confirmation.
        network.deliver = { $0.type != .transport }
        network.sendPacket(from: a, to: b)
        network.run()
        let peerA = b.device.peer(for: a.publicKey)!
        #expect(peerA.current == nil && peerA.next != nil)
        // B's own packet is staged rather than sent on the unconfirmed session.
        network.deliver = { _ in true }
        network.sendPacket(from: b, to: a)
        #expect(network.queue.allSatisfy { $0.type != .transport })
    }

    @Test func keysAndIndicesAreTracked() throws {
        let (network, a, b) = try Network.pair()
        network.sendPacket(from: a, to: b)
        network.run()
        let onA = a.device.peer(for: b.publicKey)!
        let onB = b.device.peer(for: a.publicKey)!
        #expect(onA.current?.remoteIndex == onB.current?.localIndex)
        #expect(onB.current?.remoteIndex == onA.current?.localIndex)
        #expect(onA.lastHandshake == 0 && onB.lastHandshake == 0)
        #expect(a.device.indices.count == 1 && b.device.indices.count == 1)
    }
}
