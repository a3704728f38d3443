import TernCrypto

/// One session's transport keys and counters (whitepaper §5.4.6), sealing and
/// opening transport messages in place in the caller's packet buffer.
///
/// Buffer layout for both directions: the 16-byte header, then the payload,
/// then room for the 16-byte tag. A packet read from the TUN device is placed
/// at offset 16 so nothing is ever copied.
public struct Keypair: Sendable {
    private let sending: SymmetricKey
    private let receiving: SymmetricKey
    /// Our index: the receiver_index of packets sent to us under this keypair.
    public let localIndex: UInt32
    /// The peer's index: the receiver_index we write.
    public let remoteIndex: UInt32
    /// True if we initiated the handshake that made this keypair.
    public let isInitiator: Bool
    /// When the keypair was made (monotonic nanoseconds).
    public let created: UInt64
    /// The counter of the next packet we send.
    public private(set) var sendCounter: UInt64 = 0
    private var replay = ReplayWindow()

    /// Wraps a finished handshake's keys, made at `now`.
    public init(_ keys: SessionKeys, now: UInt64) {
        sending = keys.sending
        receiving = keys.receiving
        localIndex = keys.localIndex
        remoteIndex = keys.remoteIndex
        isInitiator = keys.isInitiator
        created = now
    }

    /// True if this keypair may still send at `now`: younger than
    /// REJECT_AFTER_TIME and below REJECT_AFTER_MESSAGES.
    public func canSend(now: UInt64) -> Bool {
        now &- created < Protocol.rejectAfterTime && sendCounter < Protocol.rejectAfterMessages
    }

    /// True if this keypair may still receive at `now`.
    public func canReceive(now: UInt64) -> Bool { now &- created < Protocol.rejectAfterTime }

    /// Seals the IP packet at `buffer[16..<16 + length]` into a transport
    /// message: pads it for `mtu` (0 = none), encrypts it in place, and writes
    /// the header. `buffer` must hold the padded packet plus the tag. Returns
    /// the message length, or nil when this keypair may not send.
    public mutating func seal(_ buffer: UnsafeMutableRawBufferPointer, length: Int, mtu: Int, now: UInt64) -> Int? {
        guard canSend(now: now) else { return nil }
        let padded = Transport.paddedLength(length, mtu: mtu)
        precondition(buffer.count >= Transport.headerSize + padded + ChaChaPoly.tagLength, "packet buffer too small")
        let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[Transport.headerSize...])
        if padded > length {
            _ = payload[length..<padded].initializeMemory(as: UInt8.self, repeating: 0)
        }
        let counter = sendCounter
        sendCounter += 1
        buffer.storeBytes(of: MessageType.transport.rawValue.littleEndian, toByteOffset: 0, as: UInt32.self)
        buffer.storeBytes(of: remoteIndex.littleEndian, toByteOffset: Transport.receiverIndex, as: UInt32.self)
        buffer.storeBytes(of: counter.littleEndian, toByteOffset: Transport.counter, as: UInt64.self)
        let sealed = ChaChaPoly.seal(payload, plaintextLength: padded, counter: counter, key: sending)
        return Transport.headerSize + sealed
    }

    /// Why a transport message was not accepted.
    public enum OpenError: Error, Equatable, Sendable {
        /// The keypair is too old to receive.
        case expired
        /// The tag did not verify.
        case authenticationFailed
        /// The counter was seen before, is too old, or is past the limit.
        case replayed
    }

    /// Opens the transport message `buffer[0..<length]` in place; the padded
    /// plaintext is left at `buffer[16..<16 + result]`. The replay window is
    /// consulted only after the tag verifies.
    public mutating func open(
        _ buffer: UnsafeMutableRawBufferPointer, length: Int, now: UInt64
    ) throws(OpenError) -> Int {
        guard canReceive(now: now) else { throw .expired }
        let counter = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: Transport.counter, as: UInt64.self))
        guard counter < Protocol.rejectAfterMessages else { throw .replayed }
        let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[Transport.headerSize..<length])
        let plaintextLength: Int
        do {
            plaintextLength = try ChaChaPoly.open(payload, sealedLength: payload.count, counter: counter, key: receiving)
        } catch {
            throw .authenticationFailed
        }
        guard replay.accept(counter) else { throw .replayed }
        return plaintextLength
    }

    /// The counter of `message`, a transport message, for logging.
    public static func counter(of message: UnsafeRawBufferPointer) -> UInt64 {
        UInt64(littleEndian: message.loadUnaligned(fromByteOffset: Transport.counter, as: UInt64.self))
    }
}
