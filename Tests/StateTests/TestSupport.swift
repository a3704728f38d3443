import CTern
import Foundation
import State

/// A fresh empty directory under /tmp; the caller removes it with `removeTree`.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/tern-state-test.XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(result != nil, "mkdtemp failed")
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Removes `path` and everything under it.
func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// The whole contents of `path` (empty if missing).
func readBytes(_ path: String) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return [UInt8](data)
}

/// Replaces `path` with `bytes` (no atomicity: test setup only).
func writeBytes(_ path: String, _ bytes: [UInt8]) {
    precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write " + path)
}

/// True if `path` exists.
func fileExists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path)
}

/// The permission bits of `path`.
func permissions(_ path: String) -> Int {
    var info = stat()
    precondition(stat(path, &info) == 0, "stat failed")
    return Int(info.st_mode & 0o7777)
}

/// The `StateError` `body` throws, or nil if it returns.
func stateError<T>(_ body: () throws(StateError) -> T) -> StateError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A deterministic payload for record `sequence` of varying length (0 to ~3 KB).
func payload(for sequence: UInt64) -> [UInt8] {
    var result = bytes("r" + String(sequence) + ":")
    let padding = Int((sequence &* 2_654_435_761) % 3_000)
    result.append(contentsOf: [UInt8](repeating: UInt8(truncatingIfNeeded: sequence), count: padding))
    return result
}

/// A snapshot encoding a list of record sequences ("1\n2\n...").
func snapshotPayload(_ sequences: [UInt64]) -> [UInt8] {
    var text = ""
    for sequence in sequences { text += String(sequence) + "\n" }
    return bytes(text)
}

/// The sequences a snapshot made by `snapshotPayload` lists.
func sequences(inSnapshot snapshot: [UInt8]?) -> [UInt64] {
    guard let snapshot else { return [] }
    return String(decoding: snapshot, as: UTF8.self).split(separator: "\n").map { UInt64($0)! }
}

/// The logical state of a loaded store built by these tests: the snapshot's
/// sequences followed by the records'; checks each record's payload.
func logicalState(_ state: LoadedState) -> [UInt64] {
    var all = sequences(inSnapshot: state.snapshot)
    for record in state.records {
        precondition(record.payload == payload(for: record.sequence), "record payload mismatch")
        all.append(record.sequence)
    }
    return all
}

/// Runs this test binary again with only the test named `testName`, with
/// `environment` added; returns the running process and its stdout pipe.
func spawnSelf(testName: String, environment: [String: String]) throws -> (Process, Foundation.Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
    process.arguments = ["--testing-library", "swift-testing", "--filter", testName]
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let output = Foundation.Pipe()
    process.standardOutput = output
    process.standardError = FileHandle(forWritingAtPath: "/dev/null")
    try process.run()
    return (process, output)
}

/// Writes `line` and a newline to standard output with one write(2), unbuffered.
func reportLine(_ line: String) {
    let data = Array((line + "\n").utf8)
    _ = data.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// Reads `pipe` line by line until `stop` returns true for the lines so far
/// or the stream ends; returns the lines.
func readLines(_ pipe: Foundation.Pipe, until stop: ([String]) -> Bool) -> [String] {
    var lines: [String] = []
    var pending: [UInt8] = []
    let handle = pipe.fileHandleForReading
    while true {
        let data = handle.availableData
        if data.isEmpty { return lines }
        for byte in data {
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll()
            } else {
                pending.append(byte)
            }
        }
        if stop(lines) { return lines }
    }
}
