import IP
import TernCrypto

/// A peer's handle inside one device.
public typealias PeerID = Int

/// Everything a device knows about one peer: its keys, handshake, sessions,
/// endpoint, timers and counters. Owned and mutated by `Device` only.
public final class Peer {
    /// The handle of this peer in its device.
    public let id: PeerID
    /// The peer's handshake keys (recomputed when our key or the PSK changes).
    public internal(set) var keys: PeerKeys
    /// Where the peer's datagrams go: where it was configured to be, or
    /// (with `Roaming.followSource`) where it was last heard from.
    public internal(set) var endpoint: Path?
    /// Where the latest authenticated datagram from the peer came from.
    public internal(set) var lastSource: Path?
    /// Bytes of authenticated WireGuard messages received from the peer
    /// (handshakes, keepalives and data, as the kernel counts for `wg show`).
    public internal(set) var receivedBytes: UInt64 = 0
    /// Bytes of WireGuard messages sent to the peer.
    public internal(set) var sentBytes: UInt64 = 0
    /// When the last handshake completed (monotonic ns), for `wg show`.
    public internal(set) var lastHandshake: UInt64?
    /// The protocol timers.
    public internal(set) var timers = PeerTimers()

    var handshake = Handshake()
    var cookie = PeerCookie()
    var previous: Keypair?
    var current: Keypair?
    var next: Keypair?
    /// When we last sent an initiation (rate limit: one per REKEY_TIMEOUT).
    var lastSentInitiation: UInt64?
    /// Staging pool slots of packets waiting for a session, oldest first.
    var staged: [Int] = []

    // Pending transmissions, served by `Device.poll`.
    var wantsInitiation = false
    var initiationIsRetry = false
    var wantsKeepalive = false
    var wantsFlush = false
    var queued = false

    init(id: PeerID, keys: PeerKeys) {
        self.id = id
        self.keys = keys
        staged.reserveCapacity(Protocol.maxStagedPackets)
    }

    /// The peer's public key.
    public var publicKey: PublicKey { keys.remoteStatic }

    /// The peer's persistent keepalive interval in seconds (0 = off).
    public var persistentKeepaliveInterval: UInt16 { timers.persistentKeepaliveInterval }

    /// True if we hold a keypair we may send on at `now`.
    func canSend(now: UInt64) -> Bool { current?.canSend(now: now) ?? false }

    /// The keypair whose local index is `index`, and which slot holds it.
    func keypairSlot(for index: UInt32) -> KeypairSlot? {
        if current?.localIndex == index { return .current }
        if next?.localIndex == index { return .next }
        if previous?.localIndex == index { return .previous }
        return nil
    }
}

/// The three keypairs a peer may hold during rotation (spec digest §4).
enum KeypairSlot {
    case previous, current, next
}
