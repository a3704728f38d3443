/// Why a cryptographic operation failed.
public enum CryptoError: Error, Equatable {
    /// libsodium could not initialise (no usable entropy source).
    case libraryUnavailable
    /// A Diffie-Hellman result was all zero: the peer's public key is a low-order point.
    case weakPublicKey
    /// An AEAD tag did not verify: the message was forged, corrupted, or sealed under another key.
    case authenticationFailed
}

extension CryptoError: CustomStringConvertible {
    /// A one-line message for people.
    public var description: String {
        switch self {
        case .libraryUnavailable: return "libsodium could not be initialised"
        case .weakPublicKey: return "public key is a low-order point (all-zero shared secret)"
        case .authenticationFailed: return "authentication failed"
        }
    }
}
