import CTern
import Foundation
import IP
import Linux

/// Runs `executable` with `arguments`, waits, and returns its exit status
/// and combined output.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Foundation.Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The trimmed contents of a small text file, or nil if it cannot be read.
func readText(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A fresh empty directory under /tmp; the caller removes it.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/tern-linux-test.XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(result != nil, "mkdtemp failed")
    return String(cString: template)
}

/// Removes `path` and everything under it.
func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// The `SystemError` `body` throws, or nil if it returns (another error type traps).
func systemError<T>(_ body: () throws -> T) -> SystemError? {
    do {
        _ = try body()
        return nil
    } catch let error as SystemError {
        return error
    } catch {
        fatalError("not a SystemError: \(error)")
    }
}

/// Waits on `loop` until `token` is ready or `milliseconds` pass; true if it became ready.
func waitFor(_ token: UInt64, in loop: EventLoop, milliseconds: UInt64 = 2000) throws -> Bool {
    let deadline = Clock.monotonicNanoseconds() + milliseconds * 1_000_000
    while Clock.monotonicNanoseconds() < deadline {
        try loop.wait(until: deadline)
        if loop.readyEvents.contains(where: { $0.token == token }) { return true }
    }
    return false
}

/// Bytes 0, 1, 2, ... (mod 251) shifted by `seed`: a pattern that shows misplaced bytes.
func pattern(count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 + seed) % 251) }
}
