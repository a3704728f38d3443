/// The protocol version of a message; only HTTP/1.0 and HTTP/1.1 exist on
/// the wire here.
public enum HTTPVersion: Equatable, Sendable {
    /// `HTTP/1.0`: connections close after each message unless keep-alive is asked for.
    case http10
    /// `HTTP/1.1`: connections stay open unless `Connection: close` is sent.
    case http11
}

extension HTTPVersion: CustomStringConvertible {
    /// The spelling on the wire: `HTTP/1.0` or `HTTP/1.1`.
    public var description: String {
        switch self {
        case .http10: return "HTTP/1.0"
        case .http11: return "HTTP/1.1"
        }
    }
}

/// One complete HTTP request, as parsed by `HTTPRequestParser` or built to be
/// sent with `serialized()`.
///
/// `headers` are kept as received, including `Content-Length` or
/// `Transfer-Encoding`; `body` is the decoded content (chunked encoding
/// removed, trailers dropped).
public struct HTTPRequest: Equatable, Sendable {
    /// The method, a token such as `GET` or `POST` (case-sensitive).
    public var method: String
    /// The request target exactly as sent, for example `/v1/nodes?limit=5`.
    public var target: String
    /// The protocol version.
    public var version: HTTPVersion
    /// The header fields, in order.
    public var headers: HTTPHeaders
    /// The decoded body; empty if there was none.
    public var body: [UInt8]

    /// A request with the given parts. `target` must be visible ASCII
    /// without spaces; the serializer adds `Content-Length` itself.
    public init(method: String, target: String, version: HTTPVersion = .http11,
                headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The target up to (not including) the first `?`.
    public var path: String {
        let utf8 = target.utf8
        guard let mark = utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(decoding: utf8[..<mark], as: UTF8.self)
    }

    /// The part of the target after the first `?`, or nil if there is no `?`
    /// (an empty string for a target ending in `?`).
    public var query: String? {
        let utf8 = target.utf8
        guard let mark = utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        return String(decoding: utf8[utf8.index(after: mark)...], as: UTF8.self)
    }

    /// True if the connection stays open after this request: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        isKeepAlive(version: version, headers: headers)
    }

    /// The protocol the client asks to switch to (the `Upgrade` header),
    /// if this is an HTTP/1.1 request with both `Upgrade` and
    /// `Connection: upgrade`; nil otherwise.
    ///
    /// The parser stops after such a request; see
    /// `HTTPRequestParser.takeRemainingBytes()` and `declineUpgrade()`.
    public var upgradeProtocol: String? {
        guard version == .http11, let value = headers["Upgrade"],
              headers.containsToken("upgrade", in: "Connection") else { return nil }
        return value
    }
}

/// The keep-alive rule shared by requests and responses (RFC 9112 §9.3).
func isKeepAlive(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
    if headers.containsToken("close", in: "Connection") { return false }
    switch version {
    case .http11: return true
    case .http10: return headers.containsToken("keep-alive", in: "Connection")
    }
}
