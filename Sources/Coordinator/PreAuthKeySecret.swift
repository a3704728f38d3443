import Bytes
import TernCrypto

/// The secret of a pre-auth key: "tern-auth-" followed by 48 lowercase hex
/// digits (192 random bits). Only its hash is stored.
public enum PreAuthKeySecret {
    /// What every key starts with, so a leaked key is easy to recognise (and grep for).
    public static let marker = "tern-auth-"
    /// Random bytes in a key.
    public static let randomByteCount = 24
    /// Hex digits of the random part shown in listings.
    static let visibleDigits = 8

    /// A fresh key from `random`.
    public static func generate<R: RandomSource>(random: inout R) -> String {
        var bytes = [UInt8](repeating: 0, count: randomByteCount)
        bytes.withUnsafeMutableBytes { random.fill($0) }
        return make(randomBytes: bytes)
    }

    /// The key spelled from `randomBytes` (exactly `randomByteCount` of them).
    public static func make(randomBytes: [UInt8]) -> String {
        precondition(randomBytes.count == randomByteCount, "a pre-auth key takes 24 random bytes")
        return marker + Hex.encode(randomBytes)
    }

    /// True if `text` is spelled like a key (it may still be unknown).
    public static func isWellFormed(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let head = Array(marker.utf8)
        guard bytes.count == head.count + 2 * randomByteCount, Array(bytes[0..<head.count]) == head else { return false }
        return bytes[head.count...].allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
        }
    }

    /// The lowercase hex BLAKE2s-256 hash of the key's text: what the registry stores and looks up.
    public static func hash(_ key: String) -> String {
        let digest = Array(key.utf8).withUnsafeBytes { Blake2s.hash($0) }
        return withUnsafeBytes(of: digest) { Hex.encode($0) }
    }

    /// The part of the key shown in listings ("tern-auth-3f9a12bc").
    public static func visiblePrefix(_ key: String) -> String {
        String(decoding: Array(key.utf8.prefix(marker.utf8.count + visibleDigits)), as: UTF8.self)
    }
}
