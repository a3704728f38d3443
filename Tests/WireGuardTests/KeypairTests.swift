import Testing
import TernCrypto
@testable import WireGuard

/// Transport messages between two keypairs of one session: sealing, padding,
/// opening in place, replay refusal, tampering and expiry.
@Suite struct KeypairTests {
    static let second = Protocol.second

    /// A matched pair of keypairs (initiator, responder) made at time 0.
    static func pair() -> (Keypair, Keypair) {
        let a = SymmetricKey(bytes: Random.bytes32()), b = SymmetricKey(bytes: Random.bytes32())
        let initiator = Keypair(SessionKeys(sending: a, receiving: b, localIndex: 1, remoteIndex: 2, isInitiator: true), now: 0)
        let responder = Keypair(SessionKeys(sending: b, receiving: a, localIndex: 2, remoteIndex: 1, isInitiator: false), now: 0)
        return (initiator, responder)
    }

    /// A packet buffer with `payload` at offset 16 and room for padding and tag.
    static func buffer(_ payload: [UInt8]) -> [UInt8] {
        [UInt8](repeating: 0, count: 16) + payload + [UInt8](repeating: 0, count: 32 + 16)
    }

    init() throws { try Sodium.initialize() }

    @Test func sealThenOpenRestoresThePaddedPacket() throws {
        var (sender, receiver) = Self.pair()
        for length in [0, 1, 15, 16, 17, 100, 1420] {
            let packet = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            var buffer = Self.buffer(packet)
            let sealed = try #require(buffer.withUnsafeMutableBytes { sender.seal($0, length: length, mtu: 1420, now: 0) })
            #expect(sealed == 16 + Transport.paddedLength(length, mtu: 1420) + 16)
            #expect(buffer[0] == 4 && buffer[4] == 2)                     // type, receiver index
            let opened = try buffer.withUnsafeMutableBytes { b throws(Keypair.OpenError) in
                try receiver.open(b, length: sealed, now: 1)
            }
            #expect(opened == Transport.paddedLength(length, mtu: 1420))
            #expect(Array(buffer[16..<16 + length]) == packet)
            #expect(buffer[(16 + length)..<(16 + opened)].allSatisfy { $0 == 0 })
        }
    }

    @Test func paddingRule() {
        #expect(Transport.paddedLength(0, mtu: 1420) == 0)
        #expect(Transport.paddedLength(1, mtu: 1420) == 16)
        #expect(Transport.paddedLength(1419, mtu: 1420) == 1420)       // capped at the MTU, not 1424
        #expect(Transport.paddedLength(1420, mtu: 1420) == 1420)
        #expect(Transport.paddedLength(17, mtu: 0) == 32)
        // Longer than the MTU (it was lowered under a running device): never
        // cut, padded like its last MTU-sized piece.
        #expect(Transport.paddedLength(1421, mtu: 1420) == 1436)
        #expect(Transport.paddedLength(2840, mtu: 1420) == 2840)
        #expect(Transport.paddedLength(3000, mtu: 1280) == 3008)
        for length in 0...9000 {
            for mtu in [0, 576, 1280, 1420] {
                let padded = Transport.paddedLength(length, mtu: mtu)
                #expect(padded >= length && padded - length < 16, "length \(length) mtu \(mtu)")
            }
        }
    }

    /// A packet longer than the MTU is sealed and opened whole (it used to
    /// be sealed cut to its length modulo the MTU).
    @Test func aPacketLongerThanTheMTUIsSealedWhole() throws {
        var (sender, receiver) = Self.pair()
        let packet = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var buffer = Self.buffer(packet)
        let sealed = try #require(buffer.withUnsafeMutableBytes { sender.seal($0, length: packet.count, mtu: 1280, now: 0) })
        #expect(sealed == 16 + 3008 + 16)
        let opened = try buffer.withUnsafeMutableBytes { b throws(Keypair.OpenError) in try receiver.open(b, length: sealed, now: 1) }
        #expect(opened == 3008)
        #expect(Array(buffer[16..<16 + packet.count]) == packet)
    }

    @Test func replayedMessageIsRefused() throws {
        var (sender, receiver) = Self.pair()
        var buffer = Self.buffer([1, 2, 3])
        let sealed = try #require(buffer.withUnsafeMutableBytes { sender.seal($0, length: 3, mtu: 0, now: 0) })
        let copy = buffer
        _ = try buffer.withUnsafeMutableBytes { b throws(Keypair.OpenError) in try receiver.open(b, length: sealed, now: 0) }
        var replay = copy
        #expect(throws: Keypair.OpenError.replayed) {
            _ = try replay.withUnsafeMutableBytes { b throws(Keypair.OpenError) in try receiver.open(b, length: sealed, now: 0) }
        }
    }

    @Test func tamperedMessageIsRefusedAndDoesNotAdvanceTheWindow() throws {
        var (sender, receiver) = Self.pair()
        var buffer = Self.buffer([9, 9, 9, 9])
        let sealed = try #require(buffer.withUnsafeMutableBytes { sender.seal($0, length: 4, mtu: 0, now: 0) })
        for position in [8, 16, sealed - 1] {                               // counter, ciphertext, tag
            var forged = buffer
            forged[position] ^= 0x80
            #expect(throws: Keypair.OpenError.authenticationFailed) {
                _ = try forged.withUnsafeMutableBytes { b throws(Keypair.OpenError) in try receiver.open(b, length: sealed, now: 0) }
            }
        }
        // The genuine message still opens: the forgeries did not mark its counter seen.
        let opened = try buffer.withUnsafeMutableBytes { b throws(Keypair.OpenError) in try receiver.open(b, length: sealed, now: 0) }
        #expect(opened == 16)
    }

    @Test func keypairsExpireAfterRejectAfterTime() throws {
        var (sender, receiver) = Self.pair()
        var buffer = Self.buffer([1])
        #expect(buffer.withUnsafeMutableBytes { sender.seal($0, length: 1, mtu: 0, now: 180 * Self.second) } == nil)
        let sealed = try #require(buffer.withUnsafeMutableBytes { sender.seal($0, length: 1, mtu: 0, now: 179 * Self.second) })
        #expect(throws: Keypair.OpenError.expired) {
            _ = try buffer.withUnsafeMutableBytes { b throws(Keypair.OpenError) in
                try receiver.open(b, length: sealed, now: 180 * Self.second)
            }
        }
    }

    @Test func countersIncreaseFromZero() throws {
        var (sender, _) = Self.pair()
        for expected in UInt64(0)..<5 {
            var buffer = Self.buffer([])
            _ = buffer.withUnsafeMutableBytes { sender.seal($0, length: 0, mtu: 0, now: 0) }
            let counter = buffer.withUnsafeBytes { Keypair.counter(of: $0) }
            #expect(counter == expected)
        }
        #expect(sender.sendCounter == 5)
    }
}
