import CTern
import Foundation
import State
import Testing

/// `kill -9` tests: the test binary re-runs itself with only `childWriter()`
/// selected and an environment variable telling it what to write; the parent
/// kills it at a random moment and checks what is on disk.
@Suite("Crash (kill -9)")
struct CrashTests {
    static let variable = "TERN_STATE_TEST_CHILD"

    // The child side. Without the environment variable this returns at once.
    // "store:DIR": append records to a Store forever, compacting every 64, and
    // print "SYNCED n" after each durable append. "atomic:PATH": rewrite an
    // atomic file forever with growing contents, printing "WROTE n".
    @Test func childWriter() throws {
        guard let task = ProcessInfo.processInfo.environment[CrashTests.variable] else { return }
        if task.hasPrefix("store:") {
            let store = try Store(directory: String(task.dropFirst(6)))
            var all = logicalState(try store.load())
            for _ in 0..<1_000_000 {
                if getppid() == 1 { break }
                let sequence = try store.append(payload(for: UInt64(all.count + 1)))
                all.append(sequence)
                reportLine("SYNCED " + String(sequence))
                if sequence % 64 == 0 { try store.compact(snapshot: snapshotPayload(all)) }
            }
        } else if task.hasPrefix("atomic:") {
            let path = String(task.dropFirst(7))
            for n in 1...1_000_000 {
                if getppid() == 1 { break }
                try AtomicFile.write(CrashTests.atomicPayload(n), to: path, kind: FileKind("TEST"), version: 1, sequence: UInt64(n))
                reportLine("WROTE " + String(n))
            }
        }
    }

    /// A payload of `n` repeated, 1-64 KB, so a kill often lands mid-write.
    static func atomicPayload(_ n: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: 1024 * (1 + n % 64))
    }

    /// Runs the child for `task` and kills it with SIGKILL once it reported
    /// `atLeast` lines with `prefix`; returns the largest number it reported.
    func runAndKill(task: String, prefix: String, atLeast: Int) throws -> Int {
        let (process, output) = try spawnSelf(testName: "childWriter", environment: [CrashTests.variable: task])
        var lines = readLines(output) { lines in lines.filter { $0.hasPrefix(prefix) }.count >= atLeast }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        lines += readLines(output) { _ in false }
        let reported = lines.filter { $0.hasPrefix(prefix) }.map { Int($0.dropFirst(prefix.count))! }
        #expect(reported.count >= atLeast, "the child reported too little: \(lines.suffix(5))")
        #expect(reported == Array(reported.indices.map { reported.first! + $0 }), "reports out of order")
        return reported.last ?? 0
    }

    // Killed at random points while appending and compacting: every record the
    // writer reported as synced is there, in order, with nothing lost or repeated.
    @Test func killDuringAppends() throws {
        if ProcessInfo.processInfo.environment[CrashTests.variable] != nil { return }
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        var everReported = 0
        for round in 0..<5 {
            let last = try runAndKill(task: "store:" + dir, prefix: "SYNCED ", atLeast: 30 + (round * 53) % 150)
            #expect(last > everReported)
            everReported = last
            let store = try Store(directory: dir)
            let state = try store.load()
            let all = logicalState(state)
            #expect(all == Array(1...UInt64(all.count)), "round \(round): not contiguous")
            #expect(all.count >= everReported, "round \(round): a synced record was lost")
            try store.close()
        }
    }

    // Killed at random points while rewriting an atomic file: the file always
    // reads back whole (one of the writes at or after the last reported one),
    // and the next write cleans up the stale temporary file.
    @Test func killDuringAtomicWrites() throws {
        if ProcessInfo.processInfo.environment[CrashTests.variable] != nil { return }
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/file"
        let kind = FileKind("TEST")
        for round in 0..<5 {
            let last = try runAndKill(task: "atomic:" + path, prefix: "WROTE ", atLeast: 10 + round * 7)
            let stored = try AtomicFile.read(path, kind: kind, supportedVersion: 1)
            let n = Int(stored.sequence)
            #expect(n == last || n == last + 1, "round \(round): read \(n) after \(last) was reported")
            #expect(stored.payload == CrashTests.atomicPayload(n))
        }
        try AtomicFile.write([1], to: path, kind: kind, version: 1)
        #expect(!fileExists(AtomicFile.temporaryPath(for: path)))
    }
}
