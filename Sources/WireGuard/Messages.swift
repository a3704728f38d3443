import TernCrypto

/// WireGuard's wire formats and protocol constants, in one place (the kernel's
/// `messages.h`). All integers on the wire are little-endian.

/// The four message types. The type is one byte followed by three zero bytes;
/// reading the first four bytes as a little-endian UInt32 rejects nonzero
/// reserved bytes for free.
public enum MessageType: UInt32, Sendable {
    /// Handshake initiation (148 bytes).
    case initiation = 1
    /// Handshake response (92 bytes).
    case response = 2
    /// Cookie reply (64 bytes).
    case cookieReply = 3
    /// Transport data (16-byte header, ciphertext, 16-byte tag).
    case transport = 4

    /// The type of `datagram` if its first word names one and its length is
    /// valid for that type; nil means drop.
    public static func classify(_ datagram: UnsafeRawBufferPointer) -> MessageType? {
        guard datagram.count >= 4 else { return nil }
        guard let type = MessageType(rawValue: UInt32(littleEndian: datagram.loadUnaligned(as: UInt32.self))) else {
            return nil
        }
        switch type {
        case .initiation: return datagram.count == Initiation.size ? type : nil
        case .response: return datagram.count == Response.size ? type : nil
        case .cookieReply: return datagram.count == CookieReply.size ? type : nil
        case .transport: return datagram.count >= Transport.minimumSize ? type : nil
        }
    }
}

/// Byte offsets of the handshake initiation.
public enum Initiation {
    /// Total size.
    public static let size = 148
    /// sender_index (4).
    public static let senderIndex = 4
    /// unencrypted_ephemeral (32).
    public static let ephemeral = 8
    /// encrypted_static (32 + 16).
    public static let encryptedStatic = 40
    /// encrypted_timestamp (12 + 16).
    public static let encryptedTimestamp = 88
    /// mac1 (16).
    public static let mac1 = 116
    /// mac2 (16).
    public static let mac2 = 132
}

/// Byte offsets of the handshake response.
public enum Response {
    /// Total size.
    public static let size = 92
    /// sender_index (4).
    public static let senderIndex = 4
    /// receiver_index (4).
    public static let receiverIndex = 8
    /// unencrypted_ephemeral (32).
    public static let ephemeral = 12
    /// encrypted_nothing (0 + 16).
    public static let encryptedNothing = 44
    /// mac1 (16).
    public static let mac1 = 60
    /// mac2 (16).
    public static let mac2 = 76
}

/// Byte offsets of the cookie reply.
public enum CookieReply {
    /// Total size.
    public static let size = 64
    /// receiver_index (4).
    public static let receiverIndex = 4
    /// nonce (24).
    public static let nonce = 8
    /// encrypted_cookie (16 + 16).
    public static let encryptedCookie = 32
}

/// Byte offsets of the transport data message.
public enum Transport {
    /// receiver_index (4).
    public static let receiverIndex = 4
    /// counter (8).
    public static let counter = 8
    /// Where the ciphertext starts: the header length.
    public static let headerSize = 16
    /// An empty (keepalive) message: header and tag.
    public static let minimumSize = headerSize + ChaChaPoly.tagLength
    /// Plaintext is zero-padded to a multiple of this.
    public static let paddingMultiple = 16

    /// The padded plaintext length for a packet of `length` bytes under `mtu`
    /// (0 = no MTU known): the packet whole, then zeros up to a multiple of
    /// 16, never padding past the MTU. A packet longer than the MTU (the
    /// MTU was lowered, or a GSO super-packet) is padded as its last
    /// MTU-sized piece would be, never cut.
    public static func paddedLength(_ length: Int, mtu: Int) -> Int {
        guard mtu > 0 else { return roundedUp(length) }
        var last = length
        if last > mtu { last %= mtu }
        return length + (min(mtu, roundedUp(last)) - last)
    }

    private static func roundedUp(_ length: Int) -> Int {
        (length + paddingMultiple - 1) / paddingMultiple * paddingMultiple
    }
}

/// Protocol constants (whitepaper §6; spec digest §7). Times are in nanoseconds.
public enum Protocol {
    /// `Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s`
    public static let construction: StaticString = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
    /// `WireGuard v1 zx2c4 Jason@zx2c4.com`
    public static let identifier: StaticString = "WireGuard v1 zx2c4 Jason@zx2c4.com"
    /// Label of the mac1 key.
    public static let labelMAC1: StaticString = "mac1----"
    /// Label of the cookie key.
    public static let labelCookie: StaticString = "cookie--"

    /// A second, in nanoseconds.
    public static let second: UInt64 = 1_000_000_000
    /// Start a new handshake after this many messages on one keypair.
    public static let rekeyAfterMessages: UInt64 = 1 << 60
    /// Refuse to use a keypair for this many messages (wireguard-go's value).
    public static let rejectAfterMessages: UInt64 = 0xFFFF_FFFF_FFFF_DFFF
    /// The initiator rekeys a keypair this old.
    public static let rekeyAfterTime: UInt64 = 120 * second
    /// A keypair this old is never used.
    public static let rejectAfterTime: UInt64 = 180 * second
    /// Give up on a handshake after retrying it for this long.
    public static let rekeyAttemptTime: UInt64 = 90 * second
    /// Retransmit an unanswered initiation after this (plus jitter).
    public static let rekeyTimeout: UInt64 = 5 * second
    /// Send a keepalive after receiving data and sending none for this long.
    public static let keepaliveTimeout: UInt64 = 10 * second
    /// A cookie secret, and a received cookie, are good for this long.
    public static let cookieSecretMaxAge: UInt64 = 120 * second
    /// The largest retransmission jitter.
    public static let maxJitter: UInt64 = 333_000_000
    /// Initiations from one peer are accepted at most this often (50 per second).
    public static let minimumInitiationInterval: UInt64 = second / 50
    /// Attempts before giving up: rekeyAttemptTime / rekeyTimeout.
    public static let maxHandshakeAttempts = 18
    /// Packets queued per peer while no session exists.
    public static let maxStagedPackets = 128
}
