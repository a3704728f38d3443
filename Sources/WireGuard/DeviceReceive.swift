import IP
import TernCrypto

extension Device {
    /// Handles one UDP datagram `buffer[0..<length]` from `source`.
    public func receive(_ buffer: UnsafeMutableRawBufferPointer, length: Int, from source: Endpoint, now: UInt64) -> Action {
        receive(buffer, length: length, from: .udp(source), now: now)
    }

    /// Handles one datagram `buffer[0..<length]` that arrived along `source`.
    ///
    /// A handshake answer (response or cookie reply) is written into `buffer`
    /// itself and returned as `.writeToNetwork`. Decrypted data is left in
    /// place and returned as `.writeToTunnel`. Then drain `poll`.
    public func receive(_ buffer: UnsafeMutableRawBufferPointer, length: Int, from source: Path, now: UInt64) -> Action {
        let datagram = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
        guard let type = MessageType.classify(datagram) else { return drop(.malformed) }
        guard let identity else { return drop(.noPrivateKey) }
        switch type {
        case .initiation, .response:
            if let refused = checkHandshakeMACs(buffer, length: length, from: source, identity: identity, now: now) {
                return refused
            }
            return type == .initiation
                ? receiveInitiation(buffer, from: source, identity: identity, now: now)
                : receiveResponse(datagram, from: source, identity: identity, now: now)
        case .cookieReply:
            return receiveCookieReply(datagram, now: now)
        case .transport:
            return receiveTransport(buffer, length: length, from: source, now: now)
        }
    }

    /// mac1 always; under load, mac2 and the per-source rate limit. Returns
    /// the action when the message is refused (possibly a cookie reply).
    /// A relay cannot carry a cookie reply to a sender it did not name, and
    /// it authenticated and rate-limits its clients itself, so handshakes
    /// that came over one are checked for mac1 only.
    private func checkHandshakeMACs(
        _ buffer: UnsafeMutableRawBufferPointer, length: Int, from path: Path, identity: StaticIdentity, now: UInt64
    ) -> Action? {
        let message = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
        guard cookieChecker.checkMAC1(message, identity: identity) else { return drop(.invalidMAC1) }
        guard isUnderLoad(now: now), case .udp(let source) = path else { return nil }

        var sourceBytes = InlineArray<18, UInt8>(repeating: 0)
        let sourceLength = withUnsafeMutableBytes(of: &sourceBytes) { encode(source, into: $0) }
        let validMAC2 = withUnsafeBytes(of: sourceBytes) { bytes in
            cookieChecker.checkMAC2(message, source: UnsafeRawBufferPointer(rebasing: bytes[0..<sourceLength]),
                                    now: now, random: &random)
        }
        guard validMAC2 else {
            // Ask the sender to prove its address; the reply replaces the message in the buffer.
            var scratch = InlineArray<148, UInt8>(repeating: 0)
            withUnsafeMutableBytes(of: &scratch) { $0.copyMemory(from: message) }
            withUnsafeBytes(of: scratch) { original in
                withUnsafeBytes(of: sourceBytes) { bytes in
                    cookieChecker.writeReply(
                        into: buffer, to: UnsafeRawBufferPointer(rebasing: original[0..<length]),
                        source: UnsafeRawBufferPointer(rebasing: bytes[0..<sourceLength]),
                        identity: identity, now: now, random: &random)
                }
            }
            drops[DropReason.cookieRequired.rawValue] &+= 1
            return .writeToNetwork(path, peer: nil, length: CookieReply.size)
        }
        guard rateLimiter.allow(source.address, now: now) else { return drop(.rateLimited) }
        return nil
    }

    /// Counts handshake arrivals; more than `underLoadThreshold` in a second
    /// puts the device under load for the next second.
    private func isUnderLoad(now: UInt64) -> Bool {
        if now &- loadWindowStart >= Protocol.second {
            loadWindowStart = now
            loadWindowCount = 0
        }
        loadWindowCount += 1
        if loadWindowCount > underLoadThreshold { underLoadUntil = now + Protocol.second }
        return now < underLoadUntil
    }

    private func receiveInitiation(
        _ buffer: UnsafeMutableRawBufferPointer, from source: Path, identity: StaticIdentity, now: UInt64
    ) -> Action {
        let message = UnsafeRawBufferPointer(rebasing: buffer[0..<Initiation.size])
        let opened: OpenedInitiation
        do { opened = try Handshake.openInitiation(message, identity: identity) } catch { return drop(.handshakeFailed) }
        guard let peer = peer(for: opened.initiatorStatic) else { return drop(.unknownPeer) }

        let previousIndex = peer.handshake.state == .zeroed ? nil : Optional(peer.handshake.localIndex)
        do {
            try peer.handshake.consumeInitiation(opened, message: message, peer: peer.keys, now: now)
        } catch {
            switch error {
            case .replayedTimestamp: return drop(.replayedHandshake)
            case .initiationFlood: return drop(.handshakeFlood)
            default: return drop(.handshakeFailed)
            }
        }
        if let previousIndex { indices.remove(previousIndex) }
        heard(peer, from: source)
        peer.receivedBytes &+= UInt64(Initiation.size)
        peer.timers.anyAuthenticatedPacketReceived()
        peer.timers.anyAuthenticatedPacketTraversal(now: now)

        // Answer in the same buffer.
        let localIndex = indices.insert(.keypair(peer.id), random: &random)
        let response = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Response.size])
        let keys: SessionKeys
        do {
            keys = try peer.handshake.createResponse(into: response, peer: peer.keys,
                                                     ephemeral: random.privateKey(), localIndex: localIndex)
        } catch {
            indices.remove(localIndex)
            return drop(.handshakeFailed)
        }
        peer.cookie.addMACs(to: response, peer: peer.keys, now: now)
        install(Keypair(keys, now: now), in: peer)
        peer.timers.sessionDerived(now: now)
        peer.timers.anyAuthenticatedPacketSent()
        peer.lastSentInitiation = now
        peer.sentBytes &+= UInt64(Response.size)
        return .writeToNetwork(source, peer: peer.id, length: Response.size)
    }

    private func receiveResponse(
        _ message: UnsafeRawBufferPointer, from source: Path, identity: StaticIdentity, now: UInt64
    ) -> Action {
        let receiver = UInt32(littleEndian: message.loadUnaligned(fromByteOffset: Response.receiverIndex, as: UInt32.self))
        guard case .handshake(let id)? = indices[receiver], let peer = peer(id) else { return drop(.unknownIndex) }
        let keys: SessionKeys
        do { keys = try peer.handshake.consumeResponse(message, identity: identity, peer: peer.keys) } catch {
            return drop(.handshakeFailed)
        }
        indices.replace(keys.localIndex, with: .keypair(peer.id))
        install(Keypair(keys, now: now), in: peer)
        heard(peer, from: source)
        peer.receivedBytes &+= UInt64(Response.size)
        peer.lastHandshake = now
        peer.timers.anyAuthenticatedPacketReceived()
        peer.timers.anyAuthenticatedPacketTraversal(now: now)
        peer.timers.handshakeComplete()
        peer.timers.sessionDerived(now: now)
        // Key confirmation for the responder: staged data, or a keepalive.
        enqueue(peer) { if $0.staged.isEmpty { $0.wantsKeepalive = true } else { $0.wantsFlush = true } }
        return .done
    }

    private func receiveCookieReply(_ message: UnsafeRawBufferPointer, now: UInt64) -> Action {
        let receiver = UInt32(littleEndian: message.loadUnaligned(fromByteOffset: CookieReply.receiverIndex, as: UInt32.self))
        guard let entry = indices[receiver], let peer = peer(entry.peer) else { return drop(.unknownIndex) }
        do { try peer.cookie.consumeReply(message, peer: peer.keys, now: now) } catch { return drop(.invalidCookie) }
        return .done
    }

    private func receiveTransport(
        _ buffer: UnsafeMutableRawBufferPointer, length: Int, from source: Path, now: UInt64
    ) -> Action {
        let receiver = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: Transport.receiverIndex, as: UInt32.self))
        guard case .keypair(let id)? = indices[receiver], let peer = peer(id),
              let slot = peer.keypairSlot(for: receiver) else { return drop(.unknownIndex) }

        let opened: Int
        do {
            switch slot {
            case .current: opened = try peer.current!.open(buffer, length: length, now: now)
            case .next: opened = try peer.next!.open(buffer, length: length, now: now)
            case .previous: opened = try peer.previous!.open(buffer, length: length, now: now)
            }
        } catch {
            switch error {
            case .expired: return drop(.expiredKeypair)
            case .authenticationFailed: return drop(.decryptionFailed)
            case .replayed: return drop(.replayed)
            }
        }

        heard(peer, from: source)
        peer.receivedBytes &+= UInt64(length)
        if slot == .next { confirmNext(peer, now: now) }
        peer.timers.anyAuthenticatedPacketReceived()
        peer.timers.anyAuthenticatedPacketTraversal(now: now)
        rekeyIfLastMinute(peer, now: now)

        guard opened > 0 else { return .done }        // a keepalive
        let plaintext = UnsafeRawBufferPointer(rebasing: buffer[Transport.headerSize..<Transport.headerSize + opened])
        guard let packet = try? IPPacket(plaintext) else { return drop(.invalidInnerPacket) }
        guard allowedIPs.lookup(packet.source) == peer.id else { return drop(.sourceNotAllowed) }
        peer.timers.dataReceived(now: now)
        return .writeToTunnel(peer: peer.id, offset: Transport.headerSize, length: packet.totalLength)
    }

    /// A new keypair enters its slot (spec digest §4).
    func install(_ keypair: Keypair, in peer: Peer) {
        if keypair.isInitiator {
            if let next = peer.next {
                peer.next = nil
                if let current = peer.current { indices.remove(current.localIndex) }
                if let previous = peer.previous { indices.remove(previous.localIndex) }
                peer.previous = next
            } else {
                if let previous = peer.previous { indices.remove(previous.localIndex) }
                peer.previous = peer.current
            }
            peer.current = keypair
        } else {
            if let next = peer.next { indices.remove(next.localIndex) }
            peer.next = keypair
            if let previous = peer.previous { indices.remove(previous.localIndex) }
            peer.previous = nil
        }
    }

    /// The first packet on `next` confirms the responder's session.
    private func confirmNext(_ peer: Peer, now: UInt64) {
        if let previous = peer.previous { indices.remove(previous.localIndex) }
        peer.previous = peer.current
        peer.current = peer.next
        peer.next = nil
        peer.lastHandshake = now
        peer.timers.handshakeComplete()
        if !peer.staged.isEmpty { enqueue(peer) { $0.wantsFlush = true } }
    }

    /// The initiator starts a new handshake 165 s into a session, once.
    private func rekeyIfLastMinute(_ peer: Peer, now: UInt64) {
        guard !peer.timers.sentLastMinuteHandshake, let current = peer.current, current.isInitiator,
              now &- current.created > Protocol.rejectAfterTime - Protocol.keepaliveTimeout - Protocol.rekeyTimeout
        else { return }
        peer.timers.sentLastMinuteHandshake = true
        enqueue(peer) { $0.wantsInitiation = true; $0.initiationIsRetry = false }
    }
}

/// The cookie input for a source: address bytes, then the port big-endian (as the kernel does).
private func encode(_ source: Endpoint, into out: UnsafeMutableRawBufferPointer) -> Int {
    let count = source.address.byteCount
    source.address.write(networkOrderBytesTo: UnsafeMutableRawBufferPointer(rebasing: out[0..<count]))
    out.storeBytes(of: source.port.bigEndian, toByteOffset: count, as: UInt16.self)
    return count + 2
}
