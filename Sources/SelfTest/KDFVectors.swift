/// A WireGuard KDF known answer: chaining key and input as text, then T1, T2, T3 in hex.
public struct KDFVector: Sendable {
    /// The HMAC key (chaining key), as ASCII text.
    public let key: String
    /// The input keying material, as ASCII text.
    public let input: String
    /// The three outputs, hex.
    public let t1, t2, t3: String
}

/// wireguard-go `device/kdf_test.go` (`../shared/specs/wireguard.md` §12).
public let kdfVectors: [KDFVector] = [
    KDFVector(key: "test-key", input: "test-input",
              t1: "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
              t2: "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
              t3: "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24"),
    KDFVector(key: "wireguard", input: "wireguard",
              t1: "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
              t2: "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
              t3: "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160"),
    KDFVector(key: "", input: "",
              t1: "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
              t2: "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
              t3: "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e"),
]

/// WireGuard's protocol constants, derived with HASH (spec digest §1).
public enum WireGuardConstantVectors {
    /// `Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s`
    public static let construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
    /// `WireGuard v1 zx2c4 Jason@zx2c4.com`
    public static let identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com"
    /// Ci = HASH(CONSTRUCTION).
    public static let initialChainingKey = "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36"
    /// Hi = HASH(Ci ‖ IDENTIFIER).
    public static let initialHash = "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3"
    /// The responder's static public key of the §12 handshake vector.
    public static let responderPublicKey = "358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254"
    /// mac1_key = HASH("mac1----" ‖ responder public key) for that key.
    public static let mac1Key = "027b1cb8c420c32c942bea8ddb43ca7d20779ec4bd55578bfa5c3d7936c91d2f"
}
