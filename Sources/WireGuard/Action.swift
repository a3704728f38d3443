import IP

/// What the caller of the protocol core must do next.
public enum Action: Equatable, Sendable {
    /// Nothing more to do for this input.
    case done
    /// Send `buffer[0..<length]` as one datagram along `path`. `peer` is
    /// the peer it is for (nil only for a cookie reply to an unknown sender).
    case writeToNetwork(Path, peer: PeerID?, length: Int)
    /// Write the IP packet at `buffer[offset..<offset + length]`, received
    /// from `peer`, to the TUN device.
    case writeToTunnel(peer: PeerID, offset: Int, length: Int)
    /// The input was dropped; it is counted under `reason`.
    case drop(DropReason)
}

/// Why a packet was dropped. Every drop is counted per reason (`Device.drops`).
public enum DropReason: Int, CaseIterable, Equatable, Sendable {
    /// Not a WireGuard message: unknown type, nonzero reserved bytes or wrong length.
    case malformed
    /// The device has no private key.
    case noPrivateKey
    /// mac1 did not verify: not meant for this device's key.
    case invalidMAC1
    /// Under load, a handshake without a valid mac2 (a cookie reply may have been sent).
    case cookieRequired
    /// Under load, too many handshakes from one source address.
    case rateLimited
    /// The initiation named a public key that is not a configured peer.
    case unknownPeer
    /// A handshake message failed to open or did not fit the handshake state.
    case handshakeFailed
    /// An initiation older than the newest one accepted from the peer.
    case replayedHandshake
    /// Initiations from one peer faster than 50 per second.
    case handshakeFlood
    /// A cookie reply that did not open or answered nothing we sent.
    case invalidCookie
    /// The receiver index names no live session or handshake.
    case unknownIndex
    /// A transport message whose tag did not verify.
    case decryptionFailed
    /// A transport counter seen before, too old, or past the limit.
    case replayed
    /// A transport message on a keypair past REJECT_AFTER_TIME.
    case expiredKeypair
    /// The decrypted packet is not a valid IPv4 or IPv6 packet.
    case invalidInnerPacket
    /// The decrypted packet's source is not in the sending peer's allowed IPs.
    case sourceNotAllowed
    /// An outgoing packet's destination is in no peer's allowed IPs.
    case noRoute
    /// The peer's endpoint is not known yet.
    case noEndpoint
    /// An outgoing packet larger than the device's buffers.
    case tooLarge
    /// The staging queue was full; the oldest staged packet was dropped.
    case stagingOverflow
}
