/// The control channel's byte-stream framing.
///
/// After the HTTP Upgrade the TCP stream is a sequence of frames, each a
/// 4-byte big-endian length L followed by L bytes of body:
///
/// ```
/// node → server:  [148][initiation]  [L][transport] [L][transport] ...
/// server → node:  [92][response]     [L][transport] [L][transport] ...
/// ```
///
/// A length above `maxFrameLength` is a protocol error, found from the four
/// header bytes alone, so an attacker cannot make either side allocate for it.
public enum ControlFraming {
    /// Bytes of the length prefix.
    public static let headerLength = 4

    /// The largest body a frame may announce: 8 MiB. A network map of some
    /// thousands of peers fits many times over; anything larger is an attack
    /// or a bug.
    public static let maxFrameLength = 8 << 20

    /// `body` with its length prefix. `body` must not exceed `maxFrameLength`
    /// (a programmer error; a sender checks before it builds a frame).
    public static func frame(_ body: [UInt8]) -> [UInt8] {
        precondition(body.count <= maxFrameLength, "control frame body too large")
        var framed = [UInt8]()
        framed.reserveCapacity(headerLength + body.count)
        appendHeader(length: body.count, to: &framed)
        framed.append(contentsOf: body)
        return framed
    }

    /// Appends the 4-byte big-endian length prefix for a body of `length` bytes.
    static func appendHeader(length: Int, to out: inout [UInt8]) {
        let value = UInt32(length)
        out.append(UInt8(truncatingIfNeeded: value >> 24))
        out.append(UInt8(truncatingIfNeeded: value >> 16))
        out.append(UInt8(truncatingIfNeeded: value >> 8))
        out.append(UInt8(truncatingIfNeeded: value))
    }
}

/// Cuts a byte stream into frame bodies, incrementally: feed it whatever the
/// socket returned, then call `next()` until it returns nil.
///
/// Memory is bounded: the decoder holds at most one incomplete frame (at
/// most `headerLength + maximumFrameLength` bytes) plus the last chunk
/// appended, as long as the caller drains `next()` after each `append`. A
/// server lowers `maximumFrameLength` while its peer is unauthenticated, so
/// that a stranger can make it hold no more than a handshake. It reserves
/// nothing on the strength of an announced length; the buffer grows only
/// with bytes actually received. After an error it stays failed and drops
/// everything: the stream is out of step and the connection must close.
public struct ControlFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    /// Where the unread bytes start in `buffer` (consumed bytes are dropped lazily).
    private var start = 0
    private var failure: ControlChannelError?

    /// Compaction copies the unread tail forward only once this much is
    /// consumed and the tail is no longer than what was consumed, so copying
    /// costs amortised O(1) per received byte.
    private static let compactThreshold = 64 << 10

    /// The largest body accepted now; a larger announced length fails the
    /// stream. At most `ControlFraming.maxFrameLength`; it may change
    /// between frames (raised after authentication).
    public var maximumFrameLength: Int {
        didSet { precondition(maximumFrameLength >= 0 && maximumFrameLength <= ControlFraming.maxFrameLength) }
    }

    /// An empty decoder accepting frames of up to `maximumFrameLength` bytes.
    public init(maximumFrameLength: Int = ControlFraming.maxFrameLength) {
        precondition(maximumFrameLength >= 0 && maximumFrameLength <= ControlFraming.maxFrameLength)
        self.maximumFrameLength = maximumFrameLength
    }

    /// Bytes received and not yet returned as part of a frame.
    public var bufferedCount: Int { buffer.count - start }

    /// Adds bytes received from the stream.
    public mutating func append(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes received from the stream.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame body, or nil until more bytes arrive. Throws
    /// `frameTooLarge` as soon as a header announces more than
    /// `maximumFrameLength`, and again on every later call.
    public mutating func next() throws(ControlChannelError) -> [UInt8]? {
        if let failure { throw failure }
        guard bufferedCount >= ControlFraming.headerLength else { return nil }
        var announced: UInt32 = 0
        for i in 0..<ControlFraming.headerLength { announced = announced << 8 | UInt32(buffer[start + i]) }
        // UInt32 arithmetic: on 32-bit targets a length above Int.max must not trap.
        guard announced <= UInt32(maximumFrameLength) else {
            let error = ControlChannelError.frameTooLarge(Int(exactly: announced) ?? Int.max)
            failure = error
            buffer = []
            start = 0
            throw error
        }
        let length = Int(announced)
        guard bufferedCount - ControlFraming.headerLength >= length else { return nil }
        let bodyStart = start + ControlFraming.headerLength
        let body = Array(buffer[bodyStart..<bodyStart + length])
        start = bodyStart + length
        compact()
        return body
    }

    private mutating func compact() {
        if start == buffer.count {
            // Keep a small buffer for the next frame; give a large one back.
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.compactThreshold)
            start = 0
        } else if start >= Self.compactThreshold && start >= bufferedCount {
            // Consumed at least as much as remains: the copy is paid for by the consumed bytes.
            buffer.removeFirst(start)
            start = 0
        }
    }
}
