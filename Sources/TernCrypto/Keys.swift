import Bytes

/// A 32-byte key that `wg` spells in base64 (configuration files) and in hex (UAPI).
public protocol Key32 {
    /// The raw key bytes.
    var bytes: Bytes32 { get }
    /// Wraps raw key bytes.
    init(bytes: Bytes32)
}

extension Key32 {
    /// Parses the 44-character padded base64 spelling used by `wg` configuration files.
    public init(base64: String) throws(EncodingError) {
        var bytes = Bytes32(repeating: 0)
        try withUnsafeMutableBytes(of: &bytes) { (out) throws(EncodingError) in try Base64.decode(base64, into: out) }
        self.init(bytes: bytes)
    }

    /// Parses the 64-character hex spelling used by the UAPI.
    public init(hex: String) throws(EncodingError) {
        var bytes = Bytes32(repeating: 0)
        try withUnsafeMutableBytes(of: &bytes) { (out) throws(EncodingError) in try Hex.decode(hex, into: out) }
        self.init(bytes: bytes)
    }

    /// Wraps the first 32 bytes of `raw` (which must hold at least 32).
    public init(raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= 32, "a key needs 32 bytes")
        var bytes = Bytes32(repeating: 0)
        withUnsafeMutableBytes(of: &bytes) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<32])) }
        self.init(bytes: bytes)
    }

    /// The padded base64 spelling (44 characters).
    public var base64: String { Swift.withUnsafeBytes(of: bytes) { Base64.encode($0) } }

    /// The lowercase hex spelling (64 characters).
    public var hex: String { Swift.withUnsafeBytes(of: bytes) { Hex.encode($0) } }

    /// True if every byte is zero (UAPI uses an all-zero key to mean "none").
    public var isZero: Bool {
        var accumulated: UInt8 = 0
        for i in 0..<32 { accumulated |= bytes[i] }
        return accumulated == 0
    }

    /// Calls `body` with the raw key bytes.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let value = bytes
        return try Swift.withUnsafeBytes(of: value) { (raw) throws(E) -> R in try body(raw) }
    }
}

/// A Curve25519 public key: a peer's identity in WireGuard.
public struct PublicKey: Key32, Hashable, Sendable, CustomStringConvertible {
    /// The raw key bytes.
    public let bytes: Bytes32
    /// Wraps raw key bytes.
    public init(bytes: Bytes32) { self.bytes = bytes }

    /// Public keys are not secret; ordinary comparison is fine.
    public static func == (a: PublicKey, b: PublicKey) -> Bool {
        for i in 0..<32 where a.bytes[i] != b.bytes[i] { return false }
        return true
    }

    /// Hashes all 32 bytes.
    public func hash(into hasher: inout Hasher) {
        for i in 0..<32 { hasher.combine(bytes[i]) }
    }

    /// The base64 spelling, as `wg show` prints it.
    public var description: String { base64 }
}

/// A Curve25519 private key, clamped on creation. Never printed.
public struct PrivateKey: Key32, Equatable, Sendable, CustomStringConvertible {
    /// The raw (clamped) key bytes.
    public private(set) var bytes: Bytes32

    /// Wraps raw key bytes, clamping them as X25519 requires.
    public init(bytes: Bytes32) {
        var clamped = bytes
        clamped[0] &= 248
        clamped[31] = (clamped[31] & 127) | 64
        self.bytes = clamped
    }

    /// A fresh random key.
    public static func generate() -> PrivateKey { PrivateKey(bytes: Random.bytes32()) }

    /// The matching public key.
    public var publicKey: PublicKey { X25519.publicKey(of: self) }

    /// Compared in constant time.
    public static func == (a: PrivateKey, b: PrivateKey) -> Bool { constantTimeEqual(a.bytes, b.bytes) }

    /// Overwrites the key with zeros.
    public mutating func wipe() { TernCrypto.wipe(&bytes) }

    /// Redacted: private keys are never printed by accident.
    public var description: String { "(private key)" }
}

/// An optional 32-byte symmetric key mixed into the handshake (`psk`). All zero means none.
public struct PresharedKey: Key32, Equatable, Sendable, CustomStringConvertible {
    /// The raw key bytes.
    public private(set) var bytes: Bytes32
    /// Wraps raw key bytes.
    public init(bytes: Bytes32) { self.bytes = bytes }

    /// The all-zero key WireGuard uses when no preshared key is configured.
    public static let none = PresharedKey(bytes: Bytes32(repeating: 0))

    /// A fresh random key.
    public static func generate() -> PresharedKey { PresharedKey(bytes: Random.bytes32()) }

    /// Compared in constant time.
    public static func == (a: PresharedKey, b: PresharedKey) -> Bool { constantTimeEqual(a.bytes, b.bytes) }

    /// Overwrites the key with zeros.
    public mutating func wipe() { TernCrypto.wipe(&bytes) }

    /// Redacted: preshared keys are never printed by accident.
    public var description: String { "(preshared key)" }
}

/// A 32-byte ChaCha20-Poly1305 key (a session's sending or receiving key).
public struct SymmetricKey: Key32, Equatable, Sendable, CustomStringConvertible {
    /// The raw key bytes.
    public private(set) var bytes: Bytes32
    /// Wraps raw key bytes.
    public init(bytes: Bytes32) { self.bytes = bytes }

    /// Compared in constant time.
    public static func == (a: SymmetricKey, b: SymmetricKey) -> Bool { constantTimeEqual(a.bytes, b.bytes) }

    /// Overwrites the key with zeros.
    public mutating func wipe() { TernCrypto.wipe(&bytes) }

    /// Redacted: symmetric keys are never printed by accident.
    public var description: String { "(symmetric key)" }
}
