import ControlProtocol

/// Why a registry operation was refused, or why stored state could not be
/// rebuilt: a kind a program can branch on and a sentence a person can act on.
public struct RegistryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The broad reason.
    public enum Kind: Equatable, Sendable {
        /// The node, user or key named does not exist.
        case notFound
        /// The operation clashes with existing state (a name taken, a user with nodes).
        case conflict
        /// An argument is malformed (a bad name, tag or time).
        case invalidArgument
        /// No address is left in the network's range.
        case addressesExhausted
        /// A snapshot or journal record does not parse or does not fit the
        /// state it is applied to.
        case corruptState
    }

    /// The broad reason.
    public let kind: Kind
    /// What a person should read.
    public let description: String

    /// An error of `kind` saying `description`.
    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// The same error with `context + ": "` in front of its text.
    func within(_ context: String) -> RegistryError {
        RegistryError(kind, context + ": " + description)
    }

    /// The failure to send a node when one of its own requests was refused.
    public var controlFailure: ControlFailure {
        switch kind {
        case .notFound: return ControlFailure(.nodeDeleted, description)
        case .invalidArgument, .conflict: return ControlFailure(.badRequest, description)
        case .addressesExhausted: return ControlFailure(.addressesExhausted, description)
        case .corruptState: return ControlFailure(.internalError, description)
        }
    }
}
