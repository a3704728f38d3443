/// The server side of HTTP/1.1: cuts the byte stream of one connection into
/// requests.
///
/// Feed bytes as they arrive, split anywhere, with `append(_:)`; then call
/// `next()` until it returns nil. Requests may be pipelined: one `append`
/// can complete several. Call `next()` until nil after every `append`; then
/// the parser holds at most one unfinished head (bounded by
/// `HTTPLimits.maxHeaderBytes`) or a body in progress (bounded by
/// `maxBodyBytes`) plus the bytes of the last `append`.
///
/// After a request that ends the connection (`keepAlive` false), `next()`
/// returns nil forever and later bytes are ignored: answer, then close.
///
/// After a request that asks for a protocol switch (`upgradeProtocol` not
/// nil), the parser stops: `takeRemainingBytes()` hands back the bytes
/// that followed the request, which belong to the new protocol; or
/// `declineUpgrade()` goes on parsing HTTP.
///
/// Errors are sticky: once `next()` throws, it throws the same error again
/// (and `append` drops further bytes). Requests completed before the error
/// are still handed out first.
public struct HTTPRequestParser: Sendable {
    /// Where the parser is in the stream.
    private enum State: Equatable, Sendable {
        /// Reading a request head.
        case head
        /// Reading the body of `pending`.
        case body
        /// Stopped after an upgrade request.
        case upgraded
        /// Stopped after a request that closes the connection.
        case closed
        /// Stopped by a parse error.
        case failed(HTTPError)
    }

    /// The limits this parser enforces.
    public let limits: HTTPLimits

    private var input = InputBuffer()
    private var state = State.head
    private var scanner = HeadScanner()
    private var pending: HTTPRequest? = nil
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

    /// The next complete request, or nil if more bytes are needed (or the
    /// parser has stopped after an upgrade or a closing request).
    public mutating func next() throws(HTTPError) -> HTTPRequest? {
        do throws(HTTPError) {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// Tells the parser the peer closed its side. Throws `.truncatedMessage`
    /// if part of a request was buffered; otherwise the stream ended cleanly.
    public mutating func finish() throws(HTTPError) {
        switch state {
        case .failed(let error): throw error
        case .upgraded, .closed: return
        case .body:
            state = .failed(.truncatedMessage)
            throw .truncatedMessage
        case .head:
            var i = input.start
            while i < input.bytes.count { // only leading empty lines may be pending
                guard input.bytes[i] == cr || input.bytes[i] == lf else {
                    state = .failed(.truncatedMessage)
                    throw .truncatedMessage
                }
                i += 1
            }
        }
    }

    /// True if no byte of an unfinished request is buffered, so the peer may
    /// close here without losing anything.
    public var isAtRequestBoundary: Bool {
        state == .head && input.isConsumed
    }

    /// True after an upgrade request, until `takeRemainingBytes()` or `declineUpgrade()`.
    public var isUpgraded: Bool { state == .upgraded }

    /// True after a request that closes the connection.
    public var isClosed: Bool { state == .closed }

    /// Hands back every buffered byte not consumed by a request (after an
    /// upgrade: the first bytes of the new protocol) and empties the buffer.
    public mutating func takeRemainingBytes() -> [UInt8] {
        input.takeRemaining()
    }

    /// Goes on parsing HTTP after an upgrade request the server refused.
    public mutating func declineUpgrade() {
        if state == .upgraded { state = .head }
    }

    /// False once the parser has closed or failed: later bytes are dropped.
    private var accepting: Bool {
        switch state {
        case .closed, .failed: return false
        case .head, .body, .upgraded: return true
        }
    }


    private mutating func step() throws(HTTPError) -> HTTPRequest? {
        switch state {
        case .failed(let error):
            throw error
        case .upgraded, .closed:
            return nil
        case .head:
            guard let length = try scanner.scan(input.bytes, base: input.start, limits: limits) else { return nil }
            let request = try parseHead(input.start..<(input.start + length))
            input.start += length
            scanner.reset()
            let framing = try declaredFraming(request.headers, version: request.version, maxBody: limits.maxBodyBytes)
            switch framing {
            case .unspecified, .length(0):
                return finishRequest(request)
            case .length(let n):
                decoder = BodyDecoder(framing: .length(n), maxBody: limits.maxBodyBytes,
                                      maxTrailer: limits.maxHeaderBytes)
            case .chunked:
                decoder = BodyDecoder(framing: .chunked, maxBody: limits.maxBodyBytes,
                                      maxTrailer: limits.maxHeaderBytes)
            }
            pending = request
            state = .body
            return try readBody()
        case .body:
            return try readBody()
        }
    }

    private mutating func readBody() throws(HTTPError) -> HTTPRequest? {
        let (next, done) = try decoder.decode(input.bytes, from: input.start)
        input.start = next
        guard done, var request = pending else { return nil }
        pending = nil
        request.body = decoder.takeBody()
        decoder = BodyDecoder(framing: .none, maxBody: 0, maxTrailer: 0)
        return finishRequest(request)
    }

    /// Sets the state that follows a complete request.
    private mutating func finishRequest(_ request: HTTPRequest) -> HTTPRequest {
        if request.upgradeProtocol != nil {
            state = .upgraded
        } else if !request.keepAlive {
            state = .closed
            input.removeAll()
        } else {
            state = .head
        }
        return request
    }

    /// Parses a complete head: request line and header fields.
    private func parseHead(_ range: Range<Int>) throws(HTTPError) -> HTTPRequest {
        let head = try parseHeadLines(input.bytes, range)
        let line = head.startLine
        // method SP request-target SP HTTP-version
        var i = line.lowerBound
        while i < line.upperBound && input.bytes[i] != space {
            guard isTokenByte(input.bytes[i]) else { throw .invalidMethod }
            i += 1
        }
        guard i > line.lowerBound else { throw .invalidMethod }
        guard i < line.upperBound else { throw .invalidRequestLine }
        let method = line.lowerBound..<i
        i += 1
        let targetStart = i
        while i < line.upperBound && input.bytes[i] != space {
            guard input.bytes[i] > space && input.bytes[i] < 0x7F else { throw .invalidTarget }
            i += 1
        }
        guard i > targetStart else { throw .invalidTarget }
        guard i < line.upperBound else { throw .invalidRequestLine }
        let target = targetStart..<i
        guard let version = try parseVersion(input.bytes, (i + 1)..<line.upperBound) else {
            throw .invalidRequestLine
        }
        let hosts = head.headers.count(of: "Host")
        if hosts > 1 || (version == .http11 && hosts == 0) { throw .invalidHost }
        return HTTPRequest(method: String(decoding: input.bytes[method], as: UTF8.self),
                           target: String(decoding: input.bytes[target], as: UTF8.self),
                           version: version, headers: head.headers)
    }
}
