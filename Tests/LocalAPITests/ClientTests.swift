import Foundation
import JSON
import Linux
@testable import LocalAPI
import Testing

/// A one-shot raw Unix server: accepts one client, reads what it sends for a
/// moment, writes `reply` (if any) and closes. For answers LocalAPIServer never gives.
final class RawServer: @unchecked Sendable {
    let path: String
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)

    init(path: String, reply: [UInt8]?, holdMilliseconds: UInt32 = 0) {
        self.path = path
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        precondition(bound == 0 && listen(listener, 4) == 0, "raw server cannot listen")
        let fd = listener
        Thread { [done] in
            let client = accept(fd, nil, nil)
            if client >= 0 {
                var buffer = [UInt8](repeating: 0, count: 65536)
                var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
                setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                _ = read(client, &buffer, buffer.count)
                if let reply { _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) } }
                if holdMilliseconds > 0 { usleep(holdMilliseconds * 1000) }
                close(client)
            }
            done.signal()
        }.start()
    }

    func finish() {
        _ = done.wait(timeout: .now() + 10)
        close(listener)
        unlink(path)
    }
}

@Suite("LocalAPIClient", .timeLimit(.minutes(1)))
struct ClientTests {
    // No socket file: "ternd is not running (no socket at PATH)", with the daemon's name.
    @Test func missingSocket() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/run/tern/ternd.sock"
        let error = #expect(throws: LocalAPIError.self) {
            try LocalAPIClient(socketPath: path, daemonName: "ternd").request(method: "GET", path: "/v1/status", timeoutMilliseconds: 1000)
        }
        #expect(error == .notRunning(daemon: "ternd", path: path, socketMissing: true))
        #expect(error?.message == "ternd is not running (no socket at " + path + ")")

        let control = #expect(throws: LocalAPIError.self) {
            try LocalAPIClient(socketPath: path, daemonName: "tern-control").request(method: "GET", path: "/", timeoutMilliseconds: 1000)
        }
        #expect(control?.message == "tern-control is not running (no socket at " + path + ")")
    }

    // A socket file nobody listens on (a daemon that died) reads as "not running" too.
    @Test func staleSocket() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/stale.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        let error = #expect(throws: LocalAPIError.self) {
            try LocalAPIClient(socketPath: path, daemonName: "ternd").request(method: "GET", path: "/", timeoutMilliseconds: 1000)
        }
        #expect(error == .notRunning(daemon: "ternd", path: path, socketMissing: false))
        #expect(error?.message == "ternd is not running (nothing listens at " + path + ")")
    }

    // A daemon that never answers: the client gives up after its timeout, not much later.
    @Test func timeout() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        let started = Date()
        let error = #expect(throws: LocalAPIError.self) {
            try client(daemon).request(method: "POST", path: "/v1/wait", timeoutMilliseconds: 300)
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(error == .timedOut(daemon: "ternd", milliseconds: 300))
        #expect(error?.message == "ternd did not answer within 0.3 s")
        #expect(elapsed >= 0.3 && elapsed < 3)
    }

    // Without the right to connect: "run as root". Root may connect anyway, so this runs
    // only for other users.
    @Test(.enabled(if: geteuid() != 0)) func permissionDenied() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        chmod(daemon.path, 0o000)
        let error = #expect(throws: LocalAPIError.self) {
            try client(daemon).request(method: "GET", path: "/v1/status", timeoutMilliseconds: 1000)
        }
        #expect(error == .permissionDenied(daemon: "ternd", path: daemon.path))
        #expect(error?.message.hasSuffix("run as root") == true)
    }

    @Test func permissionDeniedMessage() {
        let error = LocalAPIError.permissionDenied(daemon: "ternd", path: "/run/tern/ternd.sock")
        #expect(error.message == "permission denied talking to ternd at /run/tern/ternd.sock: run as root")
    }

    // Answers that are not HTTP, not JSON, or cut short are errors with clear messages.
    @Test func malformedAnswers() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/raw.sock"
        let api = LocalAPIClient(socketPath: path, daemonName: "ternd")

        let cases: [([UInt8]?, (LocalAPIError) -> Bool)] = [
            (Array("SSH-2.0-OpenSSH\r\n\r\n".utf8), { $0.kind == .malformedResponse }),
            (Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8),
             { $0.kind == .malformedResponse && $0.message.hasPrefix("ternd sent a malformed answer: the body is not JSON (line 1, column 1: ") }),
            (Array("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"a\"".utf8), { $0 == .connectionClosed(daemon: "ternd") }),
            (nil, { $0 == .connectionClosed(daemon: "ternd") }),
        ]
        for (reply, check) in cases {
            let server = RawServer(path: path, reply: reply)
            defer { server.finish() }
            do {
                _ = try api.request(method: "GET", path: "/v1/status", timeoutMilliseconds: 3000)
                Issue.record("expected an error for reply \(String(decoding: reply ?? [], as: UTF8.self))")
            } catch {
                #expect(check(error), "got \(error.message)")
            }
        }
    }

    // A body without Content-Length runs until the close; an empty body reads as null;
    // interim 100 Continue answers are skipped.
    @Test func tolerantFraming() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/raw.sock"
        let api = LocalAPIClient(socketPath: path, daemonName: "ternd")

        let untilClose = RawServer(path: path, reply: Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"ok\": true}".utf8))
        let first = try api.request(method: "GET", path: "/", timeoutMilliseconds: 3000)
        untilClose.finish()
        #expect(first.status == 200 && first.body == ["ok": true])

        let empty = RawServer(path: path, reply: Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".utf8))
        let second = try api.request(method: "POST", path: "/", body: ["x": 1], timeoutMilliseconds: 3000)
        empty.finish()
        #expect(second.status == 204 && second.body == .null)
    }

    @Test func errorBodies() {
        let body = LocalAPIErrorBody.make(message: "the auth key has been revoked", code: "auth-key-revoked")
        #expect(body == ["error": "the auth key has been revoked", "code": "auth-key-revoked"])
        #expect(LocalAPIErrorBody.message(in: body, status: 401) == "the auth key has been revoked")
        #expect(LocalAPIErrorBody.code(in: body) == "auth-key-revoked")
        #expect(LocalAPIErrorBody.message(in: .null, status: 503) == "HTTP 503 Service Unavailable")
        #expect(LocalAPIErrorBody.message(in: ["error": ""], status: 599) == "HTTP 599")
    }
}
