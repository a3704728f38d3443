/// One framed configuration request: the operation and the lines that came
/// with it, up to (not including) the blank line that ends it.
public struct UAPIRequest: Equatable, Sendable {
    /// What the client asks for.
    public enum Operation: Equatable, Sendable {
        /// `get=1`: describe the device.
        case get
        /// `set=1`: change the device.
        case set
    }

    /// `get` or `set`, from the first line.
    public let operation: Operation
    /// The lines after the operation line, each with its "\n"; empty for a
    /// plain `get=1\n\n`. The blank line that ends the request is not included.
    /// Line 1 of the request is the operation line, so the first body line is line 2.
    public let body: [UInt8]

    /// A request with `operation` and `body` (lines ending in "\n").
    public init(operation: Operation, body: [UInt8]) {
        self.operation = operation
        self.body = body
    }
}

/// Cuts the byte stream of one UAPI connection into requests.
///
/// Feed it bytes as they arrive, split anywhere; then take the requests that
/// are complete with `nextRequest()`. A request is `get=1\n` or `set=1\n`,
/// then `key=value\n` lines, then an empty line (`\n`); several may follow
/// each other on one connection (spec digest §9). Lines end with "\n" only; a
/// "\r" is an ordinary byte of the line.
///
/// The framer bounds what it buffers: a line longer than `maxLineLength`
/// bytes or a request longer than `maxRequestSize` bytes is an error, as is a
/// first line other than `get=1` or `set=1` (wireguard-go closes the
/// connection then). Requests completed before the error are still handed
/// out; after them `nextRequest()` throws the error, and keeps throwing it:
/// the caller answers what it got and closes the connection.
public struct RequestFramer: Sendable {
    /// The default bound on a request: 1 MiB, several thousand peers.
    public static let defaultMaxRequestSize = 1 << 20
    /// The default bound on a line. The longest valid line is about 90
    /// bytes (an endpoint with an IPv6 address and a zone).
    public static let defaultMaxLineLength = 4096

    /// The largest request accepted, in bytes, counting every "\n".
    public let maxRequestSize: Int
    /// The longest line accepted, in bytes, not counting its "\n".
    public let maxLineLength: Int

    /// The bytes of the request being assembled, from its first byte.
    private var partial: [UInt8] = []
    /// Where the line being assembled starts in `partial`.
    private var lineStart = 0
    /// The operation, once the first line is complete.
    private var operation: UAPIRequest.Operation?
    /// Where the body starts in `partial` (after the operation line).
    private var bodyStart = 0
    /// Complete requests not yet taken, from `readyHead` on.
    private var ready: [UAPIRequest] = []
    private var readyHead = 0
    /// The framing error that stopped the stream, if any.
    private var failure: UAPIError?

    /// A framer with the given bounds (each at least 1; smaller values are raised to 1).
    public init(maxRequestSize: Int = RequestFramer.defaultMaxRequestSize,
                maxLineLength: Int = RequestFramer.defaultMaxLineLength) {
        self.maxRequestSize = max(1, maxRequestSize)
        self.maxLineLength = max(1, maxLineLength)
    }

    /// True if no byte of an unfinished request is buffered: the peer may
    /// close the connection here without losing anything.
    public var isAtRequestBoundary: Bool { partial.isEmpty }

    /// True once a framing error has stopped the stream.
    public var hasFailed: Bool { failure != nil }

    /// Consumes `bytes`. Complete requests become available to `nextRequest()`.
    /// After a framing error the rest is ignored.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            guard failure == nil else { return }
            consume(byte)
        }
    }

    /// Consumes `bytes`; see `feed(_: UnsafeRawBufferPointer)`.
    public mutating func feed(_ bytes: [UInt8]) {
        for byte in bytes {
            guard failure == nil else { return }
            consume(byte)
        }
    }

    /// The next complete request, or nil if none is complete yet. Throws the
    /// framing error once the requests completed before it are taken.
    public mutating func nextRequest() throws(UAPIError) -> UAPIRequest? {
        if readyHead < ready.count {
            let request = ready[readyHead]
            readyHead += 1
            if readyHead == ready.count {
                ready.removeAll(keepingCapacity: true)
                readyHead = 0
            }
            return request
        }
        if let failure { throw failure }
        return nil
    }

    private mutating func consume(_ byte: UInt8) {
        guard partial.count < maxRequestSize else {
            fail(.requestTooLarge(limit: maxRequestSize))
            return
        }
        partial.append(byte)
        guard byte == UInt8(ascii: "\n") else {
            if partial.count - lineStart > maxLineLength { fail(.lineTooLong(limit: maxLineLength)) }
            return
        }
        let line = lineStart..<partial.count - 1
        lineStart = partial.count
        guard let operation else {
            if partial.matches(line, "get=1") {
                self.operation = .get
            } else if partial.matches(line, "set=1") {
                self.operation = .set
            } else {
                fail(.unknownOperation)
                return
            }
            bodyStart = lineStart
            return
        }
        guard line.isEmpty else { return }
        ready.append(UAPIRequest(operation: operation, body: Array(partial[bodyStart..<line.lowerBound])))
        reset()
    }

    private mutating func fail(_ error: UAPIError) {
        failure = error
        reset()
    }

    private mutating func reset() {
        // Keep a small buffer for the next request; give a large one back.
        partial.removeAll(keepingCapacity: partial.capacity <= 65536)
        lineStart = 0
        bodyStart = 0
        operation = nil
    }
}
