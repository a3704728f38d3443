extension Device {
    /// Runs every timer that has expired at `now` (whitepaper §6.4; the
    /// kernel's `timers.c`). Transmissions they cause are queued: drain `poll`.
    public func tick(now: UInt64) {
        for case let peer? in peerSlots {
            var timers = peer.timers
            defer { peer.timers = timers }

            if let deadline = timers.retransmitHandshake, deadline <= now {
                timers.retransmitHandshake = nil
                if timers.handshakeAttempts > Protocol.maxHandshakeAttempts {
                    // Give up: forget the data waiting for this handshake.
                    timers.sendKeepalive = nil
                    dropStaged(peer)
                    if timers.zeroKeyMaterial == nil { timers.zeroKeyMaterial = now + 3 * Protocol.rejectAfterTime }
                } else {
                    timers.handshakeAttempts += 1
                    enqueue(peer) { $0.wantsInitiation = true; $0.initiationIsRetry = true }
                }
            }
            if let deadline = timers.sendKeepalive, deadline <= now {
                timers.sendKeepalive = nil
                if peer.staged.isEmpty { enqueue(peer) { $0.wantsKeepalive = true } }
                if timers.needAnotherKeepalive {
                    timers.needAnotherKeepalive = false
                    timers.sendKeepalive = now + Protocol.keepaliveTimeout
                }
            }
            if let deadline = timers.newHandshake, deadline <= now {
                timers.newHandshake = nil
                enqueue(peer) { $0.wantsInitiation = true; $0.initiationIsRetry = false }
            }
            if let deadline = timers.zeroKeyMaterial, deadline <= now {
                timers.zeroKeyMaterial = nil
                clearSessions(peer)
            }
            if let deadline = timers.persistentKeepalive, deadline <= now {
                timers.persistentKeepalive = nil
                if timers.persistentKeepaliveInterval > 0 { enqueue(peer) { $0.wantsKeepalive = true } }
            }
        }
    }
}
