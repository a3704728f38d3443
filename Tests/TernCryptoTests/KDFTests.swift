import SelfTest
import TernCrypto
import Testing
import TestSupport

@Suite("KDF")
struct KDFTests {
    // derive1/2/3 give T1, T2, T3 of each wireguard-go vector (spec §12).
    @Test(arguments: kdfVectors.indices)
    func wireGuardGoVector(index: Int) {
        let vector = kdfVectors[index]
        let key = Array(vector.key.utf8), input = Array(vector.input.utf8)
        key.withUnsafeBytes { k in
            input.withUnsafeBytes { i in
                #expect(hex(KDF.derive1(chainingKey: k, i)) == vector.t1)
                let two = KDF.derive2(chainingKey: k, i)
                #expect(hex(two.0) == vector.t1)
                #expect(hex(two.1) == vector.t2)
                let three = KDF.derive3(chainingKey: k, i)
                #expect(hex(three.0) == vector.t1)
                #expect(hex(three.1) == vector.t2)
                #expect(hex(three.2) == vector.t3)
            }
        }
        #expect(Set([vector.t1, vector.t2, vector.t3]).count == 3)
    }

    // With the real shapes (32-byte chaining key Ci, 32-byte input) the outputs match Python's HKDF.
    @Test func matchesPythonWithWireGuardShapes() throws {
        let ck = try unhex(WireGuardConstantVectors.initialChainingKey)
        let input = pattern(32)
        let three = ck.withUnsafeBytes { k in input.withUnsafeBytes { KDF.derive3(chainingKey: k, $0) } }
        // prk = hmac(ck, in); T1 = hmac(prk, 01); T2 = hmac(prk, T1‖02); T3 = hmac(prk, T2‖03) in Python.
        #expect(hex(three.0) == "6ff66e10ab4a55ac8144a867fcd9f8ee64d4bd6239223338cb3437cf085ab031")
        #expect(hex(three.1) == "203b22d63d63e35cebb9e40210cf8c1d7f90879428a4c766cda9ef34bb299398")
        #expect(hex(three.2) == "35a7b2fc3e4f59db341dbe588e3b75897980c463d5bbb855f8ed8134ff40133a")
    }

    // For random keys and inputs, derive1 and derive2 are prefixes of derive3,
    // and all three follow the HKDF definition built from HMAC.
    @Test func prefixesAgreeAndFollowDefinition() {
        var generator = SplitMix64(seed: 0x4B44_46)
        for round in 0..<50 {
            let key = randomBytes(Int.random(in: 0...100, using: &generator), using: &generator)
            let input = randomBytes(Int.random(in: 0...100, using: &generator), using: &generator)
            key.withUnsafeBytes { k in
                input.withUnsafeBytes { i in
                    let one = KDF.derive1(chainingKey: k, i)
                    let two = KDF.derive2(chainingKey: k, i)
                    let three = KDF.derive3(chainingKey: k, i)
                    #expect(hex(one) == hex(three.0), "round \(round)")
                    #expect(hex(two.0) == hex(three.0), "round \(round)")
                    #expect(hex(two.1) == hex(three.1), "round \(round)")

                    let prk = array(HMACBlake2s.authenticate(key: k, i))
                    func hmac(_ message: [UInt8]) -> [UInt8] {
                        prk.withUnsafeBytes { p in message.withUnsafeBytes { array(HMACBlake2s.authenticate(key: p, $0)) } }
                    }
                    let t1 = hmac([1]), t2 = hmac(t1 + [2]), t3 = hmac(t2 + [3])
                    #expect(hex(three.0) == hex(t1), "round \(round)")
                    #expect(hex(three.1) == hex(t2), "round \(round)")
                    #expect(hex(three.2) == hex(t3), "round \(round)")
                }
            }
        }
    }
}
