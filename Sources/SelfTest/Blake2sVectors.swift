/// A BLAKE2s known answer: hex input, hex key (empty for unkeyed), digest.
public struct Blake2sVector: Sendable {
    /// The message, hex.
    public let input: String
    /// The key, hex; empty for an unkeyed hash.
    public let key: String
    /// The expected digest, hex (its length is the digest length).
    public let digest: String
}

/// RFC 7693 Appendix B, the kernel self-test vectors and the BLAKE2 keyed KAT
/// (`../shared/specs/blake2s.md`).
public let blake2sVectors: [Blake2sVector] = [
    Blake2sVector(input: "616263", key: "",
                  digest: "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"),
    Blake2sVector(input: "", key: "",
                  digest: "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"),
    Blake2sVector(input: "00", key: "",
                  digest: "e34d74dbaf4ff4c6abd871cc220451d2ea2648846c7757fbaac82fe51ad64bea"),
    Blake2sVector(input: "0001", key: "",
                  digest: "ddad9ab15dac4549ba42f49d262496bef6c0bae1dd342a8808f8ea267c6e210c"),
    Blake2sVector(input: "", key: blake2sKATKey,
                  digest: "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"),
    Blake2sVector(input: "00", key: blake2sKATKey,
                  digest: "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"),
    Blake2sVector(input: "0001", key: blake2sKATKey,
                  digest: "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803"),
    // Exactly one block with a key: the key block and the message block are both full.
    Blake2sVector(input: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                       + "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
                  key: blake2sKATKey,
                  digest: "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"),
]

/// The key of the BLAKE2 keyed KAT: bytes 00 01 … 1f.
public let blake2sKATKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/// RFC 7693 Appendix E: the BLAKE2s-256 of all the digests of the self-test sequence.
public let blake2sSelfTestDigest = "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe"
