import Foundation
import IP
import JSON
import Testing
import TestSupport
import TernCrypto
@testable import ControlProtocol
@testable import WireGuard

/// Transport frames on an established session: sealing, opening, tampering,
/// ordering, limits, and messages inside frames.
@Suite struct SessionTests {
    init() throws { try Sodium.initialize() }

    @Test func frameLayoutIsLengthThenCiphertextAndTag() throws {
        var pair = Pair()
        var (client, _) = try pair.connect()
        let plaintext: [UInt8] = Array("hello".utf8)
        let frame = try client.seal(plaintext)
        #expect(frame.count == 4 + plaintext.count + 16)
        #expect(Array(frame.prefix(4)) == [0, 0, 0, UInt8(plaintext.count + 16)])
        #expect(Array(frame[4..<9]) != plaintext)
        // Same plaintext, next counter: a different ciphertext.
        #expect(try client.seal(plaintext) != frame)
    }

    @Test func emptyPlaintextIsAValidFrame() throws {
        var pair = Pair()
        var (client, acceptance) = try pair.connect()
        let frame = try client.seal([])
        #expect(frame.count == 4 + 16)
        #expect(try acceptance.session.open(try body(of: frame)) == [])
    }

    @Test func tamperedCiphertextIsRefusedAndClosesTheSession() throws {
        var generator = SplitMix64(seed: 3)
        for trial in 0..<20 {
            var pair = Pair(seed: UInt64(trial))
            var (client, acceptance) = try pair.connect()
            var frame = try body(of: try client.seal(Array("login please".utf8)))
            let position = Int(generator.next() % UInt64(frame.count))
            frame[position] ^= UInt8(1 << (generator.next() % 8))
            var server = acceptance.session
            #expect(throws: ControlChannelError.decryptionFailed) { try server.open(frame) }
            #expect(!server.isOpen)
            #expect(throws: ControlChannelError.sessionClosed) { try server.open(frame) }
        }
    }

    @Test func truncatedFramesAreRefused() throws {
        var pair = Pair()
        var (client, acceptance) = try pair.connect()
        let frame = try body(of: try client.seal([1, 2, 3]))
        var server = acceptance.session
        #expect(throws: ControlChannelError.decryptionFailed) { try server.open(Array(frame.dropLast())) }
        var other = try pair.connect(at: stamp(1)).1.session
        #expect(throws: ControlChannelError.decryptionFailed) { try other.open(Array(frame.prefix(15))) }
    }

    @Test func reorderedReplayedAndDroppedFramesAreRefused() throws {
        var pair = Pair()
        var (client, acceptance) = try pair.connect()
        let first = try body(of: try client.seal([1]))
        let second = try body(of: try client.seal([2]))

        var reordered = acceptance.session
        #expect(throws: ControlChannelError.decryptionFailed) { try reordered.open(second) }

        var replayed = acceptance.session
        #expect(try replayed.open(first) == [1])
        #expect(throws: ControlChannelError.decryptionFailed) { try replayed.open(first) }

        var inOrder = acceptance.session
        #expect(try inOrder.open(first) == [1])
        #expect(try inOrder.open(second) == [2])
    }

    @Test func framesFromAnotherSessionAreRefused() throws {
        var pair = Pair()
        var (oldClient, _) = try pair.connect(at: stamp(0))
        var (_, fresh) = try pair.connect(at: stamp(1))
        let stale = try body(of: try oldClient.seal([9]))
        #expect(throws: ControlChannelError.decryptionFailed) { try fresh.session.open(stale) }
    }

    /// Two sessions facing each other over fixed keys, with chosen counters.
    private func facing(sendCounter: UInt64, receiveCounter: UInt64) -> (ControlSession, ControlSession) {
        let a = SymmetricKey(bytes: Bytes32(repeating: 0xa1))
        let b = SymmetricKey(bytes: Bytes32(repeating: 0xb2))
        let sender = ControlSession(keys: SessionKeys(sending: a, receiving: b, localIndex: 0, remoteIndex: 0, isInitiator: true),
                                    sendCounter: sendCounter)
        let receiver = ControlSession(keys: SessionKeys(sending: b, receiving: a, localIndex: 0, remoteIndex: 0, isInitiator: false),
                                      receiveCounter: receiveCounter)
        return (sender, receiver)
    }

    @Test func counterLimitIsEnforcedOnSend() throws {
        var (sender, receiver) = facing(sendCounter: UInt64.max - 1, receiveCounter: UInt64.max - 1)
        #expect(try receiver.open(try body(of: try sender.seal([5]))) == [5])
        #expect(sender.sendCounter == UInt64.max)
        #expect(throws: ControlChannelError.counterExhausted) { try sender.seal([6]) }
    }

    @Test func counterLimitIsEnforcedOnReceive() throws {
        var (sender, receiver) = facing(sendCounter: UInt64.max - 1, receiveCounter: UInt64.max - 1)
        #expect(try receiver.open(try body(of: try sender.seal([1]))) == [1])
        #expect(receiver.receiveCounter == UInt64.max)
        #expect(throws: ControlChannelError.counterExhausted) { try receiver.open([UInt8](repeating: 0, count: 16)) }
    }

    @Test func nonceIsTheCounterInWireGuardLayout() throws {
        // Independent check of the nonce: seal by hand with ChaChaPoly at counter 7.
        var (sender, _) = facing(sendCounter: 7, receiveCounter: 0)
        let frame = try body(of: try sender.seal([1, 2, 3]))
        var expected: [UInt8] = [1, 2, 3] + [UInt8](repeating: 0, count: 16)
        expected.withUnsafeMutableBytes { bytes in
            _ = ChaChaPoly.seal(bytes, plaintextLength: 3, counter: 7, key: SymmetricKey(bytes: Bytes32(repeating: 0xa1)))
        }
        #expect(frame == expected)
    }

    @Test func wipedSessionRefusesEverything() throws {
        var pair = Pair()
        var (client, acceptance) = try pair.connect()
        let frame = try body(of: try client.seal([1]))
        client.wipe()
        #expect(!client.isOpen)
        #expect(throws: ControlChannelError.sessionClosed) { try client.seal([1]) }
        var server = acceptance.session
        server.wipe()
        #expect(throws: ControlChannelError.sessionClosed) { try server.open(frame) }
    }

    @Test func oversizePlaintextIsRefused() throws {
        var pair = Pair()
        var (client, acceptance) = try pair.connect()
        let largest = [UInt8](repeating: 0x41, count: ControlSession.maxPlaintextLength)
        let frame = try client.seal(largest)
        #expect(frame.count == 4 + ControlFraming.maxFrameLength)
        #expect(try acceptance.session.open(try body(of: frame)) == largest)
        #expect(throws: ControlChannelError.frameTooLarge(ControlFraming.maxFrameLength + 1)) {
            try client.seal(largest + [0])
        }
        // The refusal did not spend a counter.
        #expect(try acceptance.session.open(try body(of: try client.seal([2]))) == [2])
    }

    @Test func messagesTravelBothWays() throws {
        var pair = Pair()
        var (client, acceptance) = try pair.connect()
        var server = acceptance.session
        let login = NodeMessage.login(LoginRequest(nodeKey: Sample.key(9), hostname: "pi", credential: .preAuthKey("tskey-1"),
                                                   endpoints: [try Endpoint("192.0.2.9:41641")], mapVersion: 0))
        #expect(try server.openNodeMessage(try body(of: try client.seal(login))) == login)
        let map = ServerMessage.map(try Sample.map())
        #expect(try client.openServerMessage(try body(of: try server.seal(map))) == map)
        // The plaintext on the wire is compact JSON of the message.
        var probe = try pair.connect(at: stamp(1))
        let opened = try probe.1.session.open(try body(of: try probe.0.seal(NodeMessage.ping(4))))
        #expect(opened == JSONSerializer.bytes(NodeMessage.ping(4).json))
        #expect(String(decoding: opened, as: UTF8.self) == #"{"type":"ping","number":4}"#)
    }

    @Test func garbageInsideAValidSessionIsABadMessage() throws {
        var pair = Pair()
        var (client, acceptance) = try pair.connect()
        var server = acceptance.session
        let garbage: [[UInt8]] = [
            [], Array("not json".utf8), [0xff, 0xfe, 0x00], Array("{\"type\":\"ping\"}".utf8),
            Array("{\"type\":\"fly\"}".utf8), Array("[1,2,3]".utf8), Array("{\"type\":\"ping\",\"number\":-1}".utf8),
            Array(String(repeating: "[", count: 10_000).utf8), Array("{\"type\":\"map\"}".utf8),
        ]
        for plaintext in garbage {
            let frame = try body(of: try client.seal(plaintext))
            do {
                _ = try server.openNodeMessage(frame)
                Issue.record("accepted garbage \(plaintext.prefix(20))")
            } catch {
                guard case .badMessage(let detail) = error else {
                    Issue.record("expected badMessage, got \(error)")
                    continue
                }
                #expect(!detail.isEmpty)
            }
        }
        // The session survives bad messages: the next good one still opens.
        #expect(try server.openNodeMessage(try body(of: try client.seal(NodeMessage.logout))) == .logout)
        // And the same holds for the other direction.
        #expect(throws: ControlChannelError.self) {
            try client.openServerMessage(try body(of: try server.seal(Array("{\"type\":\"pong\"}".utf8))))
        }
        #expect(try client.openServerMessage(try body(of: try server.seal(ServerMessage.loggedOut))) == .loggedOut)
    }
}
