import Foundation
import JSON
@testable import LocalAPI
import Testing

/// The `tern` binary SwiftPM built next to this test binary (the same scratch
/// path: `.build-api/debug/tern` for `swift test --scratch-path .build-api`),
/// or `$TERN_BINARY` (to run these tests against an Embedded build).
func ternBinary() -> String? {
    var candidates: [String] = []
    if let override = ProcessInfo.processInfo.environment["TERN_BINARY"] { return override }
    if let executable = Bundle.main.executablePath {
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("tern").path)
            directory = directory.deletingLastPathComponent()
        }
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    candidates.append(root.appendingPathComponent(".build-api/debug/tern").path)
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

struct TernRun {
    let status: Int32
    let output: String
    let error: String
}

/// Runs `tern` with `arguments` (and TERN_SOCKET only if given), for at most 20 s;
/// `input`, if given, is written to its standard input, which is then closed.
func runTern(_ arguments: [String], socketEnvironment: String? = nil, input: [UInt8]? = nil) throws -> TernRun {
    let binary = try #require(ternBinary(), "no tern binary next to the tests; build it first")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["TERN_SOCKET"] = socketEnvironment
    process.environment = environment
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    let standardInput = Pipe()
    if input != nil { process.standardInput = standardInput }
    try process.run()
    if let input {
        // tern stops reading a too-large input and exits: a write to the
        // closed pipe must fail with EPIPE, not kill the tests.
        signal(SIGPIPE, SIG_IGN)
        // On a thread: a large input fills the pipe while tern stops reading it.
        let writer = standardInput.fileHandleForWriting
        Thread {
            try? writer.write(contentsOf: Data(input))
            try? writer.close()
        }.start()
    }
    let deadline = Date().addingTimeInterval(20)
    while process.isRunning && Date() < deadline { usleep(5_000) }
    if process.isRunning {
        process.terminate()
        Issue.record("tern \(arguments) did not finish")
    }
    process.waitUntilExit()
    return TernRun(status: process.terminationStatus,
                   output: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                   error: String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}

/// A fake ternd answering the contract with canned documents.
@Sendable func fakeTernd(_ request: LocalAPIRequest) -> LocalAPIAnswer {
    let now = Int64(Date().timeIntervalSince1970)
    switch (request.method, request.path) {
    case ("GET", "/v1/status"):
        return .ok(sampleStatus(now: now))
    case ("POST", "/v1/up"):
        if request.body["authKey"] == "revoked" {
            return .error(status: 401, message: "the auth key has been revoked", code: "auth-key-revoked")
        }
        return .ok(sampleStatus(now: now))
    case ("POST", "/v1/ping"):
        if request.body["peer"] == "nobody" {
            return .error(status: 404, message: "no peer named nobody", code: "unknown-peer")
        }
        if request.body["peer"] == "nas" {
            return .ok(["peer": "nas", "address": "100.64.0.3", "results": [["timeout": true]]])
        }
        return .ok(["peer": "laptop", "address": "100.64.0.2", "results": [
            ["rttMicroseconds": 1234, "endpoint": "10.0.0.2:41641"],
            ["timeout": true],
        ]])
    case ("POST", "/v1/down"):
        return .ok(["state": "Stopped"])
    case ("POST", "/v1/logout"):
        return .ok(["loggedOut": true, "serverTold": false])
    default:
        return .notFound(request.path)
    }
}

@Suite("tern against a fake ternd", .serialized, .timeLimit(.minutes(2)))
struct CLIEndToEndTests {
    @Test func status() throws {
        let daemon = try FakeDaemon(handler: fakeTernd)
        defer { daemon.stop() }
        let human = try runTern(["--socket", daemon.path, "status"])
        #expect(human.status == 0, "\(human.error)")
        #expect(human.error == "")
        let lines = human.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines == [
            "Running as gateway (100.64.0.1, fd7a:115c:a1e0::1), control connected (http://10.0.0.1:8080)",
            "health: relay unreachable",
            "100.64.0.2  laptop               10.0.0.2:41641  2m ago  rx 1.5 KiB  tx 3.0 MiB",
            "100.64.0.3  nas-in-the-basement  -               never   rx 0 B      tx 0 B      offline",
            "",
        ])

        let json = try runTern(["status", "--json", "--socket=" + daemon.path])
        #expect(json.status == 0)
        let document = try JSONParser.parse(json.output)
        #expect(document["peers"]?.count == 2)
        #expect(document["self"]?["name"] == "gateway")
        #expect(json.output.hasPrefix("{\n  \"state\": \"Running\""))
        #expect(daemon.requests.map { $0.method + " " + $0.path } == ["GET /v1/status", "GET /v1/status"])

        // TERN_SOCKET is used when --socket is not given.
        let viaEnvironment = try runTern(["ip", "-4"], socketEnvironment: daemon.path)
        #expect(viaEnvironment.status == 0)
        #expect(viaEnvironment.output == "100.64.0.1\n")
        let peer = try runTern(["ip", "nas-in-the-basement", "--socket", daemon.path])
        #expect(peer.output == "100.64.0.3\n")
        let unknown = try runTern(["ip", "ghost", "--socket", daemon.path])
        #expect(unknown.status == 1)
        #expect(unknown.error == "tern: no peer named 'ghost'\n")
    }

    @Test func up() throws {
        let daemon = try FakeDaemon(handler: fakeTernd)
        defer { daemon.stop() }
        let success = try runTern(["--socket", daemon.path, "up", "--login-server", "http://10.0.0.1:8080",
                                   "--auth-key", "tskey-good", "--hostname=gateway"])
        #expect(success.status == 0, "\(success.error)")
        // Then what ternd says is wrong, as `tern status` shows it.
        #expect(success.output == "Logged in as gateway (100.64.0.1, fd7a:115c:a1e0::1), 2 peers\nhealth: relay unreachable\n")
        #expect(daemon.requests.last?.body == ["loginServer": "http://10.0.0.1:8080", "authKey": "tskey-good",
                                               "hostname": "gateway", "controlKey": nil, "timeoutMilliseconds": 30000])

        let revoked = try runTern(["--socket", daemon.path, "up", "--login-server", "http://10.0.0.1:8080",
                                   "--auth-key", "revoked"])
        #expect(revoked.status == 1)
        #expect(revoked.output == "")
        #expect(revoked.error == "tern: the auth key has been revoked\n")

        let reconnect = try runTern(["up", "--socket", daemon.path, "--timeout", "90"])
        #expect(reconnect.status == 0)
        #expect(daemon.requests.last?.body == ["loginServer": nil, "authKey": nil, "hostname": nil, "controlKey": nil,
                                               "timeoutMilliseconds": 90000])

        // A bad URL never reaches the daemon.
        let count = daemon.requests.count
        let badURL = try runTern(["--socket", daemon.path, "up", "--login-server", "https://ctl", "--auth-key", "k"])
        #expect(badURL.status == 2)
        #expect(badURL.error.hasPrefix("tern: --login-server must be an http:// URL"))
        #expect(badURL.error.contains("usage: tern"))
        #expect(daemon.requests.count == count)
    }

    // The daemon receives exactly the key in the file or on standard input,
    // one trailing newline dropped; a bad source never reaches the daemon.
    @Test func authKeyFromFileAndStandardInput() throws {
        let daemon = try FakeDaemon(handler: fakeTernd)
        defer { daemon.stop() }
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        func write(_ name: String, _ bytes: [UInt8], mode: Int = 0o600) throws -> String {
            let path = directory + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            return path
        }
        func sentKey() -> JSONValue? { daemon.requests.last?.body["authKey"] }

        let keyFile = try write("key", Array("tskey-from-file-0123\n".utf8))
        let fromFile = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:" + keyFile])
        #expect(fromFile.status == 0, "\(fromFile.error)")
        #expect(sentKey() == "tskey-from-file-0123")

        let fromInput = try runTern(["--socket", daemon.path, "up", "--auth-key", "-"], input: Array("tskey-on-stdin\n".utf8))
        #expect(fromInput.status == 0, "\(fromInput.error)")
        #expect(sentKey() == "tskey-on-stdin")
        let noNewline = try runTern(["--socket", daemon.path, "up", "--auth-key=-"], input: Array("tskey-bare".utf8))
        #expect(noNewline.status == 0)
        #expect(sentKey() == "tskey-bare")

        // The daemon's answer to the key read from a file still comes through.
        let revoked = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:" + (try write("revoked", Array("revoked\n".utf8)))])
        #expect(revoked.status == 1 && revoked.error == "tern: the auth key has been revoked\n")

        let count = daemon.requests.count
        let missing = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:" + directory + "/absent"])
        #expect(missing.status == 1)
        #expect(missing.error == "tern: cannot open the auth key file " + directory + "/absent: No such file or directory\n")
        let empty = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:" + (try write("empty", []))])
        #expect(empty.status == 1)
        #expect(empty.error.contains("holds no auth key"))
        let emptyInput = try runTern(["--socket", daemon.path, "up", "--auth-key", "-"], input: Array("\n".utf8))
        #expect(emptyInput.status == 1 && emptyInput.error == "tern: standard input holds no auth key (it is empty)\n")
        let large = [UInt8](repeating: UInt8(ascii: "k"), count: 1 << 20)
        let bigFile = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:" + (try write("big", large))])
        #expect(bigFile.status == 1 && bigFile.error.contains("is larger than 4096 bytes"))
        let bigInput = try runTern(["--socket", daemon.path, "up", "--auth-key", "-"], input: large)
        #expect(bigInput.status == 1 && bigInput.error.contains("standard input is larger than 4096 bytes"))
        let device = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:/dev/zero"])
        #expect(device.status == 1 && device.error.contains("is larger than"))
        let twoLines = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:" + (try write("two", Array("a\nb\n".utf8)))])
        #expect(twoLines.status == 1 && twoLines.error.contains("more than one line"))
        let folder = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:" + directory])
        #expect(folder.status == 1 && folder.error.hasPrefix("tern: cannot read the auth key file " + directory + ": "))
        if getuid() != 0 {
            let unreadable = try runTern(["--socket", daemon.path, "up", "--auth-key", "file:" + (try write("locked", Array("k\n".utf8), mode: 0))])
            #expect(unreadable.status == 1 && unreadable.error.contains("Permission denied"))
        }
        #expect(daemon.requests.count == count)
    }

    @Test func ping() throws {
        let daemon = try FakeDaemon(handler: fakeTernd)
        defer { daemon.stop() }
        let some = try runTern(["--socket", daemon.path, "ping", "laptop", "-c", "2", "--timeout", "0.5"])
        #expect(some.status == 0)
        #expect(some.output == "pong from laptop (100.64.0.2) via 10.0.0.2:41641 in 1.234 ms\n"
            + "timeout waiting for pong from laptop\n")
        #expect(daemon.requests.last?.body == ["peer": "laptop", "count": 2, "timeoutMilliseconds": 500])

        let none = try runTern(["--socket", daemon.path, "ping", "nas"])
        #expect(none.status == 1)
        #expect(none.output == "timeout waiting for pong from nas\n")
        #expect(daemon.requests.last?.body == ["peer": "nas", "count": 4, "timeoutMilliseconds": 5000])

        let unknown = try runTern(["--socket", daemon.path, "ping", "nobody"])
        #expect(unknown.status == 1)
        #expect(unknown.error == "tern: no peer named nobody\n")
    }

    @Test func downLogoutVersionAndUsage() throws {
        let daemon = try FakeDaemon(handler: fakeTernd)
        defer { daemon.stop() }
        let down = try runTern(["--socket", daemon.path, "down"])
        #expect(down.status == 0 && down.output == "Disconnected; run 'tern up' to reconnect.\n")
        let logout = try runTern(["logout", "--socket", daemon.path])
        #expect(logout.status == 0 && logout.output == "Logged out (the coordination server could not be told).\n")
        #expect(daemon.requests.map { $0.method + " " + $0.path } == ["POST /v1/down", "POST /v1/logout"])

        #expect(try runTern(["version"]).output == "tern 0.1.0\n")
        #expect(try runTern(["--version"]).output == "tern 0.1.0\n")
        let help = try runTern(["-h"])
        #expect(help.status == 0 && help.output.hasPrefix("usage: tern"))
        let unknown = try runTern(["frobnicate"])
        #expect(unknown.status == 2 && unknown.output == "")
        #expect(unknown.error.hasPrefix("tern: unknown command 'frobnicate'\n\nusage: tern"))
        #expect(try runTern([]).status == 2)
    }

    @Test func daemonNotRunning() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/ternd.sock"
        let run = try runTern(["status", "--socket", path])
        #expect(run.status == 1)
        #expect(run.error == "tern: ternd is not running (no socket at " + path + ")\n")
    }
}
