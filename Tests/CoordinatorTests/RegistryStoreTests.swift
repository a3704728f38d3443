import ControlProtocol
import Foundation
import State
import TestSupport
import Testing
@testable import Coordinator
import CoordinatorStore

@Suite struct RegistryStoreTests {
    /// Runs `count` operations through a store in `directory`; returns the
    /// registry snapshot after each commit (index 0: before any).
    func fill(_ directory: String, count: Int, seed: UInt64, compactAfter: Int = 10_000) throws -> [[UInt8]] {
        let store = try RegistryStore(directory: directory, newNetwork: testSettings(), compactAfterRecords: compactAfter)
        defer { try? store.close() }
        var random = SplitMix64(seed: seed)
        let made = try store.registry.createUser(name: "alice", now: start)
        try store.commit(made.changes)
        var states = [store.registry.snapshot()]
        let key = try store.registry.createPreAuthKey(user: "alice", reusable: true, expiresAt: nil, tags: [], now: start)
        try store.commit(key.changes)
        states.append(store.registry.snapshot())
        while states.count < count {
            let result = store.registry.login(machineKey: randomKey(&random), request: request(randomKey(&random), "n", key: key.secret),
                                              now: start + Int64(states.count))
            let done = try #require(outcome(result))
            #expect(done.changes.records.count == 1)
            try store.commit(done.changes)
            states.append(store.registry.snapshot())
        }
        return states
    }

    @Test func aNewDirectoryBecomesANetworkAndReopensTheSame() throws {
        let directory = makeDirectory() + "/state"
        defer { removeDirectory(directory) }
        let states = try fill(directory, count: 20, seed: 1)
        let reopened = try RegistryStore(directory: directory)
        defer { try? reopened.close() }
        #expect(reopened.warnings.isEmpty)
        #expect(reopened.registry.snapshot() == states.last!)
        #expect(reopened.registry.settings == testSettings())
        #expect(reopened.journalRecords == 21, "the network record and one per operation")
    }

    @Test func aTornTailReloadsThePrefixWithAWarning() throws {
        let directory = makeDirectory() + "/state"
        defer { removeDirectory(directory) }
        let states = try fill(directory, count: 12, seed: 2)
        let journal = directory + "/journal"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int)
        let handle = try #require(FileHandle(forWritingAtPath: journal))
        try handle.truncate(atOffset: UInt64(size - 7))
        try handle.close()

        let reopened = try RegistryStore(directory: directory)
        #expect(reopened.registry.snapshot() == states[states.count - 2], "the last operation is gone, the rest is intact")
        #expect(reopened.warnings.count == 1)
        #expect(reopened.warnings.first?.contains("journal") == true)
        #expect(reopened.warnings.first?.contains("dropped") == true)
        // The store keeps working after the repair.
        let made = try reopened.registry.createUser(name: "bob", now: start)
        try reopened.commit(made.changes)
        let after = reopened.registry.snapshot()
        try reopened.close()
        let again = try RegistryStore(directory: directory)
        defer { try? again.close() }
        #expect(again.registry.snapshot() == after)
        #expect(again.warnings.isEmpty)
    }

    @Test func compactionKeepsTheStateAndEmptiesTheJournal() throws {
        let directory = makeDirectory() + "/state"
        defer { removeDirectory(directory) }
        let states = try fill(directory, count: 30, seed: 3, compactAfter: 8)
        let reopened = try RegistryStore(directory: directory, compactAfterRecords: 8)
        defer { try? reopened.close() }
        #expect(reopened.registry.snapshot() == states.last!)
        #expect(reopened.journalRecords < 8)
        #expect(FileManager.default.fileExists(atPath: directory + "/snapshot"))
    }

    @Test func aSecondOpenIsRefusedWhileLocked() throws {
        let directory = makeDirectory() + "/state"
        defer { removeDirectory(directory) }
        let first = try RegistryStore(directory: directory, newNetwork: testSettings())
        defer { try? first.close() }
        #expect(throws: RegistryStoreError.self) { try RegistryStore(directory: directory) }
    }

    @Test func aCorruptRecordIsReportedNotSkipped() throws {
        let directory = makeDirectory() + "/state"
        defer { removeDirectory(directory) }
        do {
            let store = try RegistryStore(directory: directory, newNetwork: testSettings())
            // A well-framed record whose contents do not apply.
            try store.commit(RegistryChanges(records: [Array("{\"op\":\"deleteNode\",\"id\":5}".utf8)], changedNodes: []))
            try store.close()
        }
        do {
            _ = try RegistryStore(directory: directory)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "stored registry: record 2 of 2: no node 5")
        }
    }
}
