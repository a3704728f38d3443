import TernCrypto
import WireGuard

/// The transport half of a finished control handshake: one key and one
/// counter per direction.
///
/// Each transport frame body is ChaCha20-Poly1305 of the plaintext under the
/// key for its direction, with WireGuard's nonce (four zero bytes, then the
/// 64-bit counter little-endian) and no additional data. Counters start at 0
/// and count frames; they are implicit because TCP delivers in order, so a
/// dropped, duplicated, reordered or replayed frame fails to open.
///
/// Any failure to open wipes the session: the stream is out of step for good
/// and the connection must close. Structs have no deinit, so a caller that
/// ends a session early calls `wipe()`.
public struct ControlSession: Sendable {
    private var sendingKey: SymmetricKey
    private var receivingKey: SymmetricKey
    /// The counter of the next frame this side seals.
    public private(set) var sendCounter: UInt64
    /// The counter of the next frame this side expects to open.
    public private(set) var receiveCounter: UInt64
    /// False once wiped (by the caller, or by a frame that failed to open).
    public private(set) var isOpen = true

    /// The largest plaintext one frame can carry.
    public static let maxPlaintextLength = ControlFraming.maxFrameLength - ChaChaPoly.tagLength

    /// The last counter value is never used, so that at most 2^64 - 1 frames
    /// go each way and the counter cannot wrap.
    static let counterLimit = UInt64.max

    /// A session over the keys a handshake derived.
    init(keys: SessionKeys, sendCounter: UInt64 = 0, receiveCounter: UInt64 = 0) {
        sendingKey = keys.sending
        receivingKey = keys.receiving
        self.sendCounter = sendCounter
        self.receiveCounter = receiveCounter
    }

    /// Encrypts `plaintext` and returns the complete frame (length prefix
    /// included), ready to write to the stream. Throws `frameTooLarge` for a
    /// plaintext above `maxPlaintextLength`, `counterExhausted` after
    /// 2^64 - 1 frames, `sessionClosed` after `wipe()`.
    public mutating func seal(_ plaintext: [UInt8]) throws(ControlChannelError) -> [UInt8] {
        guard isOpen else { throw .sessionClosed }
        guard plaintext.count <= Self.maxPlaintextLength else {
            throw .frameTooLarge(plaintext.count + ChaChaPoly.tagLength)
        }
        guard sendCounter < Self.counterLimit else { throw .counterExhausted }
        let sealedLength = plaintext.count + ChaChaPoly.tagLength
        var frame = [UInt8]()
        frame.reserveCapacity(ControlFraming.headerLength + sealedLength)
        ControlFraming.appendHeader(length: sealedLength, to: &frame)
        frame.append(contentsOf: plaintext)
        frame.append(contentsOf: repeatElement(0, count: ChaChaPoly.tagLength))
        let counter = sendCounter
        let key = sendingKey
        frame.withUnsafeMutableBytes { bytes in
            _ = ChaChaPoly.seal(UnsafeMutableRawBufferPointer(rebasing: bytes[ControlFraming.headerLength...]),
                                plaintextLength: plaintext.count, counter: counter, key: key)
        }
        sendCounter += 1
        return frame
    }

    /// Authenticates and decrypts one frame body (as `ControlFrameDecoder`
    /// returns it, without the length prefix) and returns the plaintext.
    /// Throws `decryptionFailed` (and wipes the session) when the frame is not
    /// the next one the peer sealed.
    public mutating func open(_ frameBody: [UInt8]) throws(ControlChannelError) -> [UInt8] {
        guard isOpen else { throw .sessionClosed }
        guard receiveCounter < Self.counterLimit else { throw .counterExhausted }
        guard frameBody.count >= ChaChaPoly.tagLength, frameBody.count <= ControlFraming.maxFrameLength else {
            wipe()
            throw .decryptionFailed
        }
        var buffer = frameBody
        let counter = receiveCounter
        let key = receivingKey
        // The closure cannot throw a typed error through Array's API; it reports by value.
        let plaintextLength = buffer.withUnsafeMutableBytes { bytes in
            try? ChaChaPoly.open(bytes, sealedLength: bytes.count, counter: counter, key: key)
        }
        guard let plaintextLength else {
            wipe()
            throw .decryptionFailed
        }
        buffer.removeLast(buffer.count - plaintextLength)
        receiveCounter += 1
        return buffer
    }

    /// Overwrites both keys with zeros; every later `seal` or `open` throws
    /// `sessionClosed`.
    public mutating func wipe() {
        sendingKey.wipe()
        receivingKey.wipe()
        isOpen = false
    }
}
