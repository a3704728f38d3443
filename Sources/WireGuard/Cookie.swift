import TernCrypto

/// Why a cookie reply was refused.
public enum CookieError: Error, Equatable, Sendable {
    /// We have sent no handshake message the reply could answer.
    case unexpected
    /// The encrypted cookie did not open (forged, or not for our last mac1).
    case decryptionFailed
}

/// Handshake MACs and cookies, the sender's half, for one peer (whitepaper §5.4.7).
///
/// Adds mac1 (always) and mac2 (while we hold a fresh cookie from the peer)
/// to our initiations and responses, and stores cookies the peer sends us
/// when it is under load.
public struct PeerCookie: Sendable {
    private var cookie = Bytes16(repeating: 0)
    private var cookieReceived: UInt64?
    private var lastMAC1Sent = Bytes16(repeating: 0)
    private var hasSentMAC1 = false

    /// No cookie yet.
    public init() {}

    /// Writes mac1 and mac2 into the last 32 bytes of `message` (an initiation
    /// or a response, MAC fields last) and remembers mac1 for a cookie reply.
    public mutating func addMACs(to message: UnsafeMutableRawBufferPointer, peer: PeerKeys, now: UInt64) {
        let mac1Offset = message.count - 32
        let mac2Offset = message.count - 16
        let mac1 = withUnsafeBytes(of: peer.mac1Key) { key in
            Blake2s.mac(key: key, UnsafeRawBufferPointer(rebasing: message[0..<mac1Offset]))
        }
        store(mac1, into: message, at: mac1Offset)
        lastMAC1Sent = mac1
        hasSentMAC1 = true

        var mac2 = Bytes16(repeating: 0)
        if let received = cookieReceived, now &- received < Protocol.cookieSecretMaxAge {
            mac2 = withUnsafeBytes(of: cookie) { key in
                Blake2s.mac(key: key, UnsafeRawBufferPointer(rebasing: message[0..<mac2Offset]))
            }
        }
        store(mac2, into: message, at: mac2Offset)
    }

    /// Opens a cookie reply from the peer (64 bytes) and keeps its cookie for
    /// the mac2 of our next handshake message. We never answer it.
    public mutating func consumeReply(_ reply: UnsafeRawBufferPointer, peer: PeerKeys, now: UInt64) throws(CookieError) {
        guard hasSentMAC1 else { throw .unexpected }
        var scratch = InlineArray<32, UInt8>(repeating: 0)
        let opened = withUnsafeMutableBytes(of: &scratch) { buffer in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: reply[CookieReply.encryptedCookie..<CookieReply.size]))
            return withUnsafeBytes(of: lastMAC1Sent) { ad in
                (try? XChaChaPoly.open(
                    buffer, sealedLength: 32,
                    nonce: UnsafeRawBufferPointer(rebasing: reply[CookieReply.nonce..<CookieReply.nonce + 24]),
                    key: SymmetricKey(bytes: peer.cookieKey), additionalData: ad)) != nil
            }
        }
        guard opened else { throw .decryptionFailed }
        for i in 0..<16 { cookie[i] = scratch[i] }
        cookieReceived = now
        // One cookie per mac1, as the kernel does: a second reply to the same message is ignored.
        hasSentMAC1 = false
    }
}

/// Handshake MACs and cookies, the receiver's half, for this device.
///
/// Checks mac1 on every handshake message and, under load, mac2; makes the
/// cookie replies that ask a sender to prove its address.
public struct CookieChecker: Sendable {
    private var secret = Bytes32(repeating: 0)
    private var secretBorn: UInt64?

    /// A checker whose secret is made on first use.
    public init() {}

    /// True if mac1 of `message` (an initiation or response sent to us) is valid.
    public func checkMAC1(_ message: UnsafeRawBufferPointer, identity: StaticIdentity) -> Bool {
        let mac1Offset = message.count - 32
        let expected = withUnsafeBytes(of: identity.mac1Key) { key in
            Blake2s.mac(key: key, UnsafeRawBufferPointer(rebasing: message[0..<mac1Offset]))
        }
        return withUnsafeBytes(of: expected) { constantTimeEqual($0, UnsafeRawBufferPointer(rebasing: message[mac1Offset..<mac1Offset + 16])) }
    }

    /// True if mac2 of `message` proves that its sender received our cookie
    /// for `source` (the sender's IP address bytes and port, as the caller
    /// encodes them; only this checker reads the encoding).
    public mutating func checkMAC2<R: RandomSource>(
        _ message: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, now: UInt64, random: inout R
    ) -> Bool {
        let mac2Offset = message.count - 16
        let cookie = makeCookie(source: source, now: now, random: &random)
        let expected = withUnsafeBytes(of: cookie) { key in
            Blake2s.mac(key: key, UnsafeRawBufferPointer(rebasing: message[0..<mac2Offset]))
        }
        return withUnsafeBytes(of: expected) { constantTimeEqual($0, UnsafeRawBufferPointer(rebasing: message[mac2Offset..<mac2Offset + 16])) }
    }

    /// Writes into `reply` (64 bytes) the cookie reply to `message`, whose sender
    /// is at `source`: the cookie sealed under our cookie key, bound to the
    /// message's mac1.
    public mutating func writeReply<R: RandomSource>(
        into reply: UnsafeMutableRawBufferPointer, to message: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer,
        identity: StaticIdentity, now: UInt64, random: inout R
    ) {
        precondition(reply.count >= CookieReply.size, "cookie reply buffer too small")
        let senderIndex = message.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        reply.storeBytes(of: MessageType.cookieReply.rawValue.littleEndian, toByteOffset: 0, as: UInt32.self)
        reply.storeBytes(of: senderIndex, toByteOffset: CookieReply.receiverIndex, as: UInt32.self)
        let nonce = UnsafeMutableRawBufferPointer(rebasing: reply[CookieReply.nonce..<CookieReply.nonce + 24])
        random.fill(nonce)
        let cookie = makeCookie(source: source, now: now, random: &random)
        store(cookie, into: reply, at: CookieReply.encryptedCookie)
        let mac1Offset = message.count - 32
        XChaChaPoly.seal(
            UnsafeMutableRawBufferPointer(rebasing: reply[CookieReply.encryptedCookie..<CookieReply.size]),
            plaintextLength: 16, nonce: UnsafeRawBufferPointer(nonce), key: SymmetricKey(bytes: identity.cookieKey),
            additionalData: UnsafeRawBufferPointer(rebasing: message[mac1Offset..<mac1Offset + 16]))
    }

    /// cookie = MAC(Rm, source), with Rm replaced once it is two minutes old.
    private mutating func makeCookie<R: RandomSource>(source: UnsafeRawBufferPointer, now: UInt64, random: inout R) -> Bytes16 {
        if secretBorn == nil || now &- secretBorn! >= Protocol.cookieSecretMaxAge {
            secret = random.bytes32()
            secretBorn = now
        }
        return withUnsafeBytes(of: secret) { Blake2s.mac(key: $0, source) }
    }
}

private func store(_ value: Bytes16, into message: UnsafeMutableRawBufferPointer, at offset: Int) {
    withUnsafeBytes(of: value) { UnsafeMutableRawBufferPointer(rebasing: message[offset..<offset + 16]).copyMemory(from: $0) }
}
