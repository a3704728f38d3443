import Bytes
import TernCrypto
import TestSupport

/// The lowercase hex spelling of an inline byte array, so results compare as strings.
func hex<let n: Int>(_ value: InlineArray<n, UInt8>) -> String {
    withUnsafeBytes(of: value) { Hex.encode($0) }
}

/// The lowercase hex spelling of a byte array.
func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

/// Decodes hex written in a test.
func unhex(_ text: String) throws -> [UInt8] { try Hex.decode(text) }

/// Copies exactly 32 bytes into a `Bytes32`.
func bytes32(_ bytes: [UInt8]) -> Bytes32 {
    precondition(bytes.count == 32, "bytes32 needs 32 bytes")
    var out = Bytes32(repeating: 0)
    for i in 0..<32 { out[i] = bytes[i] }
    return out
}

/// Decodes 64 hex characters into a `Bytes32`.
func bytes32(hex text: String) throws -> Bytes32 { bytes32(try unhex(text)) }

/// The byte array behind an inline array.
func array<let n: Int>(_ value: InlineArray<n, UInt8>) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

/// The simple pattern used for the Python cross-check constants: byte i is `i % 251`.
func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }

/// The 32-byte key used for the keyed Python cross-checks: byte i is `(7 i + 3) mod 256`.
let patternKey: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: 7 * $0 + 3) }

/// One-shot BLAKE2s of `input`, keyed if `key` is not empty.
func blake2s(_ input: [UInt8], key: [UInt8] = [], outputLength: Int = 32) -> [UInt8] {
    var hasher = key.isEmpty
        ? Blake2s(outputLength: outputLength)
        : key.withUnsafeBytes { Blake2s(outputLength: outputLength, key: $0) }
    hasher.update(input)
    var out = [UInt8](repeating: 0, count: outputLength)
    out.withUnsafeMutableBytes { hasher.finalize(into: $0) }
    return out
}

/// `count` bytes from the kernel's random source (for keys and nonces).
func secureRandomBytes(_ count: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes { Random.fill($0) }
    return out
}
