import CTern

/// 32 bytes held inline: keys, hashes, chaining keys.
public typealias Bytes32 = InlineArray<32, UInt8>

/// 16 bytes held inline: MACs, cookies, AEAD tags.
public typealias Bytes16 = InlineArray<16, UInt8>

/// Process-wide set-up of libsodium and small helpers for handling secrets.
public enum Sodium {
    /// Initialises libsodium, which picks the fastest implementations for this CPU.
    /// Call once at program start; calling it again is harmless.
    public static func initialize() throws(CryptoError) {
        guard sodium_init() >= 0 else { throw .libraryUnavailable }
    }
}

/// Overwrites `buffer` with zeros in a way the compiler may not optimise away.
public func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress else { return }
    sodium_memzero(base, buffer.count)
}

/// Overwrites a 32-byte secret with zeros.
public func wipe(_ secret: inout Bytes32) {
    withUnsafeMutableBytes(of: &secret) { wipe($0) }
}

/// Compares two buffers in time that depends only on their length.
/// Buffers of different lengths are unequal.
public func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return true }
    return sodium_memcmp(pa, pb, a.count) == 0
}

/// Compares two 32-byte values in constant time.
public func constantTimeEqual(_ a: Bytes32, _ b: Bytes32) -> Bool {
    withUnsafeBytes(of: a) { pa in withUnsafeBytes(of: b) { pb in constantTimeEqual(pa, pb) } }
}

/// Compares two 16-byte values in constant time.
public func constantTimeEqual(_ a: Bytes16, _ b: Bytes16) -> Bool {
    withUnsafeBytes(of: a) { pa in withUnsafeBytes(of: b) { pb in constantTimeEqual(pa, pb) } }
}

/// Cryptographically secure random bytes from the kernel (getrandom).
public enum Random {
    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        randombytes_buf(base, buffer.count)
    }

    /// A uniformly random 32-bit value.
    public static func uint32() -> UInt32 { randombytes_random() }

    /// A uniformly random value in `0..<upperBound` (`upperBound` > 0).
    public static func uniform(_ upperBound: UInt32) -> UInt32 { randombytes_uniform(upperBound) }

    /// 32 random bytes.
    public static func bytes32() -> Bytes32 {
        var value = Bytes32(repeating: 0)
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }
}
