import Bytes
import TernCrypto

/// Known-answer tests of every primitive WireGuard needs, run by `ternd selftest`
/// on the shipped binary (natively or under qemu) and by the unit tests.
public enum SelfTest {
    /// Runs every known-answer test, calling `report` with each test's name and
    /// whether it passed. Returns the number of failures.
    public static func run(_ report: (_ name: String, _ passed: Bool) -> Void) -> Int {
        var failures = 0
        func check(_ name: String, _ passed: Bool) {
            if !passed { failures += 1 }
            report(name, passed)
        }

        for (i, vector) in blake2sVectors.enumerated() {
            check("blake2s vector " + String(i), blake2s(vector))
        }
        check("blake2s RFC 7693 appendix E", blake2sHashOfHashes() == blake2sSelfTestDigest)
        for (i, vector) in kdfVectors.enumerated() {
            check("wireguard kdf vector " + String(i), kdf(vector))
        }
        check("wireguard initial chaining key and hash", wireGuardConstants())
        check("wireguard mac1 key", mac1Key())
        for (i, vector) in x25519Vectors.enumerated() {
            check("x25519 RFC 7748 vector " + String(i), x25519(vector))
        }
        check("x25519 RFC 7748 iterated x1000", x25519Iterated())
        check("x25519 RFC 7748 diffie-hellman", x25519DiffieHellman())
        check("x25519 low-order point rejected", x25519RejectsLowOrderPoint())
        check("chacha20-poly1305 RFC 8439 seal", aead(chaChaPolyVector, extended: false, sealing: true))
        check("chacha20-poly1305 RFC 8439 open", aead(chaChaPolyVector, extended: false, sealing: false))
        check("chacha20-poly1305 forgery rejected", aeadRejectsForgery(chaChaPolyVector, extended: false))
        check("xchacha20-poly1305 draft vector seal", aead(xChaChaPolyVector, extended: true, sealing: true))
        check("xchacha20-poly1305 draft vector open", aead(xChaChaPolyVector, extended: true, sealing: false))
        check("xchacha20-poly1305 forgery rejected", aeadRejectsForgery(xChaChaPolyVector, extended: true))
        for (i, vector) in tai64nVectors.enumerated() {
            let stamp = TAI64N(unixSeconds: vector.seconds, nanoseconds: vector.nanoseconds)
            check("tai64n vector " + String(i), hex(stamp.bytes) == vector.bytes)
        }
        return failures
    }

    // MARK: - Individual tests

    /// One BLAKE2s vector, hashed in one call.
    public static func blake2s(_ vector: Blake2sVector) -> Bool {
        let input = bytes(vector.input)
        let key = bytes(vector.key)
        let expected = bytes(vector.digest)
        var out = [UInt8](repeating: 0, count: expected.count)
        var hasher: Blake2s
        if key.isEmpty {
            hasher = Blake2s(outputLength: expected.count)
        } else {
            hasher = key.withUnsafeBytes { Blake2s(outputLength: expected.count, key: $0) }
        }
        hasher.update(input)
        out.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        return out == expected
    }

    /// RFC 7693 Appendix E: hashes of many lengths, keyed and unkeyed, hashed together.
    public static func blake2sHashOfHashes() -> String {
        var outer = Blake2s()
        for outputLength in [16, 20, 28, 32] {
            for inputLength in [0, 3, 64, 65, 255, 1024] {
                let input = selfTestSequence(length: inputLength, seed: UInt32(inputLength))
                var digest = [UInt8](repeating: 0, count: outputLength)
                var plain = Blake2s(outputLength: outputLength)
                plain.update(input)
                digest.withUnsafeMutableBytes { plain.finalize(into: $0) }
                outer.update(digest)

                let key = selfTestSequence(length: outputLength, seed: UInt32(outputLength))
                var keyed = key.withUnsafeBytes { Blake2s(outputLength: outputLength, key: $0) }
                keyed.update(input)
                digest.withUnsafeMutableBytes { keyed.finalize(into: $0) }
                outer.update(digest)
            }
        }
        let result: Bytes32 = outer.finalize()
        return hex(result)
    }

    /// The Fibonacci-like byte sequence of RFC 7693 Appendix E.
    static func selfTestSequence(length: Int, seed: UInt32) -> [UInt8] {
        var a: UInt32 = 0xDEAD_4BAD &* seed
        var b: UInt32 = 1
        var out = [UInt8](repeating: 0, count: length)
        for i in 0..<length {
            let t = a &+ b
            a = b
            b = t
            out[i] = UInt8(t >> 24)
        }
        return out
    }

    /// One KDF vector: KDF1, KDF2 and KDF3 must all agree with the table.
    public static func kdf(_ vector: KDFVector) -> Bool {
        let key = Array(vector.key.utf8), input = Array(vector.input.utf8)
        return key.withUnsafeBytes { k in
            input.withUnsafeBytes { i in
                let one = KDF.derive1(chainingKey: k, i)
                let two = KDF.derive2(chainingKey: k, i)
                let three = KDF.derive3(chainingKey: k, i)
                return hex(one) == vector.t1
                    && hex(two.0) == vector.t1 && hex(two.1) == vector.t2
                    && hex(three.0) == vector.t1 && hex(three.1) == vector.t2 && hex(three.2) == vector.t3
            }
        }
    }

    /// Ci = HASH(CONSTRUCTION) and Hi = HASH(Ci ‖ IDENTIFIER).
    public static func wireGuardConstants() -> Bool {
        let construction = Array(WireGuardConstantVectors.construction.utf8)
        let identifier = Array(WireGuardConstantVectors.identifier.utf8)
        let ci = construction.withUnsafeBytes { Blake2s.hash($0) }
        let hi = withUnsafeBytes(of: ci) { c in identifier.withUnsafeBytes { Blake2s.hash(c, $0) } }
        return hex(ci) == WireGuardConstantVectors.initialChainingKey
            && hex(hi) == WireGuardConstantVectors.initialHash
    }

    /// mac1_key = HASH("mac1----" ‖ responder public key).
    public static func mac1Key() -> Bool {
        let label = Array("mac1----".utf8)
        let key = bytes(WireGuardConstantVectors.responderPublicKey)
        let digest = label.withUnsafeBytes { l in key.withUnsafeBytes { Blake2s.hash(l, $0) } }
        return hex(digest) == WireGuardConstantVectors.mac1Key
    }

    /// One RFC 7748 single-step vector.
    public static func x25519(_ vector: X25519Vector) -> Bool {
        let scalar = PrivateKey(bytes: bytes32(vector.scalar))
        let point = PublicKey(bytes: bytes32(vector.point))
        guard let result = try? X25519.sharedSecret(scalar, point) else { return false }
        return hex(result) == vector.result
    }

    /// RFC 7748 iterated test: `k, u = X25519(k, u), k`, 1,000 times from k = u = 9.
    public static func x25519Iterated() -> Bool {
        var k = Bytes32(repeating: 0)
        k[0] = 9
        var u = k
        for iteration in 1...1000 {
            guard let next = try? X25519.sharedSecret(PrivateKey(bytes: k), PublicKey(bytes: u)) else { return false }
            u = k
            k = next
            if iteration == 1, hex(k) != x25519IteratedAfter1 { return false }
        }
        return hex(k) == x25519IteratedAfter1000
    }

    /// RFC 7748 §6.1: both public keys and both sides of the shared secret.
    public static func x25519DiffieHellman() -> Bool {
        let v = X25519DiffieHellmanVector.self
        let alice = PrivateKey(bytes: bytes32(v.alicePrivate))
        let bob = PrivateKey(bytes: bytes32(v.bobPrivate))
        guard alice.publicKey.hex == v.alicePublic, bob.publicKey.hex == v.bobPublic,
              let ab = try? X25519.sharedSecret(alice, bob.publicKey),
              let ba = try? X25519.sharedSecret(bob, alice.publicKey)
        else { return false }
        return hex(ab) == v.shared && hex(ba) == v.shared
    }

    /// A low-order point (here u = 0) gives an all-zero secret, which must be refused.
    public static func x25519RejectsLowOrderPoint() -> Bool {
        let key = PrivateKey(bytes: bytes32(X25519DiffieHellmanVector.alicePrivate))
        do {
            _ = try X25519.sharedSecret(key, PublicKey(bytes: Bytes32(repeating: 0)))
            return false
        } catch {
            return error == .weakPublicKey
        }
    }

    /// Seals the plaintext in place and compares with ciphertext ‖ tag, or opens
    /// ciphertext ‖ tag in place and compares with the plaintext.
    public static func aead(_ vector: AEADVector, extended: Bool, sealing: Bool) -> Bool {
        let key = SymmetricKey(bytes: bytes32(vector.key))
        let nonce = bytes(vector.nonce)
        let ad = bytes(vector.additionalData)
        let plaintext = bytes(vector.plaintext)
        let sealed = bytes(vector.ciphertext) + bytes(vector.tag)
        var buffer = sealing ? plaintext + [UInt8](repeating: 0, count: 16) : sealed
        let ok = buffer.withUnsafeMutableBytes { (buffer) -> Bool in
            ad.withUnsafeBytes { ad in
                nonce.withUnsafeBytes { nonce in
                    if sealing {
                        let length = extended
                            ? XChaChaPoly.seal(buffer, plaintextLength: plaintext.count, nonce: nonce, key: key,
                                               additionalData: ad)
                            : ChaChaPoly.seal(buffer, plaintextLength: plaintext.count, nonce: nonce12(nonce),
                                              key: key, additionalData: ad)
                        return length == sealed.count
                    }
                    let length = extended
                        ? try? XChaChaPoly.open(buffer, sealedLength: sealed.count, nonce: nonce, key: key,
                                                additionalData: ad)
                        : try? ChaChaPoly.open(buffer, sealedLength: sealed.count, nonce: nonce12(nonce),
                                               key: key, additionalData: ad)
                    return length == plaintext.count
                }
            }
        }
        return ok && (sealing ? buffer == sealed : Array(buffer[0..<plaintext.count]) == plaintext)
    }

    /// Flipping any one bit of the ciphertext, the tag or the additional data must fail to open.
    public static func aeadRejectsForgery(_ vector: AEADVector, extended: Bool) -> Bool {
        let key = SymmetricKey(bytes: bytes32(vector.key))
        let nonce = bytes(vector.nonce)
        let sealed = bytes(vector.ciphertext) + bytes(vector.tag)
        let ad = bytes(vector.additionalData)
        for position in [0, sealed.count / 2, sealed.count - 1, sealed.count + ad.count - 1] {
            var buffer = sealed
            var tamperedAD = ad
            if position < sealed.count { buffer[position] ^= 1 } else { tamperedAD[position - sealed.count] ^= 1 }
            let opened = buffer.withUnsafeMutableBytes { buffer in
                tamperedAD.withUnsafeBytes { ad in
                    nonce.withUnsafeBytes { nonce in
                        extended
                            ? (try? XChaChaPoly.open(buffer, sealedLength: sealed.count, nonce: nonce, key: key,
                                                     additionalData: ad)) != nil
                            : (try? ChaChaPoly.open(buffer, sealedLength: sealed.count, nonce: nonce12(nonce),
                                                    key: key, additionalData: ad)) != nil
                    }
                }
            }
            if opened { return false }
        }
        return true
    }

    // MARK: - Helpers

    /// Decodes table hex; the tables are constants, so bad hex is a programming error.
    static func bytes(_ text: String) -> [UInt8] {
        do { return try Hex.decode(text) } catch { fatalError("bad hex in a known-answer table") }
    }

    static func bytes32(_ text: String) -> Bytes32 {
        let raw = bytes(text)
        precondition(raw.count == 32, "expected 32 bytes in a known-answer table")
        var out = Bytes32(repeating: 0)
        for i in 0..<32 { out[i] = raw[i] }
        return out
    }

    static func nonce12(_ raw: UnsafeRawBufferPointer) -> InlineArray<12, UInt8> {
        var out = InlineArray<12, UInt8>(repeating: 0)
        for i in 0..<12 { out[i] = raw[i] }
        return out
    }

    static func hex<let n: Int>(_ value: InlineArray<n, UInt8>) -> String {
        withUnsafeBytes(of: value) { Hex.encode($0) }
    }
}
