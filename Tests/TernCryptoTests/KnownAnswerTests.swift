import SelfTest
import TernCrypto
import Testing

/// The shared known-answer tables, run as a whole (as `ternd selftest` does) and one by one
/// (so that a failing vector is named in the test report).
@Suite("Known answers")
struct KnownAnswerTests {
    init() throws { try Sodium.initialize() }

    // `SelfTest.run` reports every check as passed, reports each once, and runs them all.
    @Test func selfTestRunPassesEveryCheck() {
        var names: [String] = []
        var failed: [String] = []
        let failures = SelfTest.run { name, passed in
            names.append(name)
            if !passed { failed.append(name) }
        }
        #expect(failures == 0)
        #expect(failed == [])
        #expect(failures == failed.count)
        // 8 BLAKE2s + appendix E + 3 KDF + constants + mac1 key + 2 X25519 + iterated + DH
        // + low order + 6 AEAD + 2 TAI64N.
        let expected = blake2sVectors.count + 1 + kdfVectors.count + 2 + x25519Vectors.count + 3 + 6
            + tai64nVectors.count
        #expect(expected >= 27)
        #expect(names.count == expected)
        #expect(Set(names).count == names.count, "check names must be unique")
    }

    // Each BLAKE2s vector (RFC 7693 B, kernel self-test, keyed KAT) hashes to its digest.
    @Test(arguments: blake2sVectors.indices)
    func blake2sVector(index: Int) {
        #expect(SelfTest.blake2s(blake2sVectors[index]))
    }

    // RFC 7693 appendix E: the hash of all self-test digests is the published one.
    @Test func blake2sAppendixE() {
        #expect(SelfTest.blake2sHashOfHashes() == blake2sSelfTestDigest)
        #expect(blake2sSelfTestDigest == "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe")
    }

    // Each wireguard-go KDF vector gives T1, T2, T3 through KDF1, KDF2 and KDF3.
    @Test(arguments: kdfVectors.indices)
    func kdfVector(index: Int) {
        #expect(SelfTest.kdf(kdfVectors[index]))
    }

    // Ci, Hi and a mac1 key derived with HASH match the spec.
    @Test func wireGuardConstants() {
        #expect(SelfTest.wireGuardConstants())
        #expect(SelfTest.mac1Key())
    }

    // Each RFC 7748 §5.2 single-step vector gives its result.
    @Test(arguments: x25519Vectors.indices)
    func x25519Vector(index: Int) {
        #expect(SelfTest.x25519(x25519Vectors[index]))
    }

    // RFC 7748 §5.2 iterated (1 and 1,000 rounds), §6.1 Diffie-Hellman, and a low-order point.
    @Test func x25519Procedures() {
        #expect(SelfTest.x25519Iterated())
        #expect(SelfTest.x25519DiffieHellman())
        #expect(SelfTest.x25519RejectsLowOrderPoint())
    }

    // RFC 8439 §2.8.2 seals and opens in place, and forgeries are refused.
    @Test func chaChaPolyRFC8439() {
        #expect(SelfTest.aead(chaChaPolyVector, extended: false, sealing: true))
        #expect(SelfTest.aead(chaChaPolyVector, extended: false, sealing: false))
        #expect(SelfTest.aeadRejectsForgery(chaChaPolyVector, extended: false))
    }

    // The XChaCha20-Poly1305 draft vector seals and opens in place, and forgeries are refused.
    @Test func xChaChaPolyDraft() {
        #expect(SelfTest.aead(xChaChaPolyVector, extended: true, sealing: true))
        #expect(SelfTest.aead(xChaChaPolyVector, extended: true, sealing: false))
        #expect(SelfTest.aeadRejectsForgery(xChaChaPolyVector, extended: true))
    }

    // Each TAI64N vector encodes to its 12 bytes.
    @Test(arguments: tai64nVectors.indices)
    func tai64nVector(index: Int) {
        let vector = tai64nVectors[index]
        let stamp = TAI64N(unixSeconds: vector.seconds, nanoseconds: vector.nanoseconds)
        #expect(hex(stamp.bytes) == vector.bytes)
    }
}
