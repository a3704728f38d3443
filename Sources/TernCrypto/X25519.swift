import CTern

/// Curve25519 Diffie-Hellman (RFC 7748) over libsodium.
public enum X25519 {
    /// The public key `X25519(privateKey, 9)`.
    public static func publicKey(of privateKey: PrivateKey) -> PublicKey {
        var result = Bytes32(repeating: 0)
        privateKey.withUnsafeBytes { scalar in
            withUnsafeMutableBytes(of: &result) { out in
                _ = crypto_scalarmult_curve25519_base(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    scalar.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return PublicKey(bytes: result)
    }

    /// The shared secret `X25519(privateKey, publicKey)`.
    ///
    /// Throws `weakPublicKey` when the result is all zero (a low-order point),
    /// which WireGuard treats as a failed handshake.
    public static func sharedSecret(_ privateKey: PrivateKey, _ publicKey: PublicKey) throws(CryptoError) -> Bytes32 {
        var result = Bytes32(repeating: 0)
        let status = privateKey.withUnsafeBytes { scalar in
            publicKey.withUnsafeBytes { point in
                withUnsafeMutableBytes(of: &result) { out in
                    // libsodium returns -1 when the output is all zero.
                    crypto_scalarmult_curve25519(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        scalar.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        point.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        guard status == 0 else {
            wipe(&result)
            throw .weakPublicKey
        }
        return result
    }
}
