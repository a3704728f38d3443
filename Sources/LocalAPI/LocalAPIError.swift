import Linux

/// Why `LocalAPIClient` got no answer from the daemon, or no usable one.
///
/// Every case carries what its `message` needs to tell a person what to do:
/// the daemon's name (`ternd`, `tern-control`) and, where it matters, the
/// socket path. Answers with an error status are not errors here: they come
/// back as a status and a body (see `LocalAPIErrorBody`).
public enum LocalAPIError: Error, Equatable {
    /// Nothing listens at the socket: no file there (`socketMissing`), or a
    /// file left behind by a daemon that is gone.
    case notRunning(daemon: String, path: String, socketMissing: Bool)
    /// The socket exists but this user may not connect to it (EACCES, EPERM).
    case permissionDenied(daemon: String, path: String)
    /// No complete answer within the time allowed.
    case timedOut(daemon: String, milliseconds: Int)
    /// Connecting, reading or writing failed for another reason.
    case connectionFailed(daemon: String, path: String, error: SystemError)
    /// The daemon closed the connection before a complete answer.
    case connectionClosed(daemon: String)
    /// The answer is not HTTP/1.1 with a JSON body; `detail` says how.
    case malformedResponse(daemon: String, detail: String)

    /// One sentence for people, without a program-name prefix, e.g.
    /// `ternd is not running (no socket at /run/tern/ternd.sock)`.
    public var message: String {
        switch self {
        case .notRunning(let daemon, let path, true):
            return daemon + " is not running (no socket at " + path + ")"
        case .notRunning(let daemon, let path, false):
            return daemon + " is not running (nothing listens at " + path + ")"
        case .permissionDenied(let daemon, let path):
            return "permission denied talking to " + daemon + " at " + path + ": run as root"
        case .timedOut(let daemon, let milliseconds):
            return daemon + " did not answer within " + DurationText.seconds(milliseconds: Int64(milliseconds))
        case .connectionFailed(let daemon, let path, let error):
            return "cannot talk to " + daemon + " at " + path + ": " + error.description
        case .connectionClosed(let daemon):
            return daemon + " closed the connection without answering"
        case .malformedResponse(let daemon, let detail):
            return daemon + " sent a malformed answer: " + detail
        }
    }
}

extension LocalAPIError: CustomStringConvertible {
    /// The same as `message`.
    public var description: String { message }
}
