import IP
import Testing
import TernCrypto
@testable import ControlProtocol
@testable import WireGuard

/// The control handshake between a node and the server: success, and every
/// refusal the responder and the client promise.
@Suite struct HandshakeTests {
    init() throws { try Sodium.initialize() }

    @Test func presharedKeyIsTheHashOfTheLabel() {
        let expected = ControlHandshake.label.withUTF8Buffer { Blake2s.hash(UnsafeRawBufferPointer($0)) }
        #expect(ControlHandshake.presharedKey == PresharedKey(bytes: expected))
        #expect(!ControlHandshake.presharedKey.isZero)
    }

    @Test func fullHandshakeGivesMatchingSessionsBothWays() throws {
        var pair = Pair()
        var client = pair.client()
        let framed = try client.initiation(ephemeral: pair.random.privateKey(), timestamp: stamp(0), now: 1)
        // The first frame is a 4-byte big-endian length and a WireGuard-shaped initiation.
        #expect(framed.count == 4 + Initiation.size)
        #expect(Array(framed.prefix(4)) == [0, 0, 0, 148])
        #expect(framed[4] == 1)

        var acceptance = try pair.accept(try body(of: framed))
        #expect(acceptance.machineKey == pair.machine.publicKey)
        #expect(acceptance.timestamp == stamp(0))
        #expect(acceptance.response.count == 4 + Response.size)
        #expect(Array(acceptance.response.prefix(5)) == [0, 0, 0, 92, 2])
        #expect(pair.replayGuard.latest(for: pair.machine.publicKey) == stamp(0))

        var session = try client.finish(response: try body(of: acceptance.response))
        for round in 0..<5 {
            let up: [UInt8] = Array("node says \(round)".utf8)
            #expect(try acceptance.session.open(try body(of: try session.seal(up))) == up)
            let down: [UInt8] = Array(repeating: UInt8(round), count: round * 100)
            #expect(try session.open(try body(of: try acceptance.session.seal(down))) == down)
        }
        #expect(session.sendCounter == 5 && session.receiveCounter == 5)
        #expect(acceptance.session.sendCounter == 5 && acceptance.session.receiveCounter == 5)
    }

    @Test func directionsUseDifferentKeys() throws {
        var pair = Pair()
        var (client, acceptance) = try pair.connect()
        // A frame the client sealed does not open as if the server had sealed it.
        let frame = try body(of: try client.seal([1, 2, 3]))
        #expect(throws: ControlChannelError.decryptionFailed) { try client.open(frame) }
        #expect(try acceptance.session.open(frame) == [1, 2, 3])
    }

    @Test func initiationToTheWrongServerKeyIsRefused() throws {
        var pair = Pair()
        var other = SeededRandom(seed: 99)
        var client = ControlClientHandshake(machine: pair.machine, serverKey: other.privateKey().publicKey)
        let initiation = try pair.initiation(&client, at: stamp(0))
        #expect(throws: ControlChannelError.badMAC) { try pair.accept(initiation) }
        #expect(pair.replayGuard.count == 0)
    }

    @Test func initiationWithValidMACButForeignStaticKeyFailsToOpen() throws {
        // Someone who knows only the server's public key can make mac1 but not the rest.
        var pair = Pair()
        var client = pair.client()
        var initiation = try pair.initiation(&client, at: stamp(0))
        initiation[Initiation.encryptedStatic] ^= 1
        let mac1 = initiation.withUnsafeBytes { bytes in
            withUnsafeBytes(of: pair.server.mac1Key) { Blake2s.mac(key: $0, UnsafeRawBufferPointer(rebasing: bytes[0..<Initiation.mac1])) }
        }
        for i in 0..<16 { initiation[Initiation.mac1 + i] = mac1[i] }
        #expect(throws: ControlChannelError.handshakeFailed) { try pair.accept(initiation) }
    }

    @Test func replayedInitiationIsRefusedAndAFreshOneAccepted() throws {
        var pair = Pair()
        var client = pair.client()
        let first = try pair.initiation(&client, at: stamp(10))
        _ = try pair.accept(first)
        #expect(throws: ControlChannelError.replayedHandshake) { try pair.accept(first, now: 2) }
        // Same timestamp, fresh ephemeral: still a replay as far as the clock says.
        let sameTime = try pair.initiation(&client, at: stamp(10))
        #expect(throws: ControlChannelError.replayedHandshake) { try pair.accept(sameTime, now: 3) }
        let older = try pair.initiation(&client, at: stamp(9))
        #expect(throws: ControlChannelError.replayedHandshake) { try pair.accept(older, now: 4) }
        #expect(pair.replayGuard.latest(for: pair.machine.publicKey) == stamp(10))

        let fresh = try pair.initiation(&client, at: stamp(11))
        let acceptance = try pair.accept(fresh, now: 5)
        var session = try client.finish(response: try body(of: acceptance.response))
        var server = acceptance.session
        #expect(try server.open(try body(of: try session.seal([7]))) == [7])
        #expect(pair.replayGuard.latest(for: pair.machine.publicKey) == stamp(11))
    }

    @Test func replayGuardIsPerMachineKey() throws {
        var a = Pair(seed: 1)
        var b = Pair(seed: 2)
        // Machine b talks to a's server, sharing a's replay guard.
        var clientB = ControlClientHandshake(machine: b.machine, serverKey: a.server.publicKey)
        _ = try a.connect(at: stamp(100))
        let fromB = try b.initiation(&clientB, at: stamp(50))
        let acceptance = try a.accept(fromB)
        #expect(acceptance.machineKey == b.machine.publicKey)
        #expect(a.replayGuard.count == 2)
    }

    @Test func refusedHandshakeLeavesTheGuardUnchanged() throws {
        var pair = Pair()
        var client = pair.client()
        var initiation = try pair.initiation(&client, at: stamp(5))
        initiation[Initiation.encryptedTimestamp] ^= 0x80
        // mac1 now fails first; recompute it so the timestamp's tag is what fails.
        let mac1 = initiation.withUnsafeBytes { bytes in
            withUnsafeBytes(of: pair.server.mac1Key) { Blake2s.mac(key: $0, UnsafeRawBufferPointer(rebasing: bytes[0..<Initiation.mac1])) }
        }
        for i in 0..<16 { initiation[Initiation.mac1 + i] = mac1[i] }
        #expect(throws: ControlChannelError.handshakeFailed) { try pair.accept(initiation) }
        #expect(pair.replayGuard.count == 0)
    }

    @Test func wrongSizesAndTypesAreRefused() throws {
        var pair = Pair()
        var client = pair.client()
        let initiation = try pair.initiation(&client, at: stamp(0))
        #expect(throws: ControlChannelError.badHandshakeSize) { try pair.accept(Array(initiation.dropLast())) }
        #expect(throws: ControlChannelError.badHandshakeSize) { try pair.accept(initiation + [0]) }
        #expect(throws: ControlChannelError.badHandshakeSize) { try pair.accept([]) }
        var wrongType = initiation
        wrongType[0] = 2
        #expect(throws: ControlChannelError.badHandshakeType) { try pair.accept(wrongType) }
        var reserved = initiation
        reserved[1] = 1
        #expect(throws: ControlChannelError.badHandshakeType) { try pair.accept(reserved) }

        let acceptance = try pair.accept(initiation)
        let response = try body(of: acceptance.response)
        #expect(throws: ControlChannelError.badHandshakeSize) { try client.finish(response: Array(response.dropLast())) }
        #expect(throws: ControlChannelError.badHandshakeSize) { try client.finish(response: initiation) }
        var responseType = response
        responseType[0] = 4
        #expect(throws: ControlChannelError.badHandshakeType) { try client.finish(response: responseType) }
        var badMAC = response
        badMAC[Response.mac1] ^= 1
        #expect(throws: ControlChannelError.badMAC) { try client.finish(response: badMAC) }
        // The refusals changed nothing: the genuine response still finishes.
        _ = try client.finish(response: response)
        #expect(throws: ControlChannelError.wrongState) { try client.finish(response: response) }
    }

    @Test func responseBeforeInitiationIsOutOfOrder() throws {
        var pair = Pair()
        var client = pair.client()
        var other = pair.client()
        let acceptance = try pair.accept(try pair.initiation(&other, at: stamp(0)))
        #expect(throws: ControlChannelError.wrongState) { try client.finish(response: try body(of: acceptance.response)) }
    }

    @Test func responseToAnotherInitiationFails() throws {
        var pair = Pair()
        var client = pair.client()
        let first = try pair.initiation(&client, at: stamp(0))
        _ = try pair.initiation(&client, at: stamp(1))
        // The server answers the first; the client now waits for an answer to the second.
        let acceptance = try pair.accept(first)
        #expect(throws: ControlChannelError.handshakeFailed) { try client.finish(response: try body(of: acceptance.response)) }
    }

    @Test func weakKeysAreRefused() throws {
        var pair = Pair()
        // The all-zero point is of low order: every shared secret with it is zero.
        var toWeakServer = ControlClientHandshake(machine: pair.machine, serverKey: PublicKey(bytes: Bytes32(repeating: 0)))
        #expect(throws: ControlChannelError.weakKey) {
            try toWeakServer.initiation(ephemeral: pair.random.privateKey(), timestamp: stamp(0), now: 1)
        }

        // A low-order ephemeral in an otherwise well-formed initiation (mac1 recomputed).
        var client = pair.client()
        var initiation = try pair.initiation(&client, at: stamp(0))
        for i in 0..<32 { initiation[Initiation.ephemeral + i] = 0 }
        let mac1 = initiation.withUnsafeBytes { bytes in
            withUnsafeBytes(of: pair.server.mac1Key) { Blake2s.mac(key: $0, UnsafeRawBufferPointer(rebasing: bytes[0..<Initiation.mac1])) }
        }
        for i in 0..<16 { initiation[Initiation.mac1 + i] = mac1[i] }
        #expect(throws: ControlChannelError.weakKey) { try pair.accept(initiation) }
    }

    @Test func errorsDescribeThemselves() {
        let errors: [ControlChannelError] = [
            .frameTooLarge(9_000_000), .badHandshakeSize, .badHandshakeType, .badMAC, .weakKey, .handshakeFailed,
            .replayedHandshake, .wrongState, .decryptionFailed, .counterExhausted, .sessionClosed, .badMessage("x"),
        ]
        let descriptions = Set(errors.map(\.description))
        #expect(descriptions.count == errors.count)
        #expect(ControlChannelError.frameTooLarge(9_000_000).description.contains("9000000"))
        #expect(ControlChannelError.badMessage("missing member 'type'").description.contains("missing member 'type'"))
    }
}
