import Foundation
import HTTP
import JSON
import Linux
@testable import LocalAPI
import Testing

/// A handler with a few routes: status, echo, a deferred login, a large answer.
@Sendable func routes(_ request: LocalAPIRequest) -> LocalAPIAnswer {
    switch (request.method, request.path) {
    case ("GET", "/v1/status"):
        return .ok(["state": "Running", "query": request.query.map { .string($0) } ?? nil])
    case ("POST", "/v1/echo"):
        return .ok(["method": .string(request.method), "echo": request.body])
    case ("POST", "/v1/up"), ("POST", "/v1/wait"):
        return .deferred
    case ("GET", "/v1/large"):
        return .ok(.array((0..<20_000).map { .string("line " + String($0)) }))
    case (_, "/v1/status"), (_, "/v1/echo"):
        return .methodNotAllowed(request.method, request.path)
    default:
        return .notFound(request.path)
    }
}

func client(_ daemon: FakeDaemon, name: String = "ternd") -> LocalAPIClient {
    LocalAPIClient(socketPath: daemon.path, daemonName: name)
}

func request(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

@Suite("LocalAPIServer", .timeLimit(.minutes(1)))
struct ServerTests {
    // GET and POST with JSON bodies come back whole; unknown paths get a JSON 404.
    @Test func roundTrip() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        let api = client(daemon)

        let status = try api.request(method: "GET", path: "/v1/status?peers=1", timeoutMilliseconds: 5000)
        #expect(status.status == 200)
        #expect(status.body == ["state": "Running", "query": "peers=1"])

        let document: JSONValue = ["a": [1, 2, nil, true], "s": "h\u{e9}llo \"quoted\"", "o": ["n": -5]]
        let echo = try api.request(method: "POST", path: "/v1/echo", body: document, timeoutMilliseconds: 5000)
        #expect(echo.status == 200)
        #expect(echo.body == ["method": "POST", "echo": document])

        let missing = try api.request(method: "GET", path: "/v2/nothing", timeoutMilliseconds: 5000)
        #expect(missing.status == 404)
        #expect(LocalAPIErrorBody.code(in: missing.body) == "not-found")
        #expect(LocalAPIErrorBody.message(in: missing.body, status: 404) == "no such endpoint: /v2/nothing")

        let wrongMethod = try api.request(method: "DELETE", path: "/v1/status", timeoutMilliseconds: 5000)
        #expect(wrongMethod.status == 405)
        #expect(LocalAPIErrorBody.code(in: wrongMethod.body) == "method-not-allowed")

        #expect(daemon.requests.map { $0.path } == ["/v1/status", "/v1/echo", "/v2/nothing", "/v1/status"])
        #expect(daemon.requests[1].body == document)
        #expect(daemon.requests[0].body == .null)
        #expect(eventually { daemon.perform { $0.clientCount } == 0 })
    }

    // The answer's framing: JSON content type, Connection: close, pretty body plus newline,
    // and the server closes the connection after it.
    @Test func answerFormat() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        let bytes = request("POST /v1/echo HTTP/1.1\r\nHost: ternd\r\nContent-Length: 9\r\n\r\n{\"x\": 1}\n")
        let response = try client(daemon).exchange(bytes, method: "POST", timeoutMilliseconds: 5000)
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.headers["Connection"] == "close")
        let expected: JSONValue = ["method": "POST", "echo": ["x": 1]]
        #expect(String(decoding: response.body, as: UTF8.self) == expected.prettyText + "\n")

        // A raw client sees the end of stream right after the answer.
        let connection = try UnixConnection.connect(to: daemon.path)
        defer { connection.close() }
        #expect(try connection.write(request("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")))
        let received = try readUntilClosed(connection)
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.hasSuffix("}\n"))
    }

    // The socket is 0600 in a 0755 directory by default; a mode can be asked for; the file
    // goes away on shutdown.
    @Test func socketFile() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let loop = try EventLoop()
        let path = directory + "/run/tern/ternd.sock"
        let server = try LocalAPIServer(path: path, loop: loop, tokens: 1..<10)
        #expect(try permissions(path) == 0o600)
        #expect(try permissions(directory + "/run/tern") == 0o755)
        #expect(try permissions(directory + "/run") == 0o755)
        server.shutdown()
        #expect(!FileManager.default.fileExists(atPath: path))

        let shared = try LocalAPIServer(path: path, mode: 0o660, loop: loop, tokens: 1..<10)
        #expect(try permissions(path) == 0o660)
        #expect(shared.owns(1) && shared.owns(9) && !shared.owns(10))
        shared.shutdown()
    }

    // A deferred request is answered later, out of order with another, and only once.
    @Test func deferredAnswer() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        let api = client(daemon)
        let first = Background { try? api.request(method: "POST", path: "/v1/up", body: ["authKey": "k1"], timeoutMilliseconds: 5000) }
        #expect(eventually { daemon.requests.count == 1 })
        let second = Background { try? api.request(method: "POST", path: "/v1/wait", timeoutMilliseconds: 5000) }
        #expect(eventually { daemon.requests.count == 2 })
        let ids = daemon.requests.map { $0.id }
        #expect(ids[0] != ids[1])
        #expect(daemon.perform { server in ids.allSatisfy { server.isPending($0) } })
        #expect(daemon.perform { Set($0.pendingRequests) } == Set(ids))

        usleep(100_000)  // both clients keep waiting
        #expect(daemon.perform { $0.respond(to: ids[1], status: 202, body: ["second": true]) })
        let secondAnswer = try #require(second.wait() ?? nil)
        #expect(secondAnswer.status == 202)
        #expect(secondAnswer.body == ["second": true])
        #expect(daemon.perform { $0.isPending(ids[0]) })

        #expect(daemon.perform { $0.respond(to: ids[0], status: 200, body: ["name": "gateway"]) })
        let firstAnswer = try #require(first.wait() ?? nil)
        #expect(firstAnswer.status == 200)
        #expect(firstAnswer.body == ["name": "gateway"])
        #expect(daemon.requests[0].body == ["authKey": "k1"])

        // Answering again does nothing.
        #expect(!daemon.perform { $0.respond(to: ids[0], status: 500, body: nil) })
        #expect(daemon.perform { $0.pendingRequests.isEmpty })
    }

    // A handler may answer its own request from inside the call (it is pending already);
    // what it returns afterwards is then ignored.
    @Test func answerFromInsideHandler() throws {
        let loop = try EventLoop()
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let server = try LocalAPIServer(path: directory + "/api.sock", loop: loop, tokens: 1..<4)
        defer { server.shutdown() }
        let api = LocalAPIClient(socketPath: server.path, daemonName: "ternd")
        let answer = Background { try? api.request(method: "GET", path: "/x", timeoutMilliseconds: 5000) }
        var calls = 0
        let deadline = Date().addingTimeInterval(5)
        while !answer.isDone && Date() < deadline {
            try loop.wait(until: Clock.monotonicNanoseconds() + 10_000_000)
            for event in loop.readyEvents {
                server.handle(event) { request in
                    calls += 1
                    #expect(server.isPending(request.id))
                    #expect(server.respond(to: request.id, status: 201, body: "inline"))
                    #expect(!server.isPending(request.id))
                    return .ok("ignored: answered already")
                }
            }
        }
        let result = try #require(answer.wait() ?? nil)
        #expect(calls == 1)
        #expect(result.status == 201)
        #expect(result.body == "inline")
    }

    // A client that hangs up while its request is pending is dropped; answering it later
    // does nothing, and the server goes on serving others.
    @Test func disconnectWhilePending() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        let connection = try UnixConnection.connect(to: daemon.path)
        #expect(try connection.write(request("POST /v1/up HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")))
        #expect(eventually { daemon.requests.count == 1 })
        let id = daemon.requests[0].id
        #expect(daemon.perform { $0.isPending(id) && $0.clientCount == 1 })

        connection.close()
        #expect(eventually { !daemon.perform { $0.isPending(id) } })
        #expect(daemon.perform { $0.clientCount } == 0)
        #expect(!daemon.perform { $0.respond(to: id, status: 200, body: ["late": true]) })

        let after = try client(daemon).request(method: "GET", path: "/v1/status", timeoutMilliseconds: 5000)
        #expect(after.status == 200)
        // The new client may reuse the token; the old id still answers nothing.
        #expect(!daemon.perform { $0.respond(to: id, status: 200, body: nil) })
    }

    // With a single client token, a new client reuses the token of one that hung up while
    // pending: the old id must not answer the new request.
    @Test func staleIdAfterTokenReuse() throws {
        let daemon = try FakeDaemon(tokens: 100..<102, handler: routes)
        defer { daemon.stop() }
        let first = try UnixConnection.connect(to: daemon.path)
        #expect(try first.write(request("POST /v1/wait HTTP/1.1\r\nHost: x\r\n\r\n")))
        #expect(eventually { daemon.requests.count == 1 })
        first.close()
        let old = daemon.requests[0].id
        #expect(eventually { daemon.perform { $0.clientCount } == 0 })

        let api = client(daemon)
        let second = Background { try? api.request(method: "POST", path: "/v1/wait", timeoutMilliseconds: 5000) }
        #expect(eventually { daemon.requests.count == 2 })
        let new = daemon.requests[1].id
        #expect(new.token == old.token)
        #expect(!daemon.perform { $0.respond(to: old, status: 200, body: "wrong") })
        #expect(daemon.perform { $0.isPending(new) })
        #expect(daemon.perform { $0.respond(to: new, status: 200, body: "right") })
        #expect(second.wait()??.body == "right")
    }

    // Requests that do not parse get a JSON 400 and never reach the handler.
    @Test func malformedRequests() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        let api = client(daemon)

        let garbage = try api.exchange(request("HELLO THERE\r\n\r\n"), method: "GET", timeoutMilliseconds: 5000)
        #expect(garbage.status == 400)
        #expect(garbage.headers["Content-Type"] == "application/json")
        let body = try JSONParser.parse(garbage.body)
        #expect(body["code"] == "bad-request")
        #expect(body["error"]?.string?.hasPrefix("malformed HTTP request: ") == true)

        let noHost = try api.exchange(request("GET /v1/status HTTP/1.1\r\n\r\n"), method: "GET", timeoutMilliseconds: 5000)
        #expect(noHost.status == 400)

        let bareLF = try api.exchange(request("GET /v1/status HTTP/1.1\nHost: x\n\n"), method: "GET", timeoutMilliseconds: 5000)
        #expect(bareLF.status == 400)

        let notJSON = try api.exchange(
            request("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{oops}\n"),
            method: "POST", timeoutMilliseconds: 5000)
        #expect(notJSON.status == 400)
        #expect(try JSONParser.parse(notJSON.body)["code"] == "invalid-json")

        #expect(daemon.requests.isEmpty)
        #expect(eventually { daemon.perform { $0.clientCount } == 0 })
    }

    // A body over 1 MiB gets 413 (declared up front, or sent for real by the client, whose
    // writes fail once the server stops reading); a head over 64 KiB gets 431.
    @Test func oversizeRequests() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        let api = client(daemon)

        let declared = try api.exchange(
            request("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n{\"a\":"),
            method: "POST", timeoutMilliseconds: 5000)
        #expect(declared.status == 413)
        let declaredBody = try JSONParser.parse(declared.body)
        #expect(declaredBody["code"] == "body-too-large")
        #expect(declaredBody["error"] == "request body is larger than 1.0 MiB")

        let big = JSONValue.string(String(repeating: "x", count: 3 << 20))
        let sent = try api.request(method: "POST", path: "/v1/echo", body: ["data": big], timeoutMilliseconds: 10000)
        #expect(sent.status == 413)
        #expect(LocalAPIErrorBody.code(in: sent.body) == "body-too-large")

        let chunked = try api.exchange(
            request("POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n"),
            method: "POST", timeoutMilliseconds: 5000)
        #expect(chunked.status == 413)

        let longHeader = "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Filler: " + String(repeating: "y", count: 70_000) + "\r\n\r\n"
        let headers = try api.exchange(request(longHeader), method: "GET", timeoutMilliseconds: 5000)
        #expect(headers.status == 431)
        #expect(try JSONParser.parse(headers.body)["code"] == "headers-too-large")

        // Just under the limits is fine.
        let fits = JSONValue.string(String(repeating: "z", count: (1 << 20) - 100))
        let ok = try api.request(method: "POST", path: "/v1/echo", body: fits, timeoutMilliseconds: 10000)
        #expect(ok.status == 200)
        #expect(ok.body["echo"] == fits)

        #expect(daemon.requests.count == 1)
        #expect(eventually { daemon.perform { $0.clientCount } == 0 })
    }

    // An answer far larger than the connection's output buffer goes out in pieces.
    @Test func largeAnswer() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        let answer = try client(daemon).request(method: "GET", path: "/v1/large", timeoutMilliseconds: 10000)
        #expect(answer.status == 200)
        #expect(answer.body.count == 20_000)
        #expect(answer.body[19_999] == "line 19999")
    }

    // Past the client limit, a new client gets 503 busy at once.
    @Test func tooManyClients() throws {
        let daemon = try FakeDaemon(maximumClients: 1, handler: routes)
        defer { daemon.stop() }
        let api = client(daemon)
        let waiting = Background { try? api.request(method: "POST", path: "/v1/wait", timeoutMilliseconds: 5000) }
        #expect(eventually { daemon.requests.count == 1 })
        let refused = try api.request(method: "GET", path: "/v1/status", timeoutMilliseconds: 5000)
        #expect(refused.status == 503)
        #expect(LocalAPIErrorBody.code(in: refused.body) == "busy")
        let id = daemon.requests[0].id
        #expect(daemon.perform { $0.respond(to: id, status: 200, body: "done") })
        #expect(waiting.wait()??.body == "done")
    }
}

/// The permission bits of the file at `path`.
func permissions(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// Reads from a nonblocking connection until the peer closes (5 s at most).
func readUntilClosed(_ connection: UnixConnection) throws -> [UInt8] {
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    let deadline = Date().addingTimeInterval(5)
    while Date() < deadline {
        let count = try buffer.withUnsafeMutableBytes { try connection.read(into: $0) }
        guard let count else {
            usleep(2_000)
            continue
        }
        if count == 0 { return received }
        received += buffer[0..<count]
    }
    Issue.record("the server did not close the connection")
    return received
}

/// curl, if installed (the Makefile installs it for the HTTP tests).
let curlPath = ["/usr/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("LocalAPIServer with curl", .timeLimit(.minutes(1)))
struct CurlTests {
    // curl --unix-socket drives the API as an admin would: GET, POST with a JSON body, errors.
    @Test(.enabled(if: curlPath != nil)) func curlDrivesTheAPI() throws {
        let daemon = try FakeDaemon(handler: routes)
        defer { daemon.stop() }
        func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: curlPath!)
            process.arguments = ["-sS", "--max-time", "10", "--unix-socket", daemon.path] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let status = try curl(["http://ternd/v1/status"])
        #expect(status.status == 0)
        #expect(try JSONParser.parse(status.output) == ["state": "Running", "query": nil])

        let echo = try curl(["-H", "Content-Type: application/json", "-d", #"{"x": [1, 2]}"#, "http://ternd/v1/echo"])
        #expect(try JSONParser.parse(echo.output) == ["method": "POST", "echo": ["x": [1, 2]]])

        let missing = try curl(["-w", "%{http_code}", "-o", "/dev/null", "http://ternd/nope"])
        #expect(missing.output == "404")
    }
}
