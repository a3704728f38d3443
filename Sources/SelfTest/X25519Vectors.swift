/// An X25519 known answer: scalar, u-coordinate and result, hex.
public struct X25519Vector: Sendable {
    /// The scalar (unclamped as published; X25519 clamps it).
    public let scalar: String
    /// The input u-coordinate.
    public let point: String
    /// The output u-coordinate.
    public let result: String
}

/// RFC 7748 §5.2 single-step vectors.
public let x25519Vectors: [X25519Vector] = [
    X25519Vector(scalar: "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                 point: "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
                 result: "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
    X25519Vector(scalar: "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                 point: "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
                 result: "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
]

/// RFC 7748 §5.2 iterated test, starting from k = u = 9: k after 1 and after 1,000 iterations.
public let x25519IteratedAfter1 = "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"
/// See `x25519IteratedAfter1`.
public let x25519IteratedAfter1000 = "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"

/// RFC 7748 §6.1 Diffie-Hellman example.
public enum X25519DiffieHellmanVector {
    /// Alice's private key.
    public static let alicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
    /// Alice's public key.
    public static let alicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    /// Bob's private key.
    public static let bobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
    /// Bob's public key.
    public static let bobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    /// The shared secret K.
    public static let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
}
