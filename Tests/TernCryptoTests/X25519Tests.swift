import TernCrypto
import Testing
import TestSupport

@Suite("X25519")
struct X25519Tests {
    init() throws { try Sodium.initialize() }

    // Two random key pairs agree on the same non-zero secret; a third party gets another.
    @Test func diffieHellmanIsSymmetric() throws {
        for _ in 0..<20 {
            let alice = PrivateKey.generate(), bob = PrivateKey.generate(), eve = PrivateKey.generate()
            let ab = try X25519.sharedSecret(alice, bob.publicKey)
            let ba = try X25519.sharedSecret(bob, alice.publicKey)
            let ae = try X25519.sharedSecret(alice, eve.publicKey)
            #expect(hex(ab) == hex(ba))
            #expect(hex(ab) != hex(ae))
            #expect(array(ab) != [UInt8](repeating: 0, count: 32))
            #expect(alice.publicKey != bob.publicKey)
        }
    }

    // `PrivateKey(bytes:)` clears bits 0-2 of byte 0 and bit 7 of byte 31, sets bit 6 of byte 31,
    // and leaves every other bit alone.
    @Test func clampsOnCreation() {
        let ones = PrivateKey(bytes: Bytes32(repeating: 0xFF))
        #expect(ones.bytes[0] == 0xF8)
        #expect(ones.bytes[31] == 0x7F)
        for i in 1..<31 { #expect(ones.bytes[i] == 0xFF) }

        let zeros = PrivateKey(bytes: Bytes32(repeating: 0))
        #expect(zeros.bytes[0] == 0x00)
        #expect(zeros.bytes[31] == 0x40)
        for i in 1..<31 { #expect(zeros.bytes[i] == 0x00) }

        var generator = SplitMix64(seed: 0xC1A3)
        for _ in 0..<100 {
            let raw = randomBytes(32, using: &generator)
            let key = PrivateKey(bytes: bytes32(raw))
            #expect(key.bytes[0] == raw[0] & 0xF8)
            #expect(key.bytes[31] == (raw[31] & 0x7F) | 0x40)
            #expect(Array(array(key.bytes)[1..<31]) == Array(raw[1..<31]))
            // Clamping is idempotent.
            #expect(hex(PrivateKey(bytes: key.bytes).bytes) == hex(key.bytes))
        }
    }

    // Generated keys are clamped too.
    @Test func generatedKeysAreClamped() {
        for _ in 0..<20 {
            let key = PrivateKey.generate()
            #expect(key.bytes[0] & 0x07 == 0)
            #expect(key.bytes[31] & 0x80 == 0)
            #expect(key.bytes[31] & 0x40 != 0)
        }
    }

    /// Points whose shared secret is all zero: u = 0, 1, the two order-8 points, p − 1, p, p + 1,
    /// and u = 0 and 1 with the (ignored) top bit set.
    static let lowOrderPoints = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "0100000000000000000000000000000000000000000000000000000000000080",
    ]

    // A low-order public key is refused with `.weakPublicKey` (Python's cryptography refuses them too).
    @Test(arguments: lowOrderPoints)
    func rejectsLowOrderPoint(point: String) throws {
        let peer = PublicKey(bytes: try bytes32(hex: point))
        for _ in 0..<4 {
            #expect(throws: CryptoError.weakPublicKey) { try X25519.sharedSecret(PrivateKey.generate(), peer) }
        }
    }

    // The public key of a fixed private key matches Python's
    // `X25519PrivateKey.from_private_bytes(k).public_key()`, clamped or not.
    @Test func publicKeyMatchesPython() throws {
        let unclamped = try bytes32(hex: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
        let expected = "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c"
        let key = PrivateKey(bytes: unclamped)
        #expect(hex(key.bytes) == "0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60")
        #expect(key.publicKey.hex == expected)
        #expect(X25519.publicKey(of: key).hex == expected)
    }
}
