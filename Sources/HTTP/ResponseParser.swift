/// The client side of HTTP/1.1: cuts the byte stream of one connection into
/// responses.
///
/// Feed bytes as they arrive with `append(_:)`, then call
/// `next(requestMethod:)` until it returns nil, passing the method of the
/// request the next response answers (a response to `HEAD` has no body).
/// When the server closes the connection call `finish()`: it completes a
/// body delimited by the close, or reports a truncated message.
///
/// Framing follows RFC 9112 §6.3: 1xx, 204 and 304 responses and responses
/// to `HEAD` have no body; then `Transfer-Encoding: chunked`;
/// then `Content-Length`; otherwise the body runs until the connection closes.
/// The same rejections as the request parser apply (both framings at once,
/// duplicate lengths, bare CR, obsolete folding, limits).
///
/// Interim (1xx) responses are returned like any other; the caller skips
/// them. After `101 Switching Protocols` (or a 2xx answer to `CONNECT`) the
/// parser stops and `takeRemainingBytes()` hands back the bytes of the new
/// protocol. After a response that closes the connection, `next` returns nil
/// and later bytes are dropped. Errors are sticky.
public struct HTTPResponseParser: Sendable {
    /// Where the parser is in the stream.
    private enum State: Equatable, Sendable {
        /// Reading a response head.
        case head
        /// Reading the body of `pending`.
        case body
        /// Stopped after a protocol switch.
        case upgraded
        /// Stopped after a response that closes the connection.
        case closed
        /// Stopped by a parse error.
        case failed(HTTPError)
    }

    /// The limits this parser enforces.
    public let limits: HTTPLimits

    private var input = InputBuffer()
    private var state = State.head
    private var scanner = HeadScanner()
    private var pending: HTTPResponse? = nil
    private var decoder = BodyDecoder(framing: .none, maxBody: 0, maxTrailer: 0)

    /// A parser enforcing `limits`.
    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// Buffers `bytes` that arrived on the connection (a buffer pointer,
    /// an array or a slice).
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if accepting { input.append(bytes) }
    }

    /// The next complete response, or nil if more bytes are needed (or the
    /// parser has stopped). `requestMethod` is the method of the request this
    /// response answers; it matters only when the head completes.
    public mutating func next(requestMethod: String = "GET") throws(HTTPError) -> HTTPResponse? {
        do throws(HTTPError) {
            return try step(requestMethod: requestMethod)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// Tells the parser the server closed the connection. Returns the
    /// response whose body ran until the close, if one was being read;
    /// throws `.truncatedMessage` if a message was cut short; returns nil if
    /// the stream ended between messages.
    public mutating func finish() throws(HTTPError) -> HTTPResponse? {
        switch state {
        case .failed(let error):
            throw error
        case .upgraded, .closed:
            return nil
        case .body:
            guard decoder.isUntilClose, var response = pending else {
                state = .failed(.truncatedMessage)
                throw .truncatedMessage
            }
            response.body = decoder.takeBody()
            pending = nil
            state = .closed
            return response
        case .head:
            guard input.isConsumed else {
                state = .failed(.truncatedMessage)
                throw .truncatedMessage
            }
            state = .closed
            return nil
        }
    }

    /// True after a protocol switch (101, or 2xx to CONNECT).
    public var isUpgraded: Bool { state == .upgraded }

    /// True after a response that closes the connection (or after `finish()`).
    public var isClosed: Bool { state == .closed }

    /// Hands back every buffered byte not consumed by a response (after a
    /// protocol switch: the first bytes of the new protocol) and empties the buffer.
    public mutating func takeRemainingBytes() -> [UInt8] {
        input.takeRemaining()
    }

    /// False once the parser has closed or failed: later bytes are dropped.
    private var accepting: Bool {
        switch state {
        case .closed, .failed: return false
        case .head, .body, .upgraded: return true
        }
    }


    private mutating func step(requestMethod: String) throws(HTTPError) -> HTTPResponse? {
        switch state {
        case .failed(let error):
            throw error
        case .upgraded, .closed:
            return nil
        case .body:
            return try readBody()
        case .head:
            guard let length = try scanner.scan(input.bytes, base: input.start, limits: limits) else { return nil }
            let response = try parseHead(input.start..<(input.start + length))
            input.start += length
            scanner.reset()
            if response.status == 101 || (requestMethod == "CONNECT" && response.status / 100 == 2) {
                state = .upgraded
                return response
            }
            if response.isBodyless || requestMethod == "HEAD" {
                return finishResponse(response)
            }
            let framing: BodyFraming
            switch try declaredFraming(response.headers, version: response.version, maxBody: limits.maxBodyBytes) {
            case .unspecified: framing = .untilClose
            case .length(0): return finishResponse(response)
            case .length(let n): framing = .length(n)
            case .chunked: framing = .chunked
            }
            decoder = BodyDecoder(framing: framing, maxBody: limits.maxBodyBytes, maxTrailer: limits.maxHeaderBytes)
            pending = response
            state = .body
            return try readBody()
        }
    }

    private mutating func readBody() throws(HTTPError) -> HTTPResponse? {
        let (next, done) = try decoder.decode(input.bytes, from: input.start)
        input.start = next
        guard done, var response = pending else { return nil }
        pending = nil
        response.body = decoder.takeBody()
        decoder = BodyDecoder(framing: .none, maxBody: 0, maxTrailer: 0)
        return finishResponse(response)
    }

    /// Sets the state that follows a complete response.
    private mutating func finishResponse(_ response: HTTPResponse) -> HTTPResponse {
        state = response.keepAlive ? .head : .closed
        return response
    }

    /// Parses a complete head: status line and header fields.
    private func parseHead(_ range: Range<Int>) throws(HTTPError) -> HTTPResponse {
        let head = try parseHeadLines(input.bytes, range)
        let line = head.startLine
        // HTTP-version SP 3DIGIT SP reason-phrase
        var i = line.lowerBound
        while i < line.upperBound && input.bytes[i] != space { i += 1 }
        guard let version = try parseVersion(input.bytes, line.lowerBound..<i) else { throw .invalidStatusLine }
        guard i + 4 <= line.upperBound,
              let d0 = decimalValue(input.bytes[i + 1]), let d1 = decimalValue(input.bytes[i + 2]),
              let d2 = decimalValue(input.bytes[i + 3]), d0 >= 1 else { throw .invalidStatusLine }
        let status = d0 * 100 + d1 * 10 + d2
        i += 4
        var reason = i..<i
        if i < line.upperBound {
            guard input.bytes[i] == space else { throw .invalidStatusLine }
            reason = (i + 1)..<line.upperBound
            for j in reason where !isFieldValueByte(input.bytes[j]) { throw .invalidStatusLine }
        }
        return HTTPResponse(status: status, reason: String(decoding: input.bytes[reason], as: UTF8.self),
                            version: version, headers: head.headers)
    }
}
