import TernCrypto

/// This device's static key pair and the MAC keys derived from its public key.
public struct StaticIdentity: Sendable {
    /// The device's private key.
    public let privateKey: PrivateKey
    /// The device's public key.
    public let publicKey: PublicKey
    /// HASH(LABEL_MAC1 ‖ own public key): checks mac1 of messages sent to us.
    public let mac1Key: Bytes32
    /// HASH(LABEL_COOKIE ‖ own public key): seals the cookie replies we send.
    public let cookieKey: Bytes32

    /// Derives the public key and MAC keys from `privateKey`.
    public init(privateKey: PrivateKey) {
        self.privateKey = privateKey
        publicKey = privateKey.publicKey
        mac1Key = labelledHash(Protocol.labelMAC1, publicKey)
        cookieKey = labelledHash(Protocol.labelCookie, publicKey)
    }
}

/// What the handshake needs to know about one peer, computed once when the
/// peer is configured.
public struct PeerKeys: Sendable {
    /// The peer's static public key.
    public let remoteStatic: PublicKey
    /// The preshared key (all zero when none).
    public let presharedKey: PresharedKey
    /// DH(own static private, peer static public), precomputed. All zero when
    /// the peer's key is a low-order point: handshakes with it are refused.
    public let staticStatic: Bytes32
    /// HASH(LABEL_MAC1 ‖ peer public key): mac1 of messages we send to the peer.
    public let mac1Key: Bytes32
    /// HASH(LABEL_COOKIE ‖ peer public key): opens cookie replies from the peer.
    public let cookieKey: Bytes32

    /// Precomputes the handshake keys for a peer of `identity`.
    public init(identity: StaticIdentity, remoteStatic: PublicKey, presharedKey: PresharedKey = .none) {
        self.remoteStatic = remoteStatic
        self.presharedKey = presharedKey
        staticStatic = (try? X25519.sharedSecret(identity.privateKey, remoteStatic)) ?? Bytes32(repeating: 0)
        mac1Key = labelledHash(Protocol.labelMAC1, remoteStatic)
        cookieKey = labelledHash(Protocol.labelCookie, remoteStatic)
    }
}

/// HASH(label ‖ key).
func labelledHash(_ label: StaticString, _ key: PublicKey) -> Bytes32 {
    label.withUTF8Buffer { label in
        key.withUnsafeBytes { key in Blake2s.hash(UnsafeRawBufferPointer(label), key) }
    }
}
