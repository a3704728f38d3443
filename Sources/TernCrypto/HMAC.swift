/// HMAC (RFC 2104) over BLAKE2s-256 with a 64-byte block, and the WireGuard
/// key derivation built on it.
public enum HMACBlake2s {
    /// HMAC(key, message). Keys longer than one block are hashed first.
    public static func authenticate(key: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer) -> Bytes32 {
        var block = InlineArray<64, UInt8>(repeating: 0)
        defer { withUnsafeMutableBytes(of: &block) { wipe($0) } }
        withUnsafeMutableBytes(of: &block) { pad in
            if key.count > Blake2s.blockLength {
                var hashed = Blake2s.hash(key)
                withUnsafeBytes(of: hashed) { pad.copyMemory(from: $0) }
                wipe(&hashed)
            } else {
                pad.copyMemory(from: key)
            }
            for i in 0..<pad.count { pad[i] ^= 0x36 }
        }
        var inner = Blake2s()
        withUnsafeBytes(of: &block) { inner.update($0) }
        inner.update(message)
        var innerDigest: Bytes32 = inner.finalize()
        defer { wipe(&innerDigest) }

        withUnsafeMutableBytes(of: &block) { pad in
            for i in 0..<pad.count { pad[i] ^= 0x36 ^ 0x5c }
        }
        var outer = Blake2s()
        withUnsafeBytes(of: &block) { outer.update($0) }
        outer.update(innerDigest)
        return outer.finalize()
    }
}

/// WireGuard's HKDF: KDF1, KDF2 and KDF3 (whitepaper §5.4, spec digest §1).
///
/// `prk = HMAC(ck, input); T1 = HMAC(prk, 0x01); T2 = HMAC(prk, T1 ‖ 0x02); T3 = HMAC(prk, T2 ‖ 0x03)`.
public enum KDF {
    /// T1 of HKDF(chainingKey, input).
    public static func derive1(chainingKey: UnsafeRawBufferPointer, _ input: UnsafeRawBufferPointer) -> Bytes32 {
        var t = derive(chainingKey: chainingKey, input, count: 1)
        defer { wipe(&t.1); wipe(&t.2) }
        return t.0
    }

    /// (T1, T2) of HKDF(chainingKey, input).
    public static func derive2(
        chainingKey: UnsafeRawBufferPointer, _ input: UnsafeRawBufferPointer
    ) -> (Bytes32, Bytes32) {
        var t = derive(chainingKey: chainingKey, input, count: 2)
        defer { wipe(&t.2) }
        return (t.0, t.1)
    }

    /// (T1, T2, T3) of HKDF(chainingKey, input).
    public static func derive3(
        chainingKey: UnsafeRawBufferPointer, _ input: UnsafeRawBufferPointer
    ) -> (Bytes32, Bytes32, Bytes32) {
        derive(chainingKey: chainingKey, input, count: 3)
    }

    private static func derive(
        chainingKey: UnsafeRawBufferPointer, _ input: UnsafeRawBufferPointer, count: Int
    ) -> (Bytes32, Bytes32, Bytes32) {
        var prk = HMACBlake2s.authenticate(key: chainingKey, input)
        defer { wipe(&prk) }
        var t1 = Bytes32(repeating: 0), t2 = Bytes32(repeating: 0), t3 = Bytes32(repeating: 0)
        // Each step's message is the previous output (absent for T1) and a counter byte.
        var message = InlineArray<33, UInt8>(repeating: 0)
        defer { withUnsafeMutableBytes(of: &message) { wipe($0) } }
        withUnsafeBytes(of: prk) { key in
            withUnsafeMutableBytes(of: &message) { m in
                m[0] = 1
                t1 = HMACBlake2s.authenticate(key: key, UnsafeRawBufferPointer(rebasing: m[0..<1]))
                guard count > 1 else { return }
                withUnsafeBytes(of: t1) { m.copyMemory(from: $0) }
                m[32] = 2
                t2 = HMACBlake2s.authenticate(key: key, UnsafeRawBufferPointer(m))
                guard count > 2 else { return }
                withUnsafeBytes(of: t2) { m.copyMemory(from: $0) }
                m[32] = 3
                t3 = HMACBlake2s.authenticate(key: key, UnsafeRawBufferPointer(m))
            }
        }
        return (t1, t2, t3)
    }
}
