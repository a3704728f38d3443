import TernCrypto
import WireGuard

/// What the server gets from an accepted control handshake.
public struct ControlAcceptance: Sendable {
    /// The machine key the initiation proved possession of (the static key
    /// whose encryption opened). Act on it only once the first transport
    /// frame opens: that frame confirms the initiator holds the session keys.
    public let machineKey: PublicKey
    /// The initiation's timestamp, for the replay guard once the machine logs in.
    public let timestamp: TAI64N
    /// The complete first server frame (length prefix and 92-byte response).
    public let response: [UInt8]
    /// The server's session.
    public var session: ControlSession
}

/// The server's side of the control handshake: stateless apart from the
/// replay guard the caller passes in, so one responder serves every connection.
public struct ControlResponder: Sendable {
    /// The server's static key pair.
    public let identity: StaticIdentity

    /// A responder for the server key `identity`.
    public init(identity: StaticIdentity) {
        self.identity = identity
    }

    /// Accepts `initiation` (the body of a connection's first frame) and
    /// answers it.
    ///
    /// `ephemeral` must be fresh random, `index` any value (unused on a
    /// stream), `now` the monotonic clock in nanoseconds. On success the
    /// caller records `timestamp` in its replay guard once the machine has
    /// proved itself (the server: at login), so strangers cannot fill it.
    /// Throws `badHandshakeSize`/`badHandshakeType` for anything but a
    /// 148-byte initiation, `badMAC` when it is not meant for this server's
    /// key, `weakKey` for a low-order ephemeral or machine key,
    /// `handshakeFailed` when a field does not open, `replayedHandshake` when
    /// the timestamp is not newer than the last accepted for that machine key.
    public func accept(
        initiation: [UInt8], replayGuard: ControlReplayGuard, ephemeral: PrivateKey, index: UInt32, now: UInt64
    ) throws(ControlChannelError) -> ControlAcceptance {
        try ControlHandshake.checkShape(initiation, size: Initiation.size, type: .initiation)
        let identity = self.identity
        let macValid = initiation.withUnsafeBytes { CookieChecker().checkMAC1($0, identity: identity) }
        guard macValid else { throw .badMAC }

        // Typed errors cannot cross Array's closure API; carry them out in a Result.
        let opened = initiation.withUnsafeBytes { bytes -> Result<(Handshake, PeerKeys), HandshakeError> in
            do throws(HandshakeError) {
                let opened = try Handshake.openInitiation(bytes, identity: identity)
                let peer = PeerKeys(identity: identity, remoteStatic: opened.initiatorStatic,
                                    presharedKey: ControlHandshake.presharedKey)
                // A fresh handshake per connection: its own replay and flood
                // records are empty; the replay guard below does that job.
                var handshake = Handshake()
                try handshake.consumeInitiation(opened, message: bytes, peer: peer, now: now)
                return .success((handshake, peer))
            } catch {
                return .failure(error)
            }
        }
        var handshake: Handshake
        let peer: PeerKeys
        switch opened {
        case .success(let value): (handshake, peer) = value
        case .failure(let error): throw ControlHandshake.channelError(error)
        }

        let machineKey = peer.remoteStatic
        let timestamp = handshake.latestTimestamp
        guard replayGuard.isFresh(timestamp, for: machineKey) else { throw .replayedHandshake }

        var response = [UInt8](repeating: 0, count: Response.size)
        let created = response.withUnsafeMutableBytes { bytes -> Result<SessionKeys, HandshakeError> in
            do throws(HandshakeError) {
                let keys = try handshake.createResponse(into: bytes, peer: peer, ephemeral: ephemeral, localIndex: index)
                var cookie = PeerCookie()
                cookie.addMACs(to: bytes, peer: peer, now: now)
                return .success(keys)
            } catch {
                return .failure(error)
            }
        }
        let keys: SessionKeys
        switch created {
        case .success(let value): keys = value
        case .failure(let error): throw ControlHandshake.channelError(error)
        }

        return ControlAcceptance(machineKey: machineKey, timestamp: timestamp,
                                 response: ControlFraming.frame(response), session: ControlSession(keys: keys))
    }
}
