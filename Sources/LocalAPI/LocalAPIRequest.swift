import HTTP
import JSON

/// One complete request a `LocalAPIServer` hands to its handler.
public struct LocalAPIRequest: Equatable, Sendable {
    /// What to pass to `LocalAPIServer.respond(to:status:body:)` to answer
    /// later, when the handler deferred.
    public let id: LocalAPIServer.PendingRequest
    /// The method, such as `GET` or `POST` (case-sensitive).
    public let method: String
    /// The target without its query, such as `/v1/status`.
    public let path: String
    /// The part of the target after `?`, or nil.
    public let query: String?
    /// The header fields as received.
    public let headers: HTTPHeaders
    /// The parsed JSON body; `null` when the request had no body.
    public let body: JSONValue

    /// A request with these parts (the server builds them; tests may too).
    public init(id: LocalAPIServer.PendingRequest, method: String, path: String, query: String?,
                headers: HTTPHeaders, body: JSONValue) {
        self.id = id
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// What a handler does with a request: answer now, or later.
public enum LocalAPIAnswer: Equatable, Sendable {
    /// Answer now with this status and JSON body.
    case respond(status: Int, body: JSONValue)
    /// Answer later with `LocalAPIServer.respond(to:status:body:)`, using the
    /// request's `id` (for work that waits: a login, a ping).
    case deferred

    /// `200 OK` with `body`.
    public static func ok(_ body: JSONValue) -> LocalAPIAnswer {
        .respond(status: 200, body: body)
    }

    /// An error answer: `status` with `{"error": message, "code": code}`.
    public static func error(status: Int, message: String, code: String) -> LocalAPIAnswer {
        .respond(status: status, body: LocalAPIErrorBody.make(message: message, code: code))
    }

    /// `404 Not Found` for a path the server does not know.
    public static func notFound(_ path: String) -> LocalAPIAnswer {
        .error(status: 404, message: "no such endpoint: " + path, code: "not-found")
    }

    /// `405 Method Not Allowed` for a known path asked with the wrong method.
    public static func methodNotAllowed(_ method: String, _ path: String) -> LocalAPIAnswer {
        .error(status: 405, message: method + " is not allowed on " + path, code: "method-not-allowed")
    }
}
