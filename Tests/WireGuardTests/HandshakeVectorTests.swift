import Bytes
import Testing
import TernCrypto
@testable import WireGuard

/// The deterministic full handshake of the spec digest (§12), byte for byte:
/// fixed static and ephemeral keys, indices and timestamp, no preshared key.
@Suite struct HandshakeVectorTests {
    static func key(from start: UInt8) -> PrivateKey {
        var bytes = Bytes32(repeating: 0)
        for i in 0..<32 { bytes[i] = start + UInt8(i) }
        return PrivateKey(bytes: bytes)
    }

    let initiator = StaticIdentity(privateKey: key(from: 0x00))
    let responder = StaticIdentity(privateKey: key(from: 0x20))
    let initiatorEphemeral = key(from: 0x40)
    let responderEphemeral = key(from: 0x60)
    let timestamp = TAI64N(unixSeconds: 1_700_000_000, nanoseconds: 0)

    static let initiation =
        "010000004433221179a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51af0225eb421886af8f54fb31289d49dcd82b0f6f3279d40d7cff913fece0c64ad226eef3320755b393b72f16842c8d7ee78a74e937e3f2a828ff4ecc11547a9c7d1ee1b22fedf3178ecbaddb3973670a77b16f58c9b44871270be911000000000000000000000000000000000"
    static let response =
        "020000008877665544332211675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f3e676cdd223c411760a4043797ce52d263626d5d194c81fc30f23c760b8a21b000000000000000000000000000000000"
    static let t1 = "8c467a49ee5feffc8b390fba6ff460b5d66abf66f5e4bf9e0a5612b256498238"
    static let t2 = "eb356022624730ae787d7fccc635655d1b1b1fb7d81f299043b0ce85e3a3a4b4"
    static let keepalive = "04000000887766550000000000000000291241ac6c6d0b472543a7c56d5dbcd0"

    init() throws { try Sodium.initialize() }

    @Test func publicKeysMatchTheVector() {
        #expect(initiator.publicKey.hex == "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f")
        #expect(responder.publicKey.hex == "358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254")
        #expect(initiatorEphemeral.publicKey.hex == "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a")
        #expect(responderEphemeral.publicKey.hex == "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f")
        #expect(Hex.encode(withUnsafeBytes(of: PeerKeys(identity: initiator, remoteStatic: responder.publicKey).mac1Key) { Array($0) })
                == "027b1cb8c420c32c942bea8ddb43ca7d20779ec4bd55578bfa5c3d7936c91d2f")
    }

    @Test func fullHandshakeMatchesTheVectorByteForByte() throws {
        let toResponder = PeerKeys(identity: initiator, remoteStatic: responder.publicKey)
        let toInitiator = PeerKeys(identity: responder, remoteStatic: initiator.publicKey)

        // Initiator: initiation body, then mac1 (no cookie, so mac2 is zero).
        var initiatorHandshake = Handshake()
        var initiatorCookie = PeerCookie()
        var initiation = [UInt8](repeating: 0, count: Initiation.size)
        try initiation.withUnsafeMutableBytes { message in
            try initiatorHandshake.createInitiation(
                into: message, identity: initiator, peer: toResponder, ephemeral: initiatorEphemeral,
                localIndex: 0x1122_3344, timestamp: timestamp)
            initiatorCookie.addMACs(to: message, peer: toResponder, now: 0)
        }
        #expect(Hex.encode(initiation) == Self.initiation)
        #expect(initiatorHandshake.state == .createdInitiation)

        // Responder: check mac1, open, consume, respond.
        let checker = CookieChecker()
        var responderHandshake = Handshake()
        var response = [UInt8](repeating: 0, count: Response.size)
        let responderKeys = try initiation.withUnsafeBytes { message in
            #expect(checker.checkMAC1(message, identity: responder))
            let opened = try Handshake.openInitiation(message, identity: responder)
            #expect(opened.initiatorStatic == initiator.publicKey)
            #expect(opened.senderIndex == 0x1122_3344)
            try responderHandshake.consumeInitiation(opened, message: message, peer: toInitiator, now: 0)
            #expect(responderHandshake.latestTimestamp == timestamp)
            var cookie = PeerCookie()
            return try response.withUnsafeMutableBytes { out in
                let keys = try responderHandshake.createResponse(
                    into: out, peer: toInitiator, ephemeral: responderEphemeral, localIndex: 0x5566_7788)
                cookie.addMACs(to: out, peer: toInitiator, now: 0)
                return keys
            }
        }
        #expect(Hex.encode(response) == Self.response)
        #expect(responderHandshake.state == .zeroed)

        // Initiator: check mac1, consume, derive.
        let initiatorKeys = try response.withUnsafeBytes { message in
            #expect(checker.checkMAC1(message, identity: initiator))
            return try initiatorHandshake.consumeResponse(message, identity: initiator, peer: toResponder)
        }
        #expect(initiatorKeys.sending.hex == Self.t1)
        #expect(initiatorKeys.receiving.hex == Self.t2)
        #expect(responderKeys.sending.hex == Self.t2)
        #expect(responderKeys.receiving.hex == Self.t1)
        #expect(initiatorKeys.remoteIndex == 0x5566_7788 && initiatorKeys.localIndex == 0x1122_3344)
        #expect(responderKeys.remoteIndex == 0x1122_3344 && responderKeys.localIndex == 0x5566_7788)
        #expect(initiatorKeys.isInitiator && !responderKeys.isInitiator)

        // The first keepalive: header plus the tag of an empty plaintext at counter 0.
        var keepalive = [UInt8](repeating: 0, count: Transport.minimumSize)
        keepalive.withUnsafeMutableBytes { out in
            out.storeBytes(of: MessageType.transport.rawValue.littleEndian, toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: initiatorKeys.remoteIndex.littleEndian, toByteOffset: Transport.receiverIndex, as: UInt32.self)
            out.storeBytes(of: UInt64(0), toByteOffset: Transport.counter, as: UInt64.self)
            ChaChaPoly.seal(UnsafeMutableRawBufferPointer(rebasing: out[Transport.headerSize...]), plaintextLength: 0,
                            counter: 0, key: initiatorKeys.sending)
        }
        #expect(Hex.encode(keepalive) == Self.keepalive)
    }
}
