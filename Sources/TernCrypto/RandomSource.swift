/// Where the protocol core gets its randomness: ephemeral keys, indices,
/// cookie secrets and nonces, jitter. The Linux node uses `SystemRandom`;
/// tests use a seeded generator so every run is the same.
public protocol RandomSource {
    /// Fills `buffer` with random bytes.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    /// A random 32-bit value.
    public mutating func uint32() -> UInt32 {
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }

    /// A random value in `0..<bound` (bound > 0), without modulo bias.
    public mutating func uniform(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "uniform needs a positive bound")
        let limit = UInt64.max - UInt64.max % bound
        while true {
            var value: UInt64 = 0
            withUnsafeMutableBytes(of: &value) { fill($0) }
            if value < limit { return value % bound }
        }
    }

    /// 32 random bytes.
    public mutating func bytes32() -> Bytes32 {
        var value = Bytes32(repeating: 0)
        withUnsafeMutableBytes(of: &value) { fill($0) }
        return value
    }

    /// A fresh X25519 private key.
    public mutating func privateKey() -> PrivateKey { PrivateKey(bytes: bytes32()) }
}

/// The kernel's random number generator (getrandom, through libsodium).
public struct SystemRandom: RandomSource {
    /// A handle; it holds no state.
    public init() {}

    /// Fills `buffer` from the kernel.
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) { Random.fill(buffer) }
}
