import ControlProtocol

/// What a node does when the coordination server refuses it, by the
/// failure's code. Codes only a person can fix (a new key, a new login)
/// stop the retries; the rest are retried with backoff.
public struct FailureResponse: Equatable, Sendable {
    /// Stop connecting until `tern up` (the node wants to run no more).
    public var stopRetrying: Bool
    /// The node is no longer logged in: the next `tern up` needs a key.
    public var loggedOut: Bool
    /// The node was deleted: its last map no longer describes any mesh.
    public var forgetMap: Bool

    /// The response to `code`.
    public init(_ code: ControlFailure.Code) {
        switch code {
        case .nodeDeleted, .loginRequired, .nodeKeyExpired, .authKeyInvalid, .authKeyRevoked, .authKeyExpired, .authKeyUsed:
            stopRetrying = true
        case .badRequest, .addressesExhausted, .internalError:
            stopRetrying = false
        }
        loggedOut = code == .nodeDeleted || code == .nodeKeyExpired || code == .loginRequired
        forgetMap = code == .nodeDeleted
    }
}
