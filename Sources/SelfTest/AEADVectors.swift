/// An AEAD known answer, hex throughout.
public struct AEADVector: Sendable {
    /// The 32-byte key.
    public let key: String
    /// The nonce: 12 bytes for ChaCha20-Poly1305, 24 for XChaCha20-Poly1305.
    public let nonce: String
    /// The additional authenticated data.
    public let additionalData: String
    /// The plaintext.
    public let plaintext: String
    /// The ciphertext (same length as the plaintext).
    public let ciphertext: String
    /// The 16-byte tag.
    public let tag: String
}

/// "Ladies and Gentlemen of the class of '99: If I could offer you only one tip
/// for the future, sunscreen would be it.", the plaintext of both vectors.
private let sunscreen =
    "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
    + "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
    + "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
    + "637265656e20776f756c642062652069742e"

/// RFC 8439 §2.8.2.
public let chaChaPolyVector = AEADVector(
    key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
    nonce: "070000004041424344454647",
    additionalData: "50515253c0c1c2c3c4c5c6c7",
    plaintext: sunscreen,
    ciphertext: "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
        + "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
        + "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
        + "3ff4def08e4b7a9de576d26586cec64b6116",
    tag: "1ae10b594f09e26a7e902ecbd0600691")

/// draft-irtf-cfrg-xchacha-03 Appendix A.3.1.
public let xChaChaPolyVector = AEADVector(
    key: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
    nonce: "404142434445464748494a4b4c4d4e4f5051525354555657",
    additionalData: "50515253c0c1c2c3c4c5c6c7",
    plaintext: sunscreen,
    ciphertext: "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
        + "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
        + "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
        + "21f9664c97637da9768812f615c68b13b52e",
    tag: "c0875924c1c7987947deafd8780acf49")
