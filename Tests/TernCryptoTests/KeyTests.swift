import Bytes
import Foundation
import TernCrypto
import Testing

@Suite("Keys")
struct KeyTests {
    init() throws { try Sodium.initialize() }

    /// Checks that `key` spells as 44 base64 / 64 hex characters that agree with
    /// Foundation and parse back to the same bytes.
    private func expectRoundTrips<K: Key32>(_ key: K) throws {
        let raw = array(key.bytes)
        #expect(key.base64.utf8.count == 44)
        #expect(key.base64 == Data(raw).base64EncodedString())
        #expect(key.hex.utf8.count == 64)
        #expect(key.hex == raw.map { String(format: "%02x", $0) }.joined())
        #expect(hex(try K(base64: key.base64).bytes) == hex(key.bytes))
        #expect(hex(try K(hex: key.hex).bytes) == hex(key.bytes))
        #expect(hex(try K(hex: key.hex.uppercased()).bytes) == hex(key.bytes))
    }

    // All four key types survive base64 and hex round trips (random and edge-value keys).
    @Test func roundTripsAllKeyTypes() throws {
        for _ in 0..<20 {
            try expectRoundTrips(PrivateKey.generate())
            try expectRoundTrips(PrivateKey.generate().publicKey)
            try expectRoundTrips(PresharedKey.generate())
            try expectRoundTrips(SymmetricKey(bytes: Random.bytes32()))
        }
        for fill: UInt8 in [0x00, 0xFF] {
            try expectRoundTrips(PublicKey(bytes: Bytes32(repeating: fill)))
            try expectRoundTrips(PresharedKey(bytes: Bytes32(repeating: fill)))
            try expectRoundTrips(SymmetricKey(bytes: Bytes32(repeating: fill)))
            try expectRoundTrips(PrivateKey(bytes: Bytes32(repeating: fill)))
        }
    }

    /// `wg genkey | tee priv | wg pubkey` pairs, computed with Python's cryptography
    /// (`X25519PrivateKey.from_private_bytes(k).public_key()`) for clamped keys.
    static let pairs = [
        ("AAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH2A=", "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw="),
        ("kFknKXaJXZs25siBdy/ftkfvHTQSS0FJ2A24vJ+JHVs=", "ZqMP4paXcSPJXnj/TMJ8IIoZcKqksqDmfsKwvgXk1GA="),
    ]

    // A base64 private key gives the base64 public key `wg pubkey` would print, and spells back unchanged.
    @Test(arguments: pairs)
    func wgPubkeyPair(privateBase64: String, publicBase64: String) throws {
        let privateKey = try PrivateKey(base64: privateBase64)
        #expect(privateKey.base64 == privateBase64)
        #expect(privateKey.publicKey.base64 == publicBase64)
        #expect(privateKey.publicKey.description == publicBase64)
        #expect(try PublicKey(base64: publicBase64) == privateKey.publicKey)
    }

    /// A valid 44-character key spelling to corrupt.
    static let good = "AAIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eH2A="

    // Malformed base64 keys throw the exact `EncodingError` instead of trapping.
    @Test func rejectsBadBase64() {
        let good = Self.good
        #expect(throws: EncodingError.wrongLength(expected: 44, actual: 43)) { try PublicKey(base64: String(good.dropLast())) }
        #expect(throws: EncodingError.wrongLength(expected: 44, actual: 45)) { try PublicKey(base64: good + "=") }
        #expect(throws: EncodingError.wrongLength(expected: 44, actual: 45)) { try PrivateKey(base64: good + "\n") }
        #expect(throws: EncodingError.wrongLength(expected: 44, actual: 0)) { try PresharedKey(base64: "") }
        #expect(throws: EncodingError.wrongLength(expected: 44, actual: 64)) {
            try PublicKey(base64: String(repeating: "a", count: 64))
        }
        // Invalid characters, reported where they are.
        #expect(throws: EncodingError.invalidCharacter(offset: 10)) { try PublicKey(base64: replacing(good, at: 10, with: "!")) }
        #expect(throws: EncodingError.invalidCharacter(offset: 0)) { try SymmetricKey(base64: replacing(good, at: 0, with: "-")) }
        #expect(throws: EncodingError.invalidCharacter(offset: 20)) { try PrivateKey(base64: replacing(good, at: 20, with: " ")) }
        // Bad padding: none, too much, or non-zero unused bits.
        #expect(throws: EncodingError.invalidPadding) { try PublicKey(base64: replacing(good, at: 43, with: "A")) }
        #expect(throws: EncodingError.invalidPadding) { try PublicKey(base64: replacing(good, at: 42, with: "=")) }
        #expect(throws: EncodingError.invalidPadding) { try PublicKey(base64: replacing(good, at: 42, with: "B")) }
        #expect(throws: EncodingError.invalidPadding) { try PublicKey(base64: replacing(good, at: 20, with: "=")) }
    }

    // Malformed hex keys throw the exact `EncodingError` instead of trapping.
    @Test func rejectsBadHex() {
        let good = String(repeating: "0123456789abcdef", count: 4)
        #expect(throws: EncodingError.wrongLength(expected: 64, actual: 63)) { try PublicKey(hex: String(good.dropLast())) }
        #expect(throws: EncodingError.wrongLength(expected: 64, actual: 65)) { try PublicKey(hex: good + "0") }
        #expect(throws: EncodingError.wrongLength(expected: 64, actual: 66)) { try PrivateKey(hex: "0x" + good) }
        #expect(throws: EncodingError.wrongLength(expected: 64, actual: 44)) { try PresharedKey(hex: Self.good) }
        #expect(throws: EncodingError.invalidCharacter(offset: 5)) { try PublicKey(hex: replacing(good, at: 5, with: "g")) }
        #expect(throws: EncodingError.invalidCharacter(offset: 63)) { try SymmetricKey(hex: replacing(good, at: 63, with: "z")) }
        #expect(throws: EncodingError.invalidCharacter(offset: 0)) { try PrivateKey(hex: replacing(good, at: 0, with: " ")) }
    }

    // Secret keys never print their bytes; a public key prints as base64.
    @Test func secretsAreRedacted() {
        let privateKey = PrivateKey.generate()
        for text in [privateKey.description, "\(privateKey)", String(describing: privateKey), String(reflecting: privateKey)] {
            #expect(!text.contains(privateKey.base64))
            #expect(!text.contains(privateKey.hex))
            #expect(!text.contains(String(privateKey.base64.prefix(8))))
        }
        let psk = PresharedKey.generate()
        #expect(!"\(psk)".contains(psk.base64) && !"\(psk)".contains(psk.hex))
        let symmetric = SymmetricKey(bytes: Random.bytes32())
        #expect(!"\(symmetric)".contains(symmetric.base64) && !"\(symmetric)".contains(symmetric.hex))
        #expect("\(privateKey.publicKey)" == privateKey.publicKey.base64)
    }

    // `isZero` is true only for all-zero bytes; one set bit anywhere makes it false.
    @Test func isZero() {
        #expect(PresharedKey.none.isZero)
        #expect(PresharedKey(bytes: Bytes32(repeating: 0)).isZero)
        #expect(PublicKey(bytes: Bytes32(repeating: 0)).isZero)
        #expect(!PrivateKey(bytes: Bytes32(repeating: 0)).isZero, "clamping sets bit 6 of byte 31")
        for i in 0..<32 {
            var bytes = Bytes32(repeating: 0)
            bytes[i] = 1 << UInt8(i % 8)
            #expect(!PresharedKey(bytes: bytes).isZero, "byte \(i)")
            #expect(!SymmetricKey(bytes: bytes).isZero, "byte \(i)")
        }
        #expect(PresharedKey.none.base64 == "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    }

    // `wipe()` zeroes every byte of each secret key type.
    @Test func wipeZeroes() {
        var privateKey = PrivateKey.generate()
        #expect(!privateKey.isZero)
        privateKey.wipe()
        #expect(privateKey.isZero)
        var psk = PresharedKey(bytes: Bytes32(repeating: 0xFF))
        psk.wipe()
        #expect(psk.isZero)
        #expect(psk == PresharedKey.none)
        var symmetric = SymmetricKey(bytes: Bytes32(repeating: 0x5A))
        symmetric.wipe()
        #expect(symmetric.isZero)
    }

    // Equality compares all 32 bytes; public keys hash consistently with equality.
    @Test func equality() throws {
        let a = PrivateKey.generate()
        #expect(a == PrivateKey(bytes: a.bytes))
        for i in [0, 15, 31] {
            var bytes = a.bytes
            bytes[i] ^= 0x10  // a bit clamping keeps, in bytes 0 and 31 alike
            #expect(a != PrivateKey(bytes: bytes), "byte \(i)")
            #expect(a.publicKey != PublicKey(bytes: { var b = a.publicKey.bytes; b[i] ^= 1; return b }()))
        }
        let set: Set<PublicKey> = [a.publicKey, try PublicKey(base64: a.publicKey.base64), PrivateKey.generate().publicKey]
        #expect(set.count == 2)
    }

    // `init(raw:)` takes the first 32 bytes; `withUnsafeBytes` exposes exactly the 32 key bytes.
    @Test func rawAccess() {
        let raw = pattern(40)
        let key = raw.withUnsafeBytes { SymmetricKey(raw: $0) }
        #expect(array(key.bytes) == Array(raw[0..<32]))
        #expect(key.withUnsafeBytes { Array($0) } == Array(raw[0..<32]))
    }
}

/// `text` with the character at `offset` replaced by `character`.
private func replacing(_ text: String, at offset: Int, with character: Character) -> String {
    var characters = Array(text)
    characters[offset] = character
    return String(characters)
}
