import TernCrypto
import Testing

@Suite("HMAC-BLAKE2s")
struct HMACTests {
    /// Computed with Python: `hmac.new(key, msg, hashlib.blake2s).hexdigest()`, where
    /// `pattern(n) = bytes(i % 251 for i in range(n))`.
    static let python: [(key: [UInt8], message: [UInt8], mac: String)] = [
        ([], [], "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd"),
        (Array("key".utf8), Array("The quick brown fox jumps over the lazy dog".utf8),
         "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0"),
        (pattern(32), pattern(100), "a81c95080ba2a7c4ed1b7b4c21dec2c4fd6dc9f03ff37b6d65289dc95a7d1ef1"),
        // A key of exactly one block is used as is.
        (pattern(64), Array("exactly one block of key".utf8),
         "46b3ef5a0205ee5cd6f010fcd146a5b76e16e2172d4da3d55e3e134c7178afa1"),
        // A key one byte longer than a block is hashed first.
        (pattern(65), Array("one byte more than a block".utf8),
         "7840519c6d9651dac4f047ab9dfb83ba38c619ea6b759ada92d316d41e56f4d0"),
        (pattern(200), pattern(300), "d192aa53f076d31b9bd63e1186057c2401bf4f0bf817a2ddca92dc15e4e966dd"),
    ]

    // `authenticate` agrees with Python's hmac module over BLAKE2s, for empty, short, 64- and >64-byte keys.
    @Test(arguments: python)
    func matchesPython(key: [UInt8], message: [UInt8], mac: String) {
        let result = key.withUnsafeBytes { k in message.withUnsafeBytes { HMACBlake2s.authenticate(key: k, $0) } }
        #expect(hex(result) == mac, "key length \(key.count)")
    }

    // A key longer than a block acts exactly like its BLAKE2s-256 hash (RFC 2104).
    @Test func longKeyEqualsItsHash() {
        let key = pattern(100), message = pattern(50)
        let hashedKey = array(key.withUnsafeBytes { Blake2s.hash($0) })
        let long = key.withUnsafeBytes { k in message.withUnsafeBytes { HMACBlake2s.authenticate(key: k, $0) } }
        let short = hashedKey.withUnsafeBytes { k in message.withUnsafeBytes { HMACBlake2s.authenticate(key: k, $0) } }
        #expect(hex(long) == hex(short))
    }

    // Changing one bit of the key or of the message changes the MAC.
    @Test func dependsOnKeyAndMessage() {
        let key = pattern(32), message = pattern(40)
        var otherKey = key
        otherKey[31] ^= 1
        var otherMessage = message
        otherMessage[0] ^= 0x80
        func mac(_ k: [UInt8], _ m: [UInt8]) -> String {
            hex(k.withUnsafeBytes { kb in m.withUnsafeBytes { HMACBlake2s.authenticate(key: kb, $0) } })
        }
        #expect(mac(key, message) != mac(otherKey, message))
        #expect(mac(key, message) != mac(key, otherMessage))
    }
}
