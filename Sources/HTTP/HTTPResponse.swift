/// One complete HTTP response, as parsed by `HTTPResponseParser` or built
/// by a server to be sent with `serialized()`.
///
/// `headers` are kept as received; `body` is the decoded content.
public struct HTTPResponse: Equatable, Sendable {
    /// The status code, 100...999 (three digits on the wire).
    public var status: Int
    /// The reason phrase; informational only, may be empty.
    public var reason: String
    /// The protocol version.
    public var version: HTTPVersion
    /// The header fields, in order.
    public var headers: HTTPHeaders
    /// The decoded body; empty if there was none.
    public var body: [UInt8]

    /// A response with the given parts; `reason` defaults to the standard
    /// phrase for `status`. The serializer adds `Content-Length` itself.
    public init(status: Int, reason: String? = nil, version: HTTPVersion = .http11,
                headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.reason = reason ?? HTTPResponse.reasonPhrase(for: status)
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The answer a server sends for a request that failed to parse: the
    /// error's status code, its message as a plain-text body, and
    /// `Connection: close` (the framing of the connection is lost).
    public init(error: HTTPError) {
        self.init(status: error.statusCode,
                  headers: ["Content-Type": "text/plain; charset=utf-8", "Connection": "close"],
                  body: Array((error.description + "\n").utf8))
    }

    /// True if the connection stays open after this response: HTTP/1.1
    /// unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    /// (A body read until close also ends the connection; the parser knows.)
    public var keepAlive: Bool {
        isKeepAlive(version: version, headers: headers)
    }

    /// True for statuses that never carry a body: 1xx, 204 and 304.
    public var isBodyless: Bool {
        HTTPResponse.statusHasNoBody(status)
    }

    /// True for statuses that never carry a body: 1xx, 204 and 304.
    static func statusHasNoBody(_ status: Int) -> Bool {
        (status >= 100 && status < 200) || status == 204 || status == 304
    }

    /// The standard reason phrase for `status` (RFC 9110 §15), or an empty
    /// string for codes without one.
    public static func reasonPhrase(for status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 203: return "Non-Authoritative Information"
        case 204: return "No Content"
        case 205: return "Reset Content"
        case 206: return "Partial Content"
        case 300: return "Multiple Choices"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 402: return "Payment Required"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 407: return "Proxy Authentication Required"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 416: return "Range Not Satisfiable"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 422: return "Unprocessable Content"
        case 426: return "Upgrade Required"
        case 428: return "Precondition Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return ""
        }
    }
}
