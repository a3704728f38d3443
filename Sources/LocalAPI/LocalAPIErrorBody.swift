import HTTP
import JSON
import TextFormat

/// The JSON body of every error answer on a local API:
/// `{"error": "human sentence", "code": "machine-code"}`.
///
/// `error` is shown to people as is (`tern: <error>`); `code` is a stable
/// lower-case, dash-separated name that scripts and tests match on
/// (`auth-key-revoked`, `not-found`, `body-too-large`).
public enum LocalAPIErrorBody {
    /// The body for `message` and `code`.
    public static func make(message: String, code: String) -> JSONValue {
        ["error": .string(message), "code": .string(code)]
    }

    /// The sentence to show for an answer with `status`: the body's `error`
    /// string if it has one, else `HTTP 503 Service Unavailable`-style text.
    public static func message(in body: JSONValue, status: Int) -> String {
        if let text = body["error"]?.string, !text.isEmpty { return text }
        let reason = HTTPResponse.reasonPhrase(for: status)
        return "HTTP " + String(status) + (reason.isEmpty ? "" : " " + reason)
    }

    /// The body's `code` string, or nil.
    public static func code(in body: JSONValue) -> String? {
        body["code"]?.string
    }

    /// The error body a server answers a request that failed to parse with,
    /// given the limits it enforced. The status to use is `error.statusCode`.
    static func make(for error: HTTPError, limits: HTTPLimits) -> JSONValue {
        switch error {
        case .bodyTooLarge:
            return make(message: "request body is larger than " + ByteCount.text(Int64(limits.maxBodyBytes)),
                        code: "body-too-large")
        case .headerSectionTooLarge, .tooManyHeaders:
            return make(message: "request header section is too large (" + error.description + ")",
                        code: "headers-too-large")
        case .unsupportedVersion:
            return make(message: "only HTTP/1.0 and HTTP/1.1 are supported", code: "unsupported-version")
        case .unsupportedTransferEncoding:
            return make(message: "unsupported transfer coding (only chunked is accepted)",
                        code: "unsupported-transfer-encoding")
        default:
            return make(message: "malformed HTTP request: " + error.description, code: "bad-request")
        }
    }
}
