/// BLAKE2s (RFC 7693): 32-bit words, 10 rounds, 64-byte blocks, 1...32-byte digests.
///
/// WireGuard's HASH is unkeyed BLAKE2s-256 and its MAC is keyed BLAKE2s-128.
/// libsodium has only BLAKE2b, so this is written here. The state lives
/// inline; hashing allocates nothing.
public struct Blake2s {
    /// Bytes per compression block.
    public static let blockLength = 64

    private static let iv: InlineArray<8, UInt32> = [
        0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A,
        0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19,
    ]

    /// Message word order for each of the ten rounds.
    private static let sigma: InlineArray<160, UInt8> = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
        11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
        7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
        9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
        2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
        12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
        13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
        6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
        10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
    ]

    private var h: InlineArray<8, UInt32>
    private var buffer = InlineArray<64, UInt8>(repeating: 0)
    private var buffered = 0
    private var byteCount: UInt64 = 0
    /// The digest length in bytes.
    public let outputLength: Int

    /// Starts an unkeyed hash with an `outputLength`-byte digest (1...32).
    public init(outputLength: Int = 32) {
        precondition(outputLength >= 1 && outputLength <= 32, "BLAKE2s digest length must be 1...32")
        self.outputLength = outputLength
        h = Self.iv
        h[0] ^= 0x0101_0000 ^ UInt32(outputLength)
    }

    /// Starts a keyed hash (MAC) with a 1...32-byte key and an `outputLength`-byte digest.
    public init(outputLength: Int = 32, key: UnsafeRawBufferPointer) {
        precondition(key.count >= 1 && key.count <= 32, "BLAKE2s key length must be 1...32")
        self.init(outputLength: outputLength)
        h[0] ^= UInt32(key.count) << 8
        // The zero-padded key is the first block; it is compressed lazily like any block.
        withUnsafeMutableBytes(of: &buffer) { block in
            block.copyMemory(from: key)
        }
        buffered = Self.blockLength
    }

    /// Absorbs `data`.
    public mutating func update(_ data: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < data.count {
            // Never compress early: the buffered block may turn out to be the last.
            if buffered == Self.blockLength {
                byteCount &+= UInt64(Self.blockLength)
                compress(last: false)
                buffered = 0
            }
            let take = min(Self.blockLength - buffered, data.count - offset)
            withUnsafeMutableBytes(of: &buffer) { block in
                UnsafeMutableRawBufferPointer(rebasing: block[buffered..<buffered + take])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: data[offset..<offset + take]))
            }
            buffered += take
            offset += take
        }
    }

    /// Absorbs `bytes`.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Absorbs the 32 bytes of `value`.
    public mutating func update(_ value: Bytes32) {
        withUnsafeBytes(of: value) { update($0) }
    }

    /// Finishes the hash and writes `outputLength` bytes to the start of `output`.
    /// The hasher must not be used afterwards.
    public mutating func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= outputLength, "BLAKE2s output buffer too small")
        byteCount &+= UInt64(buffered)
        withUnsafeMutableBytes(of: &buffer) { block in
            _ = block[buffered...].initializeMemory(as: UInt8.self, repeating: 0)
        }
        compress(last: true)
        for i in 0..<outputLength {
            output[i] = UInt8(truncatingIfNeeded: h[i / 4] >> (8 * UInt32(i % 4)))
        }
        // The state now holds the digest and the buffer the tail of the input.
        withUnsafeMutableBytes(of: &h) { wipe($0) }
        withUnsafeMutableBytes(of: &buffer) { wipe($0) }
    }

    /// Finishes a 32-byte hash.
    public mutating func finalize() -> Bytes32 {
        precondition(outputLength == 32, "finalize() -> Bytes32 needs a 32-byte digest")
        var digest = Bytes32(repeating: 0)
        withUnsafeMutableBytes(of: &digest) { finalize(into: $0) }
        return digest
    }

    /// Finishes a 16-byte MAC.
    public mutating func finalize() -> Bytes16 {
        precondition(outputLength == 16, "finalize() -> Bytes16 needs a 16-byte digest")
        var digest = Bytes16(repeating: 0)
        withUnsafeMutableBytes(of: &digest) { finalize(into: $0) }
        return digest
    }

    private mutating func compress(last: Bool) {
        var m = InlineArray<16, UInt32>(repeating: 0)
        withUnsafeBytes(of: &buffer) { block in
            for i in 0..<16 {
                m[unchecked: i] = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
            }
        }
        var v = InlineArray<16, UInt32>(repeating: 0)
        for i in 0..<8 {
            v[unchecked: i] = h[unchecked: i]
            v[unchecked: i + 8] = Self.iv[unchecked: i]
        }
        v[unchecked: 12] ^= UInt32(truncatingIfNeeded: byteCount)
        v[unchecked: 13] ^= UInt32(truncatingIfNeeded: byteCount >> 32)
        if last { v[unchecked: 14] = ~v[unchecked: 14] }

        for round in 0..<10 {
            let s = round * 16
            @inline(__always) func word(_ i: Int) -> UInt32 { m[unchecked: Int(Self.sigma[unchecked: s + i])] }
            Self.mix(&v, 0, 4, 8, 12, word(0), word(1))
            Self.mix(&v, 1, 5, 9, 13, word(2), word(3))
            Self.mix(&v, 2, 6, 10, 14, word(4), word(5))
            Self.mix(&v, 3, 7, 11, 15, word(6), word(7))
            Self.mix(&v, 0, 5, 10, 15, word(8), word(9))
            Self.mix(&v, 1, 6, 11, 12, word(10), word(11))
            Self.mix(&v, 2, 7, 8, 13, word(12), word(13))
            Self.mix(&v, 3, 4, 9, 14, word(14), word(15))
        }
        for i in 0..<8 {
            h[unchecked: i] ^= v[unchecked: i] ^ v[unchecked: i + 8]
        }
    }

    /// The G function: mixes two message words into four state words.
    @inline(__always)
    private static func mix(
        _ v: inout InlineArray<16, UInt32>, _ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt32, _ y: UInt32
    ) {
        v[unchecked: a] = v[unchecked: a] &+ v[unchecked: b] &+ x
        v[unchecked: d] = rotateRight(v[unchecked: d] ^ v[unchecked: a], 16)
        v[unchecked: c] = v[unchecked: c] &+ v[unchecked: d]
        v[unchecked: b] = rotateRight(v[unchecked: b] ^ v[unchecked: c], 12)
        v[unchecked: a] = v[unchecked: a] &+ v[unchecked: b] &+ y
        v[unchecked: d] = rotateRight(v[unchecked: d] ^ v[unchecked: a], 8)
        v[unchecked: c] = v[unchecked: c] &+ v[unchecked: d]
        v[unchecked: b] = rotateRight(v[unchecked: b] ^ v[unchecked: c], 7)
    }

    @inline(__always)
    private static func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
}

extension Blake2s {
    /// HASH(data): unkeyed BLAKE2s-256.
    public static func hash(_ data: UnsafeRawBufferPointer) -> Bytes32 {
        var hasher = Blake2s()
        hasher.update(data)
        return hasher.finalize()
    }

    /// HASH(a ‖ b): unkeyed BLAKE2s-256 of a concatenation, without building it.
    public static func hash(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bytes32 {
        var hasher = Blake2s()
        hasher.update(a)
        hasher.update(b)
        return hasher.finalize()
    }

    /// MAC(key, data): keyed BLAKE2s with a 16-byte output (WireGuard's mac1, mac2 and cookie).
    public static func mac(key: UnsafeRawBufferPointer, _ data: UnsafeRawBufferPointer) -> Bytes16 {
        var hasher = Blake2s(outputLength: 16, key: key)
        hasher.update(data)
        return hasher.finalize()
    }
}
