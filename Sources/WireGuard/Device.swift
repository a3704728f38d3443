import IP
import TernCrypto

/// A WireGuard device as a sans-I/O protocol core: the peers, their keys,
/// sessions and timers, and cryptokey routing, driven by bytes and time.
///
/// The caller owns every buffer and the clock. It feeds datagrams to
/// `receive`, IP packets to `send`, calls `tick` when `nextDeadline` passes,
/// and after any of these drains `poll` until it answers `.done`. Each call
/// says what to do next through an `Action`. Nothing here performs I/O,
/// reads a clock or allocates on the steady-state data path.
///
/// Buffers: a packet to send sits at offset 16 (`Transport.headerSize`) with
/// room for padding and the tag after it, so sealing happens in place; the
/// same holds for received datagrams, whose plaintext is left at offset 16.
public final class Device<Random: RandomSource> {
    /// This device's static identity; nil until a private key is set.
    public private(set) var identity: StaticIdentity?
    /// The tunnel MTU, used to pad packets (0 = pad without a cap).
    public var mtu: Int
    /// Handshake messages per second above which the device is "under load"
    /// and demands cookies (mac2) and rate-limits per source.
    public var underLoadThreshold: Int = 128
    /// Wall-clock nanoseconds since 1970 at monotonic time 0, for the TAI64N
    /// timestamps of initiations. The shell sets it; tests leave it fixed.
    public var wallClockOffset: UInt64 = 1_700_000_000 * Protocol.second
    /// Whether authenticated datagrams move a peer's endpoint to their source.
    public var roaming = Roaming.followSource
    /// Packets dropped, per reason.
    public internal(set) var drops = [UInt64](repeating: 0, count: DropReason.allCases.count)

    var random: Random
    var peerSlots: [Peer?] = []
    var peerByKey: [PublicKey: PeerID] = [:]
    var allowedIPs = PrefixTable<PeerID>()
    var indices = IndexTable()
    var cookieChecker = CookieChecker()
    var rateLimiter = RateLimiter()
    let staging: StagingPool
    /// Peers with a pending transmission, in order.
    var pending: [PeerID] = []
    var loadWindowStart: UInt64 = 0
    var loadWindowCount = 0
    var underLoadUntil: UInt64 = 0

    /// A device with no key and no peers. `maxPacketSize` bounds the IP
    /// packets it stages; `stagingSlots` is shared by all peers.
    public init(random: Random, mtu: Int = 1420, maxPacketSize: Int = 65535, stagingSlots: Int = 256) {
        self.random = random
        self.mtu = mtu
        staging = StagingPool(slots: stagingSlots, slotSize: maxPacketSize)
        pending.reserveCapacity(64)
    }

    // MARK: Configuration

    /// Sets (or clears) the private key. Sessions made under the old key are
    /// dropped; a peer whose public key equals ours is removed, as in wireguard-go.
    public func setPrivateKey(_ key: PrivateKey?) {
        if let key, let old = identity, old.privateKey == key { return }
        identity = key.map { StaticIdentity(privateKey: $0) }
        if let identity, let same = peerByKey[identity.publicKey] { removePeer(same) }
        for peer in peers {
            peer.keys = makeKeys(peer.keys.remoteStatic, peer.keys.presharedKey)
            clearSessions(peer)
        }
    }

    /// The peer with `publicKey`, created if absent (nil if it is our own key).
    @discardableResult
    public func addPeer(_ publicKey: PublicKey) -> PeerID? {
        if let existing = peerByKey[publicKey] { return existing }
        if let identity, identity.publicKey == publicKey { return nil }
        let id = peerSlots.firstIndex(where: { $0 == nil }) ?? peerSlots.count
        let peer = Peer(id: id, keys: makeKeys(publicKey, .none))
        if id == peerSlots.count { peerSlots.append(peer) } else { peerSlots[id] = peer }
        peerByKey[publicKey] = id
        return id
    }

    /// Removes a peer with its sessions, staged packets and allowed IPs.
    public func removePeer(_ id: PeerID) {
        guard let peer = peer(id) else { return }
        clearSessions(peer)
        dropStaged(peer)
        peer.timers.stopAll()
        allowedIPs.removeAll(value: id)
        peerByKey[peer.publicKey] = nil
        pending.removeAll { $0 == id }
        peerSlots[id] = nil
    }

    /// Removes every peer.
    public func removeAllPeers() {
        for peer in peers { removePeer(peer.id) }
    }

    /// Sets a peer's preshared key (`.none` for none).
    public func setPresharedKey(_ id: PeerID, _ key: PresharedKey) {
        guard let peer = peer(id) else { return }
        peer.keys = makeKeys(peer.publicKey, key)
    }

    /// Sets where to send a peer's packets (until it is heard from
    /// elsewhere, with `Roaming.followSource`).
    public func setEndpoint(_ id: PeerID, _ path: Path) {
        peer(id)?.endpoint = path
    }

    /// Sets a peer's UDP endpoint.
    public func setEndpoint(_ id: PeerID, _ endpoint: Endpoint) {
        setEndpoint(id, .udp(endpoint))
    }

    /// Sets a peer's persistent keepalive interval (0 = off) at `now`.
    /// Turning it on sends a keepalive at once, as `wg` users expect.
    public func setPersistentKeepalive(_ id: PeerID, seconds: UInt16, now: UInt64) {
        guard let peer = peer(id) else { return }
        let wasOff = peer.timers.persistentKeepaliveInterval == 0
        peer.timers.persistentKeepaliveInterval = seconds
        if seconds == 0 {
            peer.timers.persistentKeepalive = nil
        } else {
            peer.timers.persistentKeepalive = now + UInt64(seconds) * Protocol.second
            if wasOff { enqueue(peer) { $0.wantsKeepalive = true } }
        }
    }

    /// Routes `prefix` to a peer (taking it from any other peer).
    public func addAllowedIP(_ id: PeerID, _ prefix: IPPrefix) {
        guard peer(id) != nil else { return }
        allowedIPs.insert(prefix, id)
    }

    /// Stops routing `prefix` to a peer (no effect if another peer owns it).
    public func removeAllowedIP(_ id: PeerID, _ prefix: IPPrefix) {
        guard allowedIPs.value(for: prefix) == id else { return }
        allowedIPs.remove(prefix)
    }

    /// Removes all of a peer's allowed IPs.
    public func clearAllowedIPs(_ id: PeerID) {
        allowedIPs.removeAll(value: id)
    }

    // MARK: Inspection

    /// The peer with handle `id`.
    public func peer(_ id: PeerID) -> Peer? {
        id >= 0 && id < peerSlots.count ? peerSlots[id] : nil
    }

    /// The peer with `publicKey`.
    public func peer(for publicKey: PublicKey) -> Peer? {
        peerByKey[publicKey].flatMap { peer($0) }
    }

    /// All peers, in handle order.
    public var peers: [Peer] { peerSlots.compactMap { $0 } }

    /// A peer's allowed IPs.
    public func allowedIPs(of id: PeerID) -> [IPPrefix] { allowedIPs.prefixes(for: id) }

    /// The peer that `address` routes to.
    public func route(_ address: IPAddress) -> PeerID? { allowedIPs.lookup(address) }

    /// Packets dropped for `reason`.
    public func dropCount(_ reason: DropReason) -> UInt64 { drops[reason.rawValue] }

    /// The earliest time `tick` has work to do.
    public var nextDeadline: UInt64? {
        var deadline: UInt64?
        for case let peer? in peerSlots { deadline = earliest(deadline, peer.timers.nextDeadline) }
        return deadline
    }

    // MARK: Internals shared by the send, receive and timer paths

    func makeKeys(_ remote: PublicKey, _ psk: PresharedKey) -> PeerKeys {
        guard let identity else {
            // Without our key, keys cannot be precomputed; handshakes are refused anyway.
            return PeerKeys(identity: StaticIdentity(privateKey: PrivateKey(bytes: Bytes32(repeating: 0))),
                            remoteStatic: remote, presharedKey: psk)
        }
        return PeerKeys(identity: identity, remoteStatic: remote, presharedKey: psk)
    }

    /// An authenticated datagram from `peer` came from `source`.
    func heard(_ peer: Peer, from source: Path) {
        peer.lastSource = source
        if roaming == .followSource { peer.endpoint = source }
    }

    func drop(_ reason: DropReason) -> Action {
        drops[reason.rawValue] &+= 1
        return .drop(reason)
    }

    /// Marks a pending transmission for `peer` and queues it once.
    func enqueue(_ peer: Peer, _ mark: (Peer) -> Void) {
        mark(peer)
        if !peer.queued {
            peer.queued = true
            pending.append(peer.id)
        }
    }

    /// Forgets every session and the handshake of `peer`, freeing their indices.
    func clearSessions(_ peer: Peer) {
        if peer.handshake.state != .zeroed { indices.remove(peer.handshake.localIndex) }
        peer.handshake.zero()
        for keypair in [peer.previous, peer.current, peer.next] {
            if let keypair { indices.remove(keypair.localIndex) }
        }
        peer.previous = nil
        peer.current = nil
        peer.next = nil
    }

    func dropStaged(_ peer: Peer) {
        for slot in peer.staged { staging.release(slot) }
        peer.staged.removeAll(keepingCapacity: true)
    }

    /// The retransmission jitter: up to a third of a second.
    func jitter() -> UInt64 { random.uniform(Protocol.maxJitter + 1) }
}
