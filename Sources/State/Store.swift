import CTern

/// Tuning for a `Store`.
public struct StoreOptions: Sendable {
    /// The largest record `append` accepts (and replay believes).
    public var maxRecordSize: Int
    /// The largest snapshot `load` reads.
    public var maxSnapshotSize: Int
    /// When appends reach the disk.
    public var syncPolicy: SyncPolicy
    /// The permission bits of the files (the directory is always 0700 when created).
    public var fileMode: UInt32

    /// Options with these values (defaults: 1 MiB records, 64 MiB
    /// snapshots, sync every append, files 0600).
    public init(
        maxRecordSize: Int = 1 << 20, maxSnapshotSize: Int = 64 << 20,
        syncPolicy: SyncPolicy = .everyAppend, fileMode: UInt32 = 0o600
    ) {
        self.maxRecordSize = maxRecordSize
        self.maxSnapshotSize = maxSnapshotSize
        self.syncPolicy = syncPolicy
        self.fileMode = fileMode
    }
}

/// Something `Store.load` repaired and the operator should hear about.
public enum StoreWarning: Equatable, Sendable, CustomStringConvertible {
    /// A damaged journal tail was cut off.
    case journalTail(JournalWarning)
    /// The journal file was missing although a snapshot exists; a fresh,
    /// empty one was started after the snapshot's sequence.
    case journalMissing(path: String, snapshotSequence: UInt64)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .journalTail(let warning): return warning.description
        case .journalMissing(let path, let sequence):
            return "journal " + path + ": missing; started a new one after snapshot record " + String(sequence)
        }
    }
}

/// What `Store.load` found.
public struct LoadedState: Sendable {
    /// The latest snapshot's bytes, or nil if the store was never compacted.
    public var snapshot: [UInt8]?
    /// The last record sequence the snapshot covers (0 without a snapshot).
    public var snapshotSequence: UInt64
    /// The records appended after the snapshot, in order (sequences
    /// `snapshotSequence + 1`, `+ 2`, ...).
    public var records: [JournalRecord]
    /// What was repaired on the way.
    public var warnings: [StoreWarning]
}

/// A directory of crash-safe state: a snapshot plus an append-only journal
/// of the records since, owned by one process at a time.
///
/// Files in the directory (created 0700 if missing): `lock` (see
/// `DirectoryLock`), `snapshot` (an `AtomicFile` of kind "SNAP" whose
/// sequence is the last record it covers), `journal` (a `Journal` whose
/// base sequence is the snapshot's). Record sequences start at 1 and keep
/// counting across compactions.
///
/// `compact(snapshot:)` is crash-safe at every step:
/// 1. write `snapshot.tmp`, fsync, rename over `snapshot`, fsync the
///    directory — a crash before the rename leaves the old snapshot and the
///    old journal (consistent); after it, the new snapshot covers every
///    record of the old journal, so `load` skips them (no duplicates) and
///    starts a fresh journal;
/// 2. write an empty `journal.tmp` based at the new sequence, fsync, rename
///    over `journal`, fsync the directory.
///
/// `load` returns the snapshot and the journal records newer than it,
/// cleans stale temporary files, and refuses (`.inconsistent`) a journal
/// that starts after the snapshot ends, since records would be missing.
///
/// ```
/// let store = try Store(directory: "/var/lib/tern-control")
/// let state = try store.load()              // apply snapshot, then records
/// try store.append(Array(json.utf8))         // durable when it returns
/// if store.journalSize > 4 << 20 { try store.compact(snapshot: everything) }
/// ```
public final class Store {
    /// The snapshot and journal format version.
    public static let formatVersion: UInt32 = 1

    /// The state directory.
    public let directory: String
    /// The options the store was opened with.
    public let options: StoreOptions
    /// The sequence of the last record appended (or covered by the snapshot).
    public var lastSequence: UInt64 { journal?.lastSequence ?? 0 }
    /// The journal's size in bytes (a cue for when to compact).
    public var journalSize: Int64 { journal?.size ?? 0 }

    private let lock: DirectoryLock
    private var journal: Journal?
    private var snapshotPath: String { FilePath.join(directory, "snapshot") }
    private var journalPath: String { FilePath.join(directory, "journal") }

    /// Opens `directory` (creating it with mode 0700 if missing; its parent
    /// must exist) and takes its lock: throws `.locked` if another process
    /// has it. Call `load()` before anything else.
    public init(directory: String, options: StoreOptions = StoreOptions()) throws(StateError) {
        try FilePath.makeDirectory(directory, mode: 0o700)
        self.lock = try DirectoryLock(directory: directory)
        self.directory = directory
        self.options = options
    }

    /// Reads the snapshot and replays the journal (repairing a torn tail),
    /// and makes the store ready for `append` and `compact`.
    public func load() throws(StateError) -> LoadedState {
        try journal?.close()
        journal = nil
        try FilePath.remove(AtomicFile.temporaryPath(for: snapshotPath))
        try FilePath.remove(AtomicFile.temporaryPath(for: journalPath))
        var warnings: [StoreWarning] = []

        let stored = try AtomicFile.readIfPresent(
            snapshotPath, kind: .snapshot, supportedVersion: Store.formatVersion, limit: options.maxSnapshotSize)
        let snapshotSequence = stored?.sequence ?? 0
        if !(try FilePath.exists(journalPath)) {
            if stored != nil { warnings.append(.journalMissing(path: journalPath, snapshotSequence: snapshotSequence)) }
            try Journal.create(journalPath, baseSequence: snapshotSequence, mode: options.fileMode)
        }

        var opened = try Journal.open(journalPath, maxRecordSize: options.maxRecordSize, syncPolicy: options.syncPolicy)
        if let warning = opened.warning { warnings.append(.journalTail(warning)) }
        guard opened.journal.baseSequence <= snapshotSequence else {
            throw StateError(
                "load store", path: directory,
                .inconsistent(snapshotSequence: snapshotSequence, journalBaseSequence: opened.journal.baseSequence))
        }
        if opened.journal.lastSequence < snapshotSequence {
            // Compaction stopped after the snapshot and before the new journal:
            // every journal record is in the snapshot. Finish the compaction.
            try opened.journal.close()
            try Journal.create(journalPath, baseSequence: snapshotSequence, mode: options.fileMode)
            opened = try Journal.open(journalPath, maxRecordSize: options.maxRecordSize, syncPolicy: options.syncPolicy)
        }
        journal = opened.journal
        let records = opened.records.filter { $0.sequence > snapshotSequence }
        return LoadedState(
            snapshot: stored?.payload, snapshotSequence: snapshotSequence, records: records, warnings: warnings)
    }

    /// Appends `record` to the journal and returns its sequence number; with
    /// `.everyAppend` it is on disk when this returns. Traps before `load()`.
    @discardableResult
    public func append(_ record: [UInt8]) throws(StateError) -> UInt64 {
        guard let journal else { preconditionFailure("Store.append before load()") }
        return try journal.append(record)
    }

    /// Syncs appended records to disk (for `SyncPolicy.manual`).
    public func sync() throws(StateError) {
        guard let journal else { preconditionFailure("Store.sync before load()") }
        try journal.sync()
    }

    /// Replaces snapshot and journal: `snapshot` must hold the state after
    /// every record appended so far (through `lastSequence`). Crash-safe at
    /// every step (see the type's discussion). Traps before `load()`.
    public func compact(snapshot: [UInt8]) throws(StateError) {
        try compact(snapshot: snapshot, crashAt: nil)
    }

    /// Where `compact` may be stopped in tests, as if the process died there.
    enum CompactionStep {
        /// `snapshot.tmp` written and synced, not renamed.
        case snapshotTemporaryWritten
        /// `snapshot` replaced; the old journal still in place.
        case snapshotRenamed
        /// `journal.tmp` written and synced, not renamed.
        case journalTemporaryWritten
        /// `journal` replaced, not reopened.
        case journalRenamed
    }

    /// `compact`, stopping at `crashAt` (the store must then be discarded).
    func compact(snapshot: [UInt8], crashAt: CompactionStep?) throws(StateError) {
        guard let current = journal else { preconditionFailure("Store.compact before load()") }
        guard snapshot.count <= options.maxSnapshotSize else {
            throw StateError(
                "compact", path: snapshotPath,
                .tooLarge(size: Int64(snapshot.count), limit: Int64(options.maxSnapshotSize)))
        }
        let sequence = current.lastSequence
        try AtomicFile.write(
            snapshot, to: snapshotPath, kind: .snapshot, version: Store.formatVersion, sequence: sequence,
            mode: options.fileMode, stopBeforeRename: crashAt == .snapshotTemporaryWritten)
        if crashAt == .snapshotTemporaryWritten || crashAt == .snapshotRenamed { return }
        try Journal.create(
            journalPath, baseSequence: sequence, mode: options.fileMode,
            stopBeforeRename: crashAt == .journalTemporaryWritten)
        if crashAt != nil { return }
        journal = nil
        try current.close()
        let opened = try Journal.open(journalPath, maxRecordSize: options.maxRecordSize, syncPolicy: options.syncPolicy)
        journal = opened.journal
    }

    /// Closes the journal and releases the directory lock (also done when
    /// the store is destroyed).
    public func close() throws(StateError) {
        let current = journal
        journal = nil
        defer { lock.unlock() }
        try current?.close()
    }
}
