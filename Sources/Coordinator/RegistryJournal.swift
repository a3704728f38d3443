/// Where a server keeps its registry durable: every change is recorded
/// before anyone acts on it (`CoordinatorStore.RegistryStore` on disk, an
/// array in tests).
public protocol RegistryJournal: AnyObject {
    /// The registry; the core mutates it in place, then records the changes.
    var registry: Registry { get set }
    /// Makes `changes` durable. A failure means memory is ahead of the disk:
    /// the server stops.
    func record(_ changes: RegistryChanges) throws(JournalFailure)
}

/// Why a journal could not record changes.
public struct JournalFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// A line for the log.
    public let description: String

    /// A failure described by `description`.
    public init(_ description: String) { self.description = description }
}
