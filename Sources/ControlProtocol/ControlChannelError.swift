/// Why the control channel refused a frame, a handshake message or a
/// message. Every case ends the connection: a TCP stream that carried one
/// bad frame cannot be trusted to be in step any more.
public enum ControlChannelError: Error, Equatable, Sendable {
    /// A frame announced this many bytes, more than the decoder accepts.
    case frameTooLarge(Int)
    /// A handshake message is not 148 (initiation) or 92 (response) bytes.
    case badHandshakeSize
    /// A handshake message of the right size carries the wrong type or nonzero reserved bytes.
    case badHandshakeType
    /// mac1 did not verify: the initiation was not made for this server's key
    /// (or the response not for this machine's key).
    case badMAC
    /// A Diffie-Hellman result was zero: a low-order public key on either side.
    case weakKey
    /// The handshake did not open: wrong keys, a forged or corrupted message,
    /// or a plain WireGuard handshake (no control preshared key).
    case handshakeFailed
    /// The initiation's timestamp is not newer than the newest one accepted
    /// for this machine key: a replay.
    case replayedHandshake
    /// A handshake call came out of order (a response before any initiation, or twice).
    case wrongState
    /// A transport frame failed to authenticate: tampered, reordered or under another key.
    case decryptionFailed
    /// The session has used every nonce it may use in one direction.
    case counterExhausted
    /// The session was wiped (or failed) and holds no keys.
    case sessionClosed
    /// The plaintext of an authentic frame is not a valid control message.
    case badMessage(String)
}

extension ControlChannelError: CustomStringConvertible {
    /// A one-line message for a log.
    public var description: String {
        switch self {
        case .frameTooLarge(let length):
            return "control frame of " + String(length) + " bytes exceeds the limit"
        case .badHandshakeSize: return "control handshake message has the wrong size"
        case .badHandshakeType: return "control handshake message has the wrong type"
        case .badMAC: return "control handshake mac1 is invalid (not meant for this key)"
        case .weakKey: return "control handshake with a low-order public key"
        case .handshakeFailed: return "control handshake failed to authenticate"
        case .replayedHandshake: return "control handshake replayed (timestamp not newer than the last accepted)"
        case .wrongState: return "control handshake step out of order"
        case .decryptionFailed: return "control frame failed to authenticate"
        case .counterExhausted: return "control session nonce counter exhausted"
        case .sessionClosed: return "control session is closed"
        case .badMessage(let detail): return "bad control message: " + detail
        }
    }
}
