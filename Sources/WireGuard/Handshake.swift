import TernCrypto

/// Why a handshake message was refused. Every case means "drop the packet".
public enum HandshakeError: Error, Equatable, Sendable {
    /// The message does not fit the handshake's current state.
    case wrongState
    /// An AEAD field failed to open: wrong keys, or a forged or corrupted message.
    case decryptionFailed
    /// A Diffie-Hellman result was zero: a low-order public key.
    case weakKey
    /// The initiation's timestamp is not newer than the newest one accepted (a replay).
    case replayedTimestamp
    /// Initiations from this peer arrive faster than 50 per second.
    case initiationFlood
}

/// The two transport keys a finished handshake yields, and the indices that
/// name them on the wire.
public struct SessionKeys: Sendable {
    /// Key for packets we send.
    public var sending: SymmetricKey
    /// Key for packets we receive.
    public var receiving: SymmetricKey
    /// Our index: the receiver_index of packets sent to us.
    public let localIndex: UInt32
    /// The peer's index: the receiver_index of packets we send.
    public let remoteIndex: UInt32
    /// True if we sent the initiation (only the initiator rekeys on time).
    public let isInitiator: Bool
}

/// An initiation whose ephemeral and static fields have been opened, before the
/// peer it names is known to be ours. `Handshake.consumeInitiation` finishes it.
public struct OpenedInitiation: Sendable {
    /// The initiator's static public key, decrypted.
    public let initiatorStatic: PublicKey
    /// The initiator's sender_index.
    public let senderIndex: UInt32
    let remoteEphemeral: PublicKey
    var chainingKey: Bytes32
    var hash: Bytes32
}

/// One peer's Noise_IKpsk2 handshake (whitepaper §5.4; spec digest §3).
///
/// Pure computation: randomness (ephemeral keys, indices) and time come in as
/// parameters, and messages are written into buffers the caller owns. MACs are
/// added and checked separately (`Cookie.swift`).
public struct Handshake: Sendable {
    /// Where the handshake stands, named as in the kernel.
    public enum State: Sendable {
        /// No handshake in progress.
        case zeroed
        /// We sent an initiation and wait for the response.
        case createdInitiation
        /// We accepted an initiation and will answer it.
        case consumedInitiation
    }

    /// The current state.
    public private(set) var state = State.zeroed
    /// Our index for this handshake (valid unless `zeroed`).
    public private(set) var localIndex: UInt32 = 0
    /// The peer's index for this handshake.
    public private(set) var remoteIndex: UInt32 = 0
    /// The newest initiation timestamp accepted from this peer (replay protection).
    public private(set) var latestTimestamp = TAI64N.zero
    /// When (monotonic ns) the last initiation from this peer was accepted.
    public private(set) var lastInitiationConsumed: UInt64?

    private var chainingKey = Bytes32(repeating: 0)
    private var hash = Bytes32(repeating: 0)
    private var localEphemeral = PrivateKey(bytes: Bytes32(repeating: 0))
    private var remoteEphemeral = PublicKey(bytes: Bytes32(repeating: 0))

    /// A handshake in the `zeroed` state.
    public init() {}

    /// Forgets the handshake in progress; keeps the replay and flood records.
    public mutating func zero() {
        state = .zeroed
        localIndex = 0
        remoteIndex = 0
        wipe(&chainingKey)
        wipe(&hash)
        localEphemeral.wipe()
        remoteEphemeral = PublicKey(bytes: Bytes32(repeating: 0))
    }

    // MARK: Initiator

    /// Writes the body of an initiation (everything before mac1) into
    /// `message` (at least 148 bytes) and moves to `createdInitiation`.
    public mutating func createInitiation(
        into message: UnsafeMutableRawBufferPointer, identity: StaticIdentity, peer: PeerKeys,
        ephemeral: PrivateKey, localIndex: UInt32, timestamp: TAI64N
    ) throws(HandshakeError) {
        precondition(message.count >= Initiation.size, "initiation buffer too small")
        guard !isZero(peer.staticStatic) else { throw .weakKey }
        zero()

        var c = Protocol.initialChainingKey
        var h = Protocol.initialHash
        mixHash(&h, peer.remoteStatic)

        // e
        let ephemeralPublic = ephemeral.publicKey
        message.storeBytes(of: MessageType.initiation.rawValue.littleEndian, toByteOffset: 0, as: UInt32.self)
        message.storeBytes(of: localIndex.littleEndian, toByteOffset: Initiation.senderIndex, as: UInt32.self)
        store(ephemeralPublic.bytes, into: message, at: Initiation.ephemeral)
        mixKey(&c, ephemeralPublic.bytes)
        mixHash(&h, ephemeralPublic)

        // es
        var key = try mixDH(&c, ephemeral, peer.remoteStatic)
        defer { wipe(&key) }

        // s
        store(identity.publicKey.bytes, into: message, at: Initiation.encryptedStatic)
        seal(message, at: Initiation.encryptedStatic, length: 32, key: key, hash: h)
        mixHash(&h, message, at: Initiation.encryptedStatic, length: 48)

        // ss
        (c, key) = kdf2(c, peer.staticStatic)

        // {t}
        withUnsafeBytes(of: timestamp.bytes) {
            UnsafeMutableRawBufferPointer(rebasing: message[Initiation.encryptedTimestamp...]).copyMemory(from: $0)
        }
        seal(message, at: Initiation.encryptedTimestamp, length: 12, key: key, hash: h)
        mixHash(&h, message, at: Initiation.encryptedTimestamp, length: 28)

        chainingKey = c
        hash = h
        localEphemeral = ephemeral
        self.localIndex = localIndex
        state = .createdInitiation
        wipe(&c)
    }

    /// Opens a response to our initiation (`message` is 92 bytes, MACs already
    /// checked) and derives the session as initiator. On success the handshake
    /// returns to `zeroed`; on failure it is unchanged.
    public mutating func consumeResponse(
        _ message: UnsafeRawBufferPointer, identity: StaticIdentity, peer: PeerKeys
    ) throws(HandshakeError) -> SessionKeys {
        guard state == .createdInitiation,
              message.loadUnaligned(fromByteOffset: Response.receiverIndex, as: UInt32.self) == localIndex.littleEndian
        else { throw .wrongState }
        var c = chainingKey
        var h = hash
        defer { wipe(&c); wipe(&h) }
        let responderEphemeral = PublicKey(raw: UnsafeRawBufferPointer(rebasing: message[Response.ephemeral...]))

        // e
        mixHash(&h, responderEphemeral)
        mixKey(&c, responderEphemeral.bytes)
        // ee
        var ignored = try mixDH(&c, localEphemeral, responderEphemeral)
        // se
        ignored = try mixDH(&c, identity.privateKey, responderEphemeral)
        wipe(&ignored)
        // psk
        var (tau, key) = mixPSK(&c, peer.presharedKey)
        defer { wipe(&tau); wipe(&key) }
        mixHash(&h, tau)
        // {}
        try open(message, at: Response.encryptedNothing, length: 0, key: key, hash: h)
        mixHash(&h, message, at: Response.encryptedNothing, length: 16)

        let remote = UInt32(littleEndian: message.loadUnaligned(fromByteOffset: Response.senderIndex, as: UInt32.self))
        let (sending, receiving) = kdf2(c, nil)
        let keys = SessionKeys(sending: SymmetricKey(bytes: sending), receiving: SymmetricKey(bytes: receiving),
                               localIndex: localIndex, remoteIndex: remote, isInitiator: true)
        zero()
        return keys
    }

    // MARK: Responder

    /// Opens the ephemeral and static fields of an initiation sent to
    /// `identity` (`message` is 148 bytes, MACs already checked), revealing
    /// which peer claims to have sent it.
    public static func openInitiation(
        _ message: UnsafeRawBufferPointer, identity: StaticIdentity
    ) throws(HandshakeError) -> OpenedInitiation {
        precondition(message.count >= Initiation.size, "initiation too short")
        var c = Protocol.initialChainingKey
        var h = Protocol.initialHash
        mixHash(&h, identity.publicKey)

        // e
        let initiatorEphemeral = PublicKey(raw: UnsafeRawBufferPointer(rebasing: message[Initiation.ephemeral...]))
        mixHash(&h, initiatorEphemeral)
        mixKey(&c, initiatorEphemeral.bytes)
        // es
        var key = try mixDH(&c, identity.privateKey, initiatorEphemeral)
        defer { wipe(&key) }
        // s
        var opened = InlineArray<48, UInt8>(repeating: 0)
        try withUnsafeMutableBytes(of: &opened) { (scratch) throws(HandshakeError) in
            scratch.copyMemory(from: UnsafeRawBufferPointer(rebasing: message[Initiation.encryptedStatic..<Initiation.encryptedStatic + 48]))
            try openScratch(scratch, length: 48, key: key, hash: h)
        }
        let initiatorStatic = withUnsafeBytes(of: opened) { PublicKey(raw: $0) }
        mixHash(&h, message, at: Initiation.encryptedStatic, length: 48)

        let sender = UInt32(littleEndian: message.loadUnaligned(fromByteOffset: Initiation.senderIndex, as: UInt32.self))
        return OpenedInitiation(initiatorStatic: initiatorStatic, senderIndex: sender,
                                remoteEphemeral: initiatorEphemeral, chainingKey: c, hash: h)
    }

    /// Finishes an opened initiation from this handshake's peer: opens the
    /// timestamp, refuses replays and floods, and moves to `consumedInitiation`.
    /// `now` is monotonic nanoseconds. On failure the handshake is unchanged.
    public mutating func consumeInitiation(
        _ opened: OpenedInitiation, message: UnsafeRawBufferPointer, peer: PeerKeys, now: UInt64
    ) throws(HandshakeError) {
        guard !isZero(peer.staticStatic) else { throw .weakKey }
        var c = opened.chainingKey
        var h = opened.hash
        defer { wipe(&c); wipe(&h) }

        // ss
        var key: Bytes32
        (c, key) = kdf2(c, peer.staticStatic)
        defer { wipe(&key) }
        // {t}
        var opened12 = InlineArray<28, UInt8>(repeating: 0)
        try withUnsafeMutableBytes(of: &opened12) { (scratch) throws(HandshakeError) in
            scratch.copyMemory(from: UnsafeRawBufferPointer(rebasing: message[Initiation.encryptedTimestamp..<Initiation.encryptedTimestamp + 28]))
            try openScratch(scratch, length: 28, key: key, hash: h)
        }
        var stamp = InlineArray<12, UInt8>(repeating: 0)
        for i in 0..<12 { stamp[i] = opened12[i] }
        let timestamp = TAI64N(bytes: stamp)
        mixHash(&h, message, at: Initiation.encryptedTimestamp, length: 28)

        guard timestamp > latestTimestamp else { throw .replayedTimestamp }
        if let last = lastInitiationConsumed, now &- last < Protocol.minimumInitiationInterval {
            throw .initiationFlood
        }

        zero()
        chainingKey = c
        hash = h
        remoteEphemeral = opened.remoteEphemeral
        remoteIndex = opened.senderIndex
        latestTimestamp = timestamp
        lastInitiationConsumed = now
        state = .consumedInitiation
    }

    /// Writes the body of the response (everything before mac1) into `message`
    /// (at least 92 bytes) and derives the session as responder. The handshake
    /// returns to `zeroed`.
    public mutating func createResponse(
        into message: UnsafeMutableRawBufferPointer, peer: PeerKeys, ephemeral: PrivateKey, localIndex: UInt32
    ) throws(HandshakeError) -> SessionKeys {
        precondition(message.count >= Response.size, "response buffer too small")
        guard state == .consumedInitiation else { throw .wrongState }
        var c = chainingKey
        var h = hash
        defer { wipe(&c); wipe(&h) }

        message.storeBytes(of: MessageType.response.rawValue.littleEndian, toByteOffset: 0, as: UInt32.self)
        message.storeBytes(of: localIndex.littleEndian, toByteOffset: Response.senderIndex, as: UInt32.self)
        message.storeBytes(of: remoteIndex.littleEndian, toByteOffset: Response.receiverIndex, as: UInt32.self)

        // e
        let ephemeralPublic = ephemeral.publicKey
        store(ephemeralPublic.bytes, into: message, at: Response.ephemeral)
        mixHash(&h, ephemeralPublic)
        mixKey(&c, ephemeralPublic.bytes)
        // ee
        var ignored = try mixDH(&c, ephemeral, remoteEphemeral)
        // se
        ignored = try mixDH(&c, ephemeral, peer.remoteStatic)
        wipe(&ignored)
        // psk
        var (tau, key) = mixPSK(&c, peer.presharedKey)
        defer { wipe(&tau); wipe(&key) }
        mixHash(&h, tau)
        // {}
        seal(message, at: Response.encryptedNothing, length: 0, key: key, hash: h)
        mixHash(&h, UnsafeRawBufferPointer(message), at: Response.encryptedNothing, length: 16)

        let (receiving, sending) = kdf2(c, nil)
        let keys = SessionKeys(sending: SymmetricKey(bytes: sending), receiving: SymmetricKey(bytes: receiving),
                               localIndex: localIndex, remoteIndex: remoteIndex, isInitiator: false)
        zero()
        return keys
    }
}

// MARK: - Noise helpers

extension Protocol {
    /// Ci = HASH(CONSTRUCTION), precomputed (checked by `ternd selftest`).
    public static let initialChainingKey: Bytes32 = [
        0x60, 0xe2, 0x6d, 0xae, 0xf3, 0x27, 0xef, 0xc0,
        0x2e, 0xc3, 0x35, 0xe2, 0xa0, 0x25, 0xd2, 0xd0,
        0x16, 0xeb, 0x42, 0x06, 0xf8, 0x72, 0x77, 0xf5,
        0x2d, 0x38, 0xd1, 0x98, 0x8b, 0x78, 0xcd, 0x36,
    ]

    /// Hi = HASH(Ci ‖ IDENTIFIER), precomputed (checked by `ternd selftest`).
    public static let initialHash: Bytes32 = [
        0x22, 0x11, 0xb3, 0x61, 0x08, 0x1a, 0xc5, 0x66,
        0x69, 0x12, 0x43, 0xdb, 0x45, 0x8a, 0xd5, 0x32,
        0x2d, 0x9c, 0x6c, 0x66, 0x22, 0x93, 0xe8, 0xb7,
        0x0e, 0xe1, 0x9c, 0x65, 0xba, 0x07, 0x9e, 0xf3,
    ]
}

private func isZero(_ value: Bytes32) -> Bool {
    var accumulated: UInt8 = 0
    for i in 0..<32 { accumulated |= value[i] }
    return accumulated == 0
}

/// MixHash(h, key): h = HASH(h ‖ key).
private func mixHash(_ h: inout Bytes32, _ key: PublicKey) { mixHash(&h, key.bytes) }

private func mixHash(_ h: inout Bytes32, _ data: Bytes32) {
    let previous = h
    h = withUnsafeBytes(of: previous) { p in withUnsafeBytes(of: data) { Blake2s.hash(p, $0) } }
}

/// MixHash over `length` bytes of a message at `offset`.
private func mixHash(_ h: inout Bytes32, _ message: UnsafeRawBufferPointer, at offset: Int, length: Int) {
    let previous = h
    h = withUnsafeBytes(of: previous) { p in
        Blake2s.hash(p, UnsafeRawBufferPointer(rebasing: message[offset..<offset + length]))
    }
}

private func mixHash(_ h: inout Bytes32, _ message: UnsafeMutableRawBufferPointer, at offset: Int, length: Int) {
    mixHash(&h, UnsafeRawBufferPointer(message), at: offset, length: length)
}

/// MixKey(c, input): c = KDF1(c, input).
private func mixKey(_ c: inout Bytes32, _ input: Bytes32) {
    let previous = c
    c = withUnsafeBytes(of: previous) { ck in withUnsafeBytes(of: input) { KDF.derive1(chainingKey: ck, $0) } }
}

/// (c, k) = KDF2(c, DH(private, public)); returns k.
private func mixDH(_ c: inout Bytes32, _ privateKey: PrivateKey, _ publicKey: PublicKey) throws(HandshakeError) -> Bytes32 {
    var shared: Bytes32
    do { shared = try X25519.sharedSecret(privateKey, publicKey) } catch { throw .weakKey }
    defer { wipe(&shared) }
    let key: Bytes32
    (c, key) = kdf2(c, shared)
    return key
}

/// (c, τ, k) = KDF3(c, psk); returns (τ, k).
private func mixPSK(_ c: inout Bytes32, _ psk: PresharedKey) -> (Bytes32, Bytes32) {
    let previous = c
    let (next, tau, key) = withUnsafeBytes(of: previous) { ck in
        psk.withUnsafeBytes { KDF.derive3(chainingKey: ck, $0) }
    }
    c = next
    return (tau, key)
}

/// KDF2(c, input), with an empty input when `input` is nil.
private func kdf2(_ c: Bytes32, _ input: Bytes32?) -> (Bytes32, Bytes32) {
    withUnsafeBytes(of: c) { ck in
        if let input {
            return withUnsafeBytes(of: input) { KDF.derive2(chainingKey: ck, $0) }
        }
        return KDF.derive2(chainingKey: ck, UnsafeRawBufferPointer(start: nil, count: 0))
    }
}

private func store(_ value: Bytes32, into message: UnsafeMutableRawBufferPointer, at offset: Int) {
    withUnsafeBytes(of: value) { UnsafeMutableRawBufferPointer(rebasing: message[offset..<offset + 32]).copyMemory(from: $0) }
}

/// AEAD(key, 0, message[offset..<offset+length], h), sealed in place (the tag follows).
private func seal(_ message: UnsafeMutableRawBufferPointer, at offset: Int, length: Int, key: Bytes32, hash: Bytes32) {
    _ = withUnsafeBytes(of: hash) { ad in
        ChaChaPoly.seal(UnsafeMutableRawBufferPointer(rebasing: message[offset..<offset + length + 16]),
                        plaintextLength: length, counter: 0, key: SymmetricKey(bytes: key), additionalData: ad)
    }
}

/// Verifies an AEAD field of a received message without modifying it (used
/// for the empty payload, where there is nothing to decrypt).
private func open(_ message: UnsafeRawBufferPointer, at offset: Int, length: Int, key: Bytes32, hash: Bytes32) throws(HandshakeError) {
    var scratch = InlineArray<16, UInt8>(repeating: 0)
    precondition(length == 0, "only the empty payload is verified without a scratch copy")
    try withUnsafeMutableBytes(of: &scratch) { (buffer) throws(HandshakeError) in
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: message[offset..<offset + 16]))
        try openScratch(buffer, length: 16, key: key, hash: hash)
    }
}

/// Opens `scratch[0..<length]` (ciphertext ‖ tag) in place.
private func openScratch(_ scratch: UnsafeMutableRawBufferPointer, length: Int, key: Bytes32, hash: Bytes32) throws(HandshakeError) {
    let ok = withUnsafeBytes(of: hash) { ad in
        (try? ChaChaPoly.open(scratch, sealedLength: length, counter: 0, key: SymmetricKey(bytes: key),
                              additionalData: ad)) != nil
    }
    guard ok else { throw .decryptionFailed }
}
