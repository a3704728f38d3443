import IP
import TernCrypto

extension Device {
    /// Handles one IP packet read from the TUN device, at
    /// `buffer[16..<16 + length]` with room for padding and the tag after it.
    ///
    /// With a session, the packet is sealed in place and returned as
    /// `.writeToNetwork` (the message starts at offset 0). Without one, it is
    /// staged and a handshake is queued: drain `poll`.
    public func send(_ buffer: UnsafeMutableRawBufferPointer, length: Int, now: UInt64) -> Action {
        let packetBytes = UnsafeRawBufferPointer(rebasing: buffer[Transport.headerSize..<Transport.headerSize + length])
        guard let packet = try? IPPacket(packetBytes) else { return drop(.invalidInnerPacket) }
        guard let id = allowedIPs.lookup(packet.destination), let peer = peer(id) else { return drop(.noRoute) }
        guard let endpoint = peer.endpoint else { return drop(.noEndpoint) }
        guard identity != nil else { return drop(.noPrivateKey) }

        if peer.canSend(now: now), peer.staged.isEmpty {
            guard buffer.count >= Transport.headerSize + Transport.paddedLength(length, mtu: mtu) + ChaChaPoly.tagLength
            else { return drop(.tooLarge) }
            let sealed = peer.current!.seal(buffer, length: length, mtu: mtu, now: now)!
            dataSent(peer, bytes: sealed, now: now)
            return .writeToNetwork(endpoint, peer: peer.id, length: sealed)
        }
        guard length <= staging.slotSize else { return drop(.tooLarge) }
        let result = stage(packetBytes, for: peer)
        if peer.canSend(now: now) {
            enqueue(peer) { $0.wantsFlush = true }
        } else {
            enqueue(peer) { $0.wantsInitiation = true; $0.initiationIsRetry = false }
        }
        return result
    }

    /// The next queued transmission (an initiation, a keepalive or a staged
    /// packet), written into `buffer` from offset 0. Call until `.done`.
    public func poll(into buffer: UnsafeMutableRawBufferPointer, now: UInt64) -> Action {
        while let id = pending.first {
            guard let peer = peer(id) else {
                pending.removeFirst()
                continue
            }
            if let action = transmit(peer, into: buffer, now: now) { return action }
            pending.removeFirst()
            peer.queued = false
        }
        return .done
    }

    /// One pending transmission of `peer`, or nil when it has none left.
    private func transmit(_ peer: Peer, into buffer: UnsafeMutableRawBufferPointer, now: UInt64) -> Action? {
        if peer.wantsInitiation {
            peer.wantsInitiation = false
            if let action = sendInitiation(peer, into: buffer, now: now) { return action }
        }
        if peer.wantsFlush || peer.wantsKeepalive {
            guard peer.canSend(now: now) else {
                // No usable session: a handshake first; the data waits staged.
                peer.wantsFlush = false
                peer.wantsKeepalive = false
                if let action = sendInitiation(peer, into: buffer, now: now) { return action }
                return nil
            }
            if let endpoint = peer.endpoint {
                if let slot = peer.staged.first {
                    peer.staged.removeFirst()
                    let packet = staging.packet(slot)
                    UnsafeMutableRawBufferPointer(rebasing: buffer[Transport.headerSize..<Transport.headerSize + packet.count])
                        .copyMemory(from: packet)
                    staging.release(slot)
                    let sealed = peer.current!.seal(buffer, length: packet.count, mtu: mtu, now: now)!
                    dataSent(peer, bytes: sealed, now: now)
                    peer.wantsKeepalive = false          // the data carries the confirmation
                    return .writeToNetwork(endpoint, peer: peer.id, length: sealed)
                }
                peer.wantsFlush = false
                if peer.wantsKeepalive {
                    peer.wantsKeepalive = false
                    let sealed = peer.current!.seal(buffer, length: 0, mtu: mtu, now: now)!
                    peer.sentBytes &+= UInt64(sealed)
                    peer.timers.anyAuthenticatedPacketSent()
                    peer.timers.anyAuthenticatedPacketTraversal(now: now)
                    return .writeToNetwork(endpoint, peer: peer.id, length: sealed)
                }
            } else {
                peer.wantsFlush = false
                peer.wantsKeepalive = false
                return drop(.noEndpoint)
            }
        }
        return nil
    }

    /// Writes an initiation for `peer` unless one went out less than
    /// REKEY_TIMEOUT ago. Returns nil when nothing was sent.
    private func sendInitiation(_ peer: Peer, into buffer: UnsafeMutableRawBufferPointer, now: UInt64) -> Action? {
        guard let identity else { return nil }
        if let last = peer.lastSentInitiation, now &- last < Protocol.rekeyTimeout { return nil }
        if !peer.initiationIsRetry { peer.timers.handshakeAttempts = 0 }
        peer.initiationIsRetry = false

        if peer.handshake.state != .zeroed { indices.remove(peer.handshake.localIndex) }
        let localIndex = indices.insert(.handshake(peer.id), random: &random)
        let message = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Initiation.size])
        let stamp = timestamp(now: now)
        do {
            try peer.handshake.createInitiation(into: message, identity: identity, peer: peer.keys,
                                                ephemeral: random.privateKey(), localIndex: localIndex, timestamp: stamp)
        } catch {
            indices.remove(localIndex)
            return drop(.handshakeFailed)
        }
        peer.cookie.addMACs(to: message, peer: peer.keys, now: now)
        peer.lastSentInitiation = now
        peer.timers.anyAuthenticatedPacketSent()
        peer.timers.anyAuthenticatedPacketTraversal(now: now)
        peer.timers.handshakeInitiated(now: now, jitter: jitter())
        guard let endpoint = peer.endpoint else { return drop(.noEndpoint) }
        peer.sentBytes &+= UInt64(Initiation.size)
        return .writeToNetwork(endpoint, peer: peer.id, length: Initiation.size)
    }

    /// Bookkeeping after a data message of `bytes` went out through
    /// `current`, including the rekey-on-send rule.
    private func dataSent(_ peer: Peer, bytes: Int, now: UInt64) {
        peer.sentBytes &+= UInt64(bytes)
        peer.timers.dataSent(now: now, jitter: jitter())
        peer.timers.anyAuthenticatedPacketSent()
        peer.timers.anyAuthenticatedPacketTraversal(now: now)
        guard let current = peer.current else { return }
        if current.sendCounter > Protocol.rekeyAfterMessages
            || (current.isInitiator && now &- current.created > Protocol.rekeyAfterTime) {
            enqueue(peer) { $0.wantsInitiation = true; $0.initiationIsRetry = false }
        }
    }

    /// Stages a packet, dropping the peer's oldest one when its queue or the pool is full.
    private func stage(_ packet: UnsafeRawBufferPointer, for peer: Peer) -> Action {
        var result = Action.done
        if peer.staged.count >= Protocol.maxStagedPackets || staging.available == 0 {
            guard let oldest = peer.staged.first else { return drop(.stagingOverflow) }
            peer.staged.removeFirst()
            staging.release(oldest)
            result = drop(.stagingOverflow)
        }
        if let slot = staging.stage(packet) { peer.staged.append(slot) }
        return result
    }

    /// A TAI64N label for `now`. The core has only monotonic time, so the label
    /// is `wallClockOffset + now`; the shell sets the offset from the real clock.
    func timestamp(now: UInt64) -> TAI64N {
        let wall = wallClockOffset &+ now
        return TAI64N(unixSeconds: Int64(wall / Protocol.second), nanoseconds: UInt32(wall % Protocol.second))
    }
}
