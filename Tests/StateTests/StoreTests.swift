import CTern
import Foundation
@testable import State
import Testing

@Suite("Store")
struct StoreTests {
    /// Appends records `range` (payloads from `payload(for:)`), checking their sequences.
    func append(_ store: Store, _ range: ClosedRange<UInt64>) throws {
        for sequence in range { #expect(try store.append(payload(for: sequence)) == sequence) }
    }

    // A fresh directory is created 0700 and loads empty; records survive reopening.
    @Test func freshStore() throws {
        let parent = makeTemporaryDirectory()
        defer { removeTree(parent) }
        let dir = parent + "/state"
        let store = try Store(directory: dir)
        #expect(permissions(dir) == 0o700)
        let state = try store.load()
        #expect(state.snapshot == nil && state.records.isEmpty && state.warnings.isEmpty && state.snapshotSequence == 0)
        try append(store, 1...3)
        try store.close()
        let again = try Store(directory: dir)
        #expect(logicalState(try again.load()) == [1, 2, 3])
        #expect(permissions(dir + "/journal") == 0o600)
        // A file where the directory should be is a clear error.
        writeBytes(parent + "/file", [1])
        #expect(stateError { () throws(StateError) in try Store(directory: parent + "/file") }?.problem == .notADirectory)
    }

    // After compaction: the snapshot plus only the newer records, sequences keep counting.
    @Test func loadAfterCompaction() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try Store(directory: dir)
        _ = try store.load()
        try append(store, 1...10)
        let before = store.journalSize
        try store.compact(snapshot: snapshotPayload(Array(1...10)))
        #expect(store.journalSize == Int64(FileHeader.size) && before > store.journalSize)
        try append(store, 11...12)
        try store.close()

        let again = try Store(directory: dir)
        let state = try again.load()
        #expect(state.snapshotSequence == 10)
        #expect(state.records.map(\.sequence) == [11, 12])
        #expect(logicalState(state) == Array(1...12))
        #expect(permissions(dir + "/snapshot") == 0o600)
        // Twice more, with nothing appended in between the second time.
        try again.compact(snapshot: snapshotPayload(Array(1...12)))
        try again.compact(snapshot: snapshotPayload(Array(1...12)))
        try append(again, 13...13)
        try again.close()
        let third = try Store(directory: dir)
        #expect(logicalState(try third.load()) == Array(1...13))
    }

    // A crash at every step of compaction recovers with no record lost or duplicated,
    // and the next append continues the sequence.
    @Test(arguments: [
        Store.CompactionStep.snapshotTemporaryWritten, .snapshotRenamed, .journalTemporaryWritten, .journalRenamed,
    ])
    func crashDuringCompaction(step: Store.CompactionStep) throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try Store(directory: dir)
        _ = try store.load()
        try append(store, 1...5)
        try store.compact(snapshot: snapshotPayload(Array(1...5)))
        try append(store, 6...8)
        try store.compact(snapshot: snapshotPayload(Array(1...8)), crashAt: step)
        try store.close()

        let recovered = try Store(directory: dir)
        let state = try recovered.load()
        #expect(state.warnings.isEmpty)
        #expect(logicalState(state) == Array(1...8))
        #expect(!fileExists(dir + "/snapshot.tmp") && !fileExists(dir + "/journal.tmp"))
        try append(recovered, 9...10)
        try recovered.close()

        let final = try Store(directory: dir)
        #expect(logicalState(try final.load()) == Array(1...10))
        try final.compact(snapshot: snapshotPayload(Array(1...10)))
        try final.close()
        let compacted = try Store(directory: dir)
        let last = try compacted.load()
        #expect(last.records.isEmpty && last.snapshotSequence == 10)
        #expect(try compacted.append(payload(for: 11)) == 11)
    }

    // A torn journal tail is repaired and reported through load.
    @Test func tornTailReported() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try Store(directory: dir)
        _ = try store.load()
        try append(store, 1...3)
        try store.close()
        let full = readBytes(dir + "/journal")
        writeBytes(dir + "/journal", Array(full.dropLast(5)))
        let again = try Store(directory: dir)
        let state = try again.load()
        #expect(logicalState(state) == [1, 2])
        guard case .journalTail(let warning)? = state.warnings.first else {
            Issue.record("no warning")
            return
        }
        #expect(warning.damage == .truncatedPayload)
        #expect(warning.droppedBytes == Int64(payload(for: 3).count + Journal.recordHeaderSize - 5))
        #expect(try again.append(payload(for: 3)) == 3)
    }

    // A journal that starts after the snapshot ends is refused: records would be missing.
    @Test func inconsistentJournalRefused() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        try AtomicFile.write(snapshotPayload(Array(1...5)), to: dir + "/snapshot", kind: .snapshot, version: 1, sequence: 5)
        try Journal.create(dir + "/journal", baseSequence: 8)
        let store = try Store(directory: dir)
        let error = stateError { () throws(StateError) in try store.load() }
        #expect(error?.problem == .inconsistent(snapshotSequence: 5, journalBaseSequence: 8))
        #expect(error?.description.contains("records in between are missing") == true)
    }

    // A missing journal next to a snapshot is restarted after it, with a warning.
    @Test func missingJournal() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        try AtomicFile.write(snapshotPayload(Array(1...5)), to: dir + "/snapshot", kind: .snapshot, version: 1, sequence: 5)
        let store = try Store(directory: dir)
        let state = try store.load()
        #expect(state.warnings == [.journalMissing(path: dir + "/journal", snapshotSequence: 5)])
        #expect(logicalState(state) == Array(1...5))
        #expect(try store.append(payload(for: 6)) == 6)
    }

    // A second lock on the directory fails at once with a clear error naming the holder;
    // it succeeds once the first is released.
    @Test func directoryLock() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let store = try Store(directory: dir)
        let error = stateError { () throws(StateError) in try Store(directory: dir) }
        #expect(error?.problem == .locked(holderPID: getpid()))
        #expect(error?.description.contains("in use by another process (pid \(getpid()))") == true)
        #expect(stateError { () throws(StateError) in try DirectoryLock(directory: dir) }?.problem == .locked(holderPID: getpid()))
        try store.close()
        let lock = try DirectoryLock(directory: dir)
        #expect(stateError { () throws(StateError) in try DirectoryLock(directory: dir) } != nil)
        lock.unlock()
        _ = try DirectoryLock(directory: dir)
    }
}
