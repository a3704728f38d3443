import IP
import Testing
import TernCrypto
@testable import WireGuard

/// The timer rules of whitepaper §6, each driven by the manual clock.
@Suite struct DeviceTimerTests {
    static let second = Protocol.second

    init() throws { try Sodium.initialize() }

    /// A and B with a confirmed session (A initiated) at time 0.
    static func established() throws -> (Network, Node, Node) {
        let (network, a, b) = try Network.pair()
        network.sendPacket(from: a, to: b)
        network.run()
        return (network, a, b)
    }

    @Test func initiatorRekeysAfter120SecondsAndResponderDoesNot() throws {
        let (network, a, b) = try Self.established()
        // Traffic both ways every second for 150 s.
        for t in 1...150 {
            network.advance(to: UInt64(t) * Self.second)
            network.sendPacket(from: a, to: b)
            network.sendPacket(from: b, to: a)
            network.run()
        }
        #expect(network.sent(by: a, .initiation) == 2)      // the first, and the rekey
        #expect(network.sent(by: b, .initiation) == 0)
        let rekey = network.log.filter { $0.from == a.endpoint && $0.type == .initiation }.count
        #expect(rekey == 2)
        #expect(b.tunnel.count == 151 && a.tunnel.count == 150)
    }

    @Test func responderInitiatesWhenItsKeypairPassesRejectAfterTime() throws {
        let (network, a, b) = try Self.established()
        network.sendPacket(from: b, to: a)
        network.run()
        network.advance(to: 181 * Self.second)
        let before = network.sent(by: b, .initiation)
        network.sendPacket(from: b, to: a)
        network.run()
        #expect(before == 0)
        #expect(network.sent(by: b, .initiation) == 1)
        #expect(a.tunnel.count == 2)                          // delivered after the new handshake
    }

    @Test func keypairIsRefusedAfter180Seconds() throws {
        let (network, a, b) = try Self.established()
        let onA = a.device.peer(for: b.publicKey)!
        #expect(onA.canSend(now: 179 * Self.second))
        #expect(!onA.canSend(now: 180 * Self.second))
        _ = network
    }

    @Test func keepaliveAfterTenSecondsOfOneWayData() throws {
        let (network, a, b) = try Self.established()
        network.advance(to: 9 * Self.second)
        #expect(network.sent(by: b, .transport, keepaliveOnly: true) == 0)
        network.advance(to: 10 * Self.second + 1)
        #expect(network.sent(by: b, .transport, keepaliveOnly: true) == 1)
        // Nothing more while both are silent.
        network.advance(to: 60 * Self.second)
        #expect(network.sent(by: b, .transport, keepaliveOnly: true) == 1)
        #expect(network.sent(by: a, .transport, keepaliveOnly: true) == 0)
    }

    @Test func newHandshakeAfterFifteenSecondsWithoutReply() throws {
        let (network, a, b) = try Self.established()
        // B goes silent: it receives but everything it sends is lost.
        network.deliver = { $0.from != b.endpoint }
        network.advance(to: 1 * Self.second)
        network.sendPacket(from: a, to: b)
        network.run()
        network.advance(to: 15 * Self.second)
        #expect(network.sent(by: a, .initiation) == 1)
        network.advance(to: 16 * Self.second + Protocol.maxJitter + 1)
        #expect(network.sent(by: a, .initiation) == 2)
    }

    @Test func persistentKeepaliveEveryIntervalOfSilence() throws {
        let (network, a, b) = try Self.established()
        let peer = a.device.peer(for: b.publicKey)!.id
        a.device.setPersistentKeepalive(peer, seconds: 25, now: network.now)
        network.advance(by: 0)
        #expect(network.sent(by: a, .transport, keepaliveOnly: true) == 1)   // sent at once when turned on
        network.advance(to: 100 * Self.second + 1)
        // B's own keepalive at 10 s (it had received data) restarts A's interval.
        #expect(network.keepaliveSeconds(from: b) == [10])
        #expect(network.keepaliveSeconds(from: a) == [0, 35, 60, 85])
        a.device.setPersistentKeepalive(peer, seconds: 0, now: network.now)
        network.advance(to: 200 * Self.second)
        #expect(network.keepaliveSeconds(from: a).count == 4)
    }

    @Test func twentyInitiationsThenGiveUp() throws {
        let (network, a, b) = try Network.pair()
        network.deliver = { _ in false }                     // B is unreachable
        network.sendPacket(from: a, to: b)
        network.advance(to: 200 * Self.second)
        #expect(network.sent(by: a, .initiation) == 20)
        let peer = a.device.peer(for: b.publicKey)!
        #expect(peer.staged.isEmpty)
        #expect(peer.timers.retransmitHandshake == nil)
        // A later packet starts a fresh attempt.
        network.sendPacket(from: a, to: b)
        #expect(network.sent(by: a, .initiation) == 21)
    }

    @Test func keyMaterialIsErasedAfter540SecondsOfSilence() throws {
        let (network, a, b) = try Self.established()
        network.advance(to: 541 * Self.second)
        let onA = a.device.peer(for: b.publicKey)!
        #expect(onA.current == nil && onA.previous == nil && onA.next == nil)
        #expect(a.device.indices.count == 0)
    }
}
