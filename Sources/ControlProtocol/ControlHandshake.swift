import TernCrypto
import WireGuard

// The secure node ⇄ coordination-server channel.
//
// The node (initiator) owns a long-lived machine key, an X25519 key pair
// distinct from its WireGuard node key. The server (responder) has a static
// key the node knows in advance (pinned on first contact or given with
// `--control-key`). They run WireGuard's Noise_IKpsk2 handshake, with the
// WireGuard module's `Handshake`, `PeerKeys` and MAC code unchanged, over a
// TCP stream after an HTTP Upgrade, framed as `ControlFraming` describes:
//
//   node → server   [148][initiation]          mac1 keyed by the server's public key
//   server → node   [92][response]             mac1 keyed by the machine's public key
//   both ways       [L][ChaCha20-Poly1305(JSON message)] ...   (`ControlSession`)
//
// Domain separation from real WireGuard: the handshake's preshared key is
// the fixed `ControlHandshake.presharedKey` = BLAKE2s-256("Tern control
// channel v1"). In IKpsk2 the preshared key enters at the response, so
// neither side ever derives a session with a plain WireGuard peer: a
// WireGuard initiator cannot open a control response, and a control
// initiator cannot open a WireGuard response (tests show both). The
// initiation itself carries no psk, which is why the server does not act on
// the machine key until the first transport frame has opened (the login):
// that frame is the key confirmation.
//
// mac1 is computed and checked exactly as in WireGuard, so an initiation
// meant for another key is refused before any Diffie-Hellman work. mac2 and
// cookies are not used: TCP's handshake already proves the address; mac2 is
// sent as zeros and ignored.
//
// Indices mean nothing on a stream that carries one session; they are sent
// (the response must echo the initiation's) but never used for lookup.
//
// Replay protection: the server keeps the newest TAI64N timestamp of each
// machine key that logged in (`ControlReplayGuard`) and refuses an
// initiation that is not strictly newer.

/// Constants of the control handshake.
public enum ControlHandshake {
    /// The label hashed into the control channel's preshared key.
    public static let label: StaticString = "Tern control channel v1"

    /// BLAKE2s-256("Tern control channel v1"), the preshared key of every
    /// control handshake (precomputed; a test checks it against `label`).
    public static let presharedKey = PresharedKey(bytes: [
        0xf7, 0x5e, 0x10, 0x65, 0xa9, 0xc2, 0x86, 0x03,
        0x13, 0x70, 0x29, 0x3f, 0xf4, 0x9d, 0x1e, 0xfc,
        0xb4, 0xa9, 0xd4, 0x03, 0xd2, 0xd6, 0x88, 0x0e,
        0x8d, 0x36, 0xe6, 0x31, 0xfd, 0xf7, 0x65, 0x30,
    ])

    /// Maps the WireGuard handshake's refusals onto the channel's.
    static func channelError(_ error: HandshakeError) -> ControlChannelError {
        switch error {
        case .weakKey: return .weakKey
        case .wrongState: return .wrongState
        case .replayedTimestamp: return .replayedHandshake
        case .decryptionFailed, .initiationFlood: return .handshakeFailed
        }
    }

    /// Checks the size and type word of a handshake message.
    static func checkShape(_ message: [UInt8], size: Int, type: MessageType) throws(ControlChannelError) {
        guard message.count == size else { throw .badHandshakeSize }
        let classified = message.withUnsafeBytes { MessageType.classify($0) }
        guard classified == type else { throw .badHandshakeType }
    }
}

/// The node's side of the control handshake.
///
/// Call `initiation` once, write its frame, then pass the body of the
/// server's first frame to `finish`. Sans-I/O: the ephemeral key and the
/// timestamp come from the caller.
public struct ControlClientHandshake: Sendable {
    /// The node's machine key.
    public let machine: StaticIdentity
    /// The server's pinned static public key.
    public let serverKey: PublicKey
    private let peer: PeerKeys
    private var handshake = Handshake()

    /// A handshake from `machine` to the server whose static key is `serverKey`.
    public init(machine: StaticIdentity, serverKey: PublicKey) {
        self.machine = machine
        self.serverKey = serverKey
        peer = PeerKeys(identity: machine, remoteStatic: serverKey, presharedKey: ControlHandshake.presharedKey)
    }

    /// The complete first frame (length prefix and 148-byte initiation).
    ///
    /// `ephemeral` must be fresh random, `timestamp` the current wall-clock
    /// TAI64N (it must grow between attempts, or the server refuses the
    /// replay), `now` the monotonic clock in nanoseconds, `index` any value
    /// the response must echo. Throws `weakKey` when `serverKey` is a
    /// low-order point. Calling it again starts over.
    public mutating func initiation(
        ephemeral: PrivateKey, timestamp: TAI64N, now: UInt64, index: UInt32 = 0
    ) throws(ControlChannelError) -> [UInt8] {
        var message = [UInt8](repeating: 0, count: Initiation.size)
        let machine = self.machine
        let peer = self.peer
        var handshake = self.handshake
        let result = message.withUnsafeMutableBytes { bytes -> Result<Void, HandshakeError> in
            do throws(HandshakeError) {
                try handshake.createInitiation(into: bytes, identity: machine, peer: peer, ephemeral: ephemeral,
                                               localIndex: index, timestamp: timestamp)
            } catch {
                return .failure(error)
            }
            // A fresh PeerCookie holds no cookie: mac1 only, mac2 stays zero.
            var cookie = PeerCookie()
            cookie.addMACs(to: bytes, peer: peer, now: now)
            return .success(())
        }
        self.handshake = handshake
        if case .failure(let error) = result { throw ControlHandshake.channelError(error) }
        return ControlFraming.frame(message)
    }

    /// Opens the server's response (the body of its first frame) and returns
    /// the session. Throws `badHandshakeSize`/`badHandshakeType` for anything
    /// but a 92-byte response, `badMAC` when mac1 is not for this machine,
    /// `handshakeFailed` when it does not open (another server, or a
    /// WireGuard responder without the control preshared key), `wrongState`
    /// before `initiation` or after success.
    public mutating func finish(response: [UInt8]) throws(ControlChannelError) -> ControlSession {
        guard handshake.state == .createdInitiation else { throw .wrongState }
        try ControlHandshake.checkShape(response, size: Response.size, type: .response)
        let machine = self.machine
        let macValid = response.withUnsafeBytes { CookieChecker().checkMAC1($0, identity: machine) }
        guard macValid else { throw .badMAC }
        let peer = self.peer
        var handshake = self.handshake
        let result = response.withUnsafeBytes { bytes -> Result<SessionKeys, HandshakeError> in
            do throws(HandshakeError) {
                return .success(try handshake.consumeResponse(bytes, identity: machine, peer: peer))
            } catch {
                return .failure(error)
            }
        }
        self.handshake = handshake
        switch result {
        case .success(let keys):
            return ControlSession(keys: keys)
        case .failure(.wrongState):
            // The state was checked above: this is a response to another initiation's index.
            throw .handshakeFailed
        case .failure(let error):
            throw ControlHandshake.channelError(error)
        }
    }
}
