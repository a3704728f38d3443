/// Why bytes could not be parsed as an HTTP/1.1 message.
///
/// Every case maps to the status code a server answers with (`statusCode`)
/// and a one-line message for people (`description`). After any of these
/// errors the framing of the connection is lost: the server answers (see
/// `HTTPResponse(error:)`) and closes the connection.
public enum HTTPError: Error, Equatable, Sendable {
    /// The request line is not `method SP target SP version`.
    case invalidRequestLine
    /// The method is empty or holds a byte that is not a token character.
    case invalidMethod
    /// The request target is empty or holds a control, space or non-ASCII byte.
    case invalidTarget
    /// The status line is not `HTTP/1.x SP 3DIGIT SP reason` (response parser).
    case invalidStatusLine
    /// The version is well-formed but not HTTP/1.x (for example `HTTP/2.0`).
    case unsupportedVersion
    /// A header name is empty, holds a non-token byte (such as a space before
    /// the colon), or the line has no colon.
    case invalidHeaderName
    /// A header value holds a control byte other than HTAB (NUL, DEL, ...).
    case invalidHeaderValue
    /// A carriage return not followed by a line feed.
    case bareCarriageReturn
    /// A line feed not preceded by a carriage return.
    case bareLineFeed
    /// A header line starting with a space or tab (obsolete line folding).
    case obsoleteLineFolding
    /// An HTTP/1.1 request without exactly one `Host` header, or an HTTP/1.0
    /// request with several.
    case invalidHost
    /// The header section (request or status line through the empty line,
    /// or the trailer section) is larger than `HTTPLimits.maxHeaderBytes`.
    case headerSectionTooLarge
    /// More header lines than `HTTPLimits.maxHeaderCount`.
    case tooManyHeaders
    /// A `Content-Length` value that is not a plain decimal number.
    case invalidContentLength
    /// More than one `Content-Length` header (or a comma-separated list).
    case duplicateContentLength
    /// Both `Content-Length` and `Transfer-Encoding` (a request-smuggling vector).
    case contentLengthWithTransferEncoding
    /// `Transfer-Encoding` that does not end in a single `chunked`, is empty,
    /// or appears in an HTTP/1.0 message.
    case invalidTransferEncoding
    /// A transfer coding other than `chunked` (such as `gzip`).
    case unsupportedTransferEncoding
    /// A malformed chunk-size line or a chunk not followed by CRLF.
    case invalidChunk
    /// The body is larger than `HTTPLimits.maxBodyBytes`.
    case bodyTooLarge
    /// The input ended in the middle of a message.
    case truncatedMessage

    /// The status code a server answers this error with: 400, 413, 431, 501 or 505.
    public var statusCode: Int {
        switch self {
        case .headerSectionTooLarge, .tooManyHeaders: return 431
        case .bodyTooLarge: return 413
        case .unsupportedTransferEncoding: return 501
        case .unsupportedVersion: return 505
        case .invalidRequestLine, .invalidMethod, .invalidTarget, .invalidStatusLine,
             .invalidHeaderName, .invalidHeaderValue, .bareCarriageReturn, .bareLineFeed,
             .obsoleteLineFolding, .invalidHost, .invalidContentLength, .duplicateContentLength,
             .contentLengthWithTransferEncoding, .invalidTransferEncoding, .invalidChunk,
             .truncatedMessage:
            return 400
        }
    }
}

extension HTTPError: CustomStringConvertible {
    /// A one-line message for people, suitable as a plain-text error body.
    public var description: String {
        switch self {
        case .invalidRequestLine: return "malformed request line"
        case .invalidMethod: return "invalid character in method"
        case .invalidTarget: return "invalid request target"
        case .invalidStatusLine: return "malformed status line"
        case .unsupportedVersion: return "HTTP version not supported"
        case .invalidHeaderName: return "invalid header name"
        case .invalidHeaderValue: return "invalid character in header value"
        case .bareCarriageReturn: return "carriage return not followed by line feed"
        case .bareLineFeed: return "line feed not preceded by carriage return"
        case .obsoleteLineFolding: return "obsolete line folding is not allowed"
        case .invalidHost: return "HTTP/1.1 request needs exactly one Host header"
        case .headerSectionTooLarge: return "header section too large"
        case .tooManyHeaders: return "too many header fields"
        case .invalidContentLength: return "invalid Content-Length"
        case .duplicateContentLength: return "more than one Content-Length"
        case .contentLengthWithTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .invalidTransferEncoding: return "invalid Transfer-Encoding"
        case .unsupportedTransferEncoding: return "unsupported transfer coding"
        case .invalidChunk: return "malformed chunked encoding"
        case .bodyTooLarge: return "body too large"
        case .truncatedMessage: return "connection closed in the middle of a message"
        }
    }
}
