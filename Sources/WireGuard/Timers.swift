/// A peer's protocol timers (whitepaper §6; the kernel's `timers.c`), as
/// deadlines in monotonic nanoseconds. The device arms them through the hooks
/// below, named as in the kernel, and asks which have expired; nothing here
/// reads a clock.
public struct PeerTimers: Sendable {
    /// Resend the initiation if no response came (REKEY_TIMEOUT + jitter).
    public var retransmitHandshake: UInt64?
    /// Send a keepalive after receiving data and sending nothing (KEEPALIVE_TIMEOUT).
    public var sendKeepalive: UInt64?
    /// Start a new handshake when sent data got no answer (KEEPALIVE + REKEY_TIMEOUT + jitter).
    public var newHandshake: UInt64?
    /// Erase all keys after a long silence (3 × REJECT_AFTER_TIME).
    public var zeroKeyMaterial: UInt64?
    /// Send a keepalive every `persistentKeepaliveInterval` seconds of silence.
    public var persistentKeepalive: UInt64?

    /// Initiations sent for the current handshake attempt, retries included.
    public var handshakeAttempts = 0
    /// A keepalive is owed again once the pending one fires.
    public var needAnotherKeepalive = false
    /// The last-minute rekey (at 165 s) was already started for `current`.
    public var sentLastMinuteHandshake = false
    /// Seconds between persistent keepalives; 0 turns them off.
    public var persistentKeepaliveInterval: UInt16 = 0

    /// All timers off.
    public init() {}

    /// The earliest armed deadline.
    public var nextDeadline: UInt64? {
        earliest(earliest(earliest(retransmitHandshake, sendKeepalive), earliest(newHandshake, zeroKeyMaterial)),
                 persistentKeepalive)
    }

    /// Disarms every timer (the peer was removed or the device stopped).
    public mutating func stopAll() {
        retransmitHandshake = nil
        sendKeepalive = nil
        newHandshake = nil
        zeroKeyMaterial = nil
        persistentKeepalive = nil
    }

    // MARK: Hooks, named after the kernel's timers.h

    /// A data packet (not a keepalive) was sent. The jitter is drawn only
    /// when the timer is armed, not for every packet (it costs a getrandom).
    public mutating func dataSent(now: UInt64, jitter: @autoclosure () -> UInt64) {
        if newHandshake == nil {
            newHandshake = now + Protocol.keepaliveTimeout + Protocol.rekeyTimeout + jitter()
        }
    }

    /// A data packet (not a keepalive) was received.
    public mutating func dataReceived(now: UInt64) {
        if sendKeepalive == nil {
            sendKeepalive = now + Protocol.keepaliveTimeout
        } else {
            needAnotherKeepalive = true
        }
    }

    /// Any authenticated packet, handshakes included, was sent.
    public mutating func anyAuthenticatedPacketSent() {
        sendKeepalive = nil
    }

    /// Any authenticated packet, handshakes included, was received.
    public mutating func anyAuthenticatedPacketReceived() {
        newHandshake = nil
    }

    /// An authenticated packet went either way: restart the persistent keepalive.
    public mutating func anyAuthenticatedPacketTraversal(now: UInt64) {
        if persistentKeepaliveInterval > 0 {
            persistentKeepalive = now + UInt64(persistentKeepaliveInterval) * Protocol.second
        }
    }

    /// An initiation was sent.
    public mutating func handshakeInitiated(now: UInt64, jitter: UInt64) {
        retransmitHandshake = now + Protocol.rekeyTimeout + jitter
    }

    /// A handshake completed (response consumed, or first packet on `next`).
    public mutating func handshakeComplete() {
        retransmitHandshake = nil
        handshakeAttempts = 0
        sentLastMinuteHandshake = false
    }

    /// A session was derived (response sent or consumed).
    public mutating func sessionDerived(now: UInt64) {
        zeroKeyMaterial = now + 3 * Protocol.rejectAfterTime
    }
}

/// The earlier of two optional deadlines.
func earliest(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
    guard let a else { return b }
    guard let b else { return a }
    return min(a, b)
}
