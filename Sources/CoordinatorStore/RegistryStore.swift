import Coordinator
import State
import TernCrypto

/// Why `RegistryStore` failed: the files (`StateError`) or their contents (`RegistryError`).
public enum RegistryStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Reading or writing the state directory failed.
    case state(StateError)
    /// The stored state does not rebuild.
    case registry(RegistryError)

    /// A line for the log.
    public var description: String {
        switch self {
        case .state(let error): return error.description
        case .registry(let error): return "stored registry: " + error.description
        }
    }
}

/// A registry kept in a `State.Store` directory (snapshot + journal), for a
/// shell that wants one object: open it, run operations on `registry`, pass
/// each operation's `RegistryChanges` to `commit` before acting on them.
///
/// `commit` appends the records (synced: durable when it returns) and
/// compacts (writes a snapshot, starts an empty journal) once the journal
/// holds `compactAfterRecords` records or `compactAfterBytes` bytes. If
/// `commit` throws, memory is ahead of the disk: stop the server (the
/// journal refuses further appends anyway) and let the restart reload.
public final class RegistryStore: RegistryJournal {
    /// The state; mutate it, then `commit` the changes.
    public var registry: Registry
    /// What loading repaired (a cut-off journal tail, ...), one line each, for the log.
    public let warnings: [String]
    /// Records in the journal since the last snapshot.
    public private(set) var journalRecords: Int
    /// Compact when the journal holds this many records.
    public let compactAfterRecords: Int
    /// Compact when the journal grows past this many bytes.
    public let compactAfterBytes: Int64

    private let store: Store

    /// Opens (creating if missing) the state in `directory` and rebuilds the
    /// registry. An empty directory becomes a new network with
    /// `newNetwork` (default: 100.64.0.0/10, a random ULA /48, 180-day keys).
    public init(directory: String, newNetwork: NetworkSettings? = nil, compactAfterRecords: Int = 10_000,
                compactAfterBytes: Int64 = 8 << 20, options: StoreOptions = StoreOptions()) throws(RegistryStoreError) {
        let loaded: LoadedState
        do throws(StateError) {
            store = try Store(directory: directory, options: options)
            loaded = try store.load()
        } catch {
            throw .state(error)
        }
        self.compactAfterRecords = compactAfterRecords
        self.compactAfterBytes = compactAfterBytes
        warnings = loaded.warnings.map { $0.description }
        if loaded.snapshot == nil && loaded.records.isEmpty {
            let created: (registry: Registry, changes: RegistryChanges)
            do throws(RegistryError) {
                var random = SystemRandom()
                created = try Registry.newNetwork(settings: newNetwork ?? NetworkSettings.generate(random: &random))
            } catch {
                throw .registry(error)
            }
            registry = created.registry
            journalRecords = 0
            try commit(created.changes)
            return
        }
        do throws(RegistryError) {
            registry = try Registry(snapshot: loaded.snapshot, records: loaded.records.map { $0.payload })
        } catch {
            throw .registry(error)
        }
        journalRecords = loaded.records.count
    }

    /// Makes `changes` durable (see the type's discussion).
    public func commit(_ changes: RegistryChanges) throws(RegistryStoreError) {
        do throws(StateError) {
            for record in changes.records {
                try store.append(record)
                journalRecords += 1
            }
        } catch {
            throw .state(error)
        }
        if journalRecords >= compactAfterRecords || store.journalSize >= compactAfterBytes { try compact() }
    }

    /// `commit`, as a `RegistryJournal`.
    public func record(_ changes: RegistryChanges) throws(JournalFailure) {
        do { try commit(changes) } catch { throw JournalFailure(error.description) }
    }

    /// Writes a snapshot of `registry` and starts an empty journal.
    public func compact() throws(RegistryStoreError) {
        do throws(StateError) {
            try store.compact(snapshot: registry.snapshot())
        } catch {
            throw .state(error)
        }
        journalRecords = 0
    }

    /// Closes the files and releases the directory lock.
    public func close() throws(RegistryStoreError) {
        do throws(StateError) {
            try store.close()
        } catch {
            throw .state(error)
        }
    }
}
