import Linux
import TextFormat

/// Why `LocalAPIClient` got no answer from the daemon, or no usable one.
///
/// Every case carries what its `message` needs to tell a person what to do:
/// the daemon's name (`ternd`, `tern-control`) and, where it matters, the
/// socket path. Answers with an error status are not errors here: they come
/// back as a status and a body (see `LocalAPIErrorBody`).
///
/// A struct with its sentence made up front rather than an enum with string
/// payloads: Embedded Swift for arm64 miscompiled reading the strings back
/// out of that enum (a crash building the message).
public struct LocalAPIError: Error, Equatable {
    /// What went wrong, for programs.
    public enum Kind: Equatable, Sendable {
        case notRunning, permissionDenied, timedOut, connectionFailed, connectionClosed, malformedResponse
    }

    /// What went wrong.
    public let kind: Kind
    /// One sentence for people, without a program-name prefix, e.g.
    /// `ternd is not running (no socket at /run/tern/ternd.sock)`.
    public let message: String

    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Nothing listens at the socket: no file there (`socketMissing`), or a
    /// file left behind by a daemon that is gone.
    public static func notRunning(daemon: String, path: String, socketMissing: Bool) -> LocalAPIError {
        LocalAPIError(.notRunning, daemon + " is not running ("
                      + (socketMissing ? "no socket at " : "nothing listens at ") + path + ")")
    }

    /// The socket exists but this user may not connect to it (EACCES, EPERM).
    public static func permissionDenied(daemon: String, path: String) -> LocalAPIError {
        LocalAPIError(.permissionDenied, "permission denied talking to " + daemon + " at " + path + ": run as root")
    }

    /// No complete answer within the time allowed.
    public static func timedOut(daemon: String, milliseconds: Int) -> LocalAPIError {
        LocalAPIError(.timedOut, daemon + " did not answer within " + DurationText.seconds(milliseconds: Int64(milliseconds)))
    }

    /// Connecting, reading or writing failed for another reason.
    public static func connectionFailed(daemon: String, path: String, error: SystemError) -> LocalAPIError {
        LocalAPIError(.connectionFailed, "cannot talk to " + daemon + " at " + path + ": " + error.description)
    }

    /// The daemon closed the connection before a complete answer.
    public static func connectionClosed(daemon: String) -> LocalAPIError {
        LocalAPIError(.connectionClosed, daemon + " closed the connection without answering")
    }

    /// The answer is not HTTP/1.1 with a JSON body; `detail` says how.
    public static func malformedResponse(daemon: String, detail: String) -> LocalAPIError {
        LocalAPIError(.malformedResponse, daemon + " sent a malformed answer: " + detail)
    }
}

extension LocalAPIError: CustomStringConvertible {
    /// The same as `message`.
    public var description: String { message }
}
