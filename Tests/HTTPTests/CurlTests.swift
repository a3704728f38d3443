import Foundation
import HTTP
import Testing
import TestSupport

/// A loopback TCP server that feeds what it receives to `HTTPRequestParser`
/// and answers each request with `HTTPResponse.serialized()`: the body
/// echoes the method, path, query and request body.
final class LoopbackServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var accepted = 0

    /// How many connections have been accepted.
    var connections: Int { lock.withLock { accepted } }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in self.acceptLoop() }
    }

    deinit { close(listener) }

    /// The answer to one request: an echo of what the parser saw.
    static func answer(_ request: HTTPRequest) -> HTTPResponse {
        let summary = request.method + " " + request.path + " " + (request.query ?? "-") + " "
            + (request.headers["transfer-encoding"] ?? "-") + "\n"
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"],
                            body: Array(summary.utf8) + request.body)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            lock.withLock { accepted += 1 }
            serve(connection)
            close(connection)
        }
    }

    private func serve(_ connection: Int32) {
        var parser = HTTPRequestParser()
        var chunk = [UInt8](repeating: 0, count: 7919) // odd size: splits land anywhere
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return }
            parser.append(chunk[0..<n])
            do {
                while let request = try parser.next() {
                    var response = Self.answer(request)
                    if !request.keepAlive { response.headers.add("Connection", "close") }
                    send(connection, response.serialized(omittingBody: request.method == "HEAD"))
                    if !request.keepAlive { return }
                }
            } catch {
                send(connection, HTTPResponse(error: error).serialized())
                return
            }
        }
    }

    private func send(_ connection: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            sent += n
        }
    }
}

/// Runs curl with `arguments`, feeding `input` on stdin; returns stdout.
func curl(_ arguments: [String], input: [UInt8] = []) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-s", "-S", "--max-time", "20"] + arguments
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    let writer = stdin.fileHandleForWriting
    DispatchQueue.global().async {
        writer.write(Data(input))
        try? writer.close()
    }
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "curl \(arguments)")
    return Array(output)
}

@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
struct CurlTests {
    /// Deterministic bytes covering every value, including CR, LF and NUL.
    static func payload(_ count: Int) -> [UInt8] {
        var rng = SplitMix64(seed: UInt64(count))
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    @Test func postWithContentLength() throws {
        let server = try LoopbackServer()
        let body = Self.payload(200_000)
        let output = try curl(["-X", "POST", "--data-binary", "@-", "http://127.0.0.1:\(server.port)/v1/x?a=b&c"], input: body)
        #expect(output == Array("POST /v1/x a=b&c -\n".utf8) + body)
    }

    @Test func chunkedUpload() throws {
        let server = try LoopbackServer()
        let body = Self.payload(150_001)
        let output = try curl(["-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary", "@-",
                               "http://127.0.0.1:\(server.port)/v1/chunked"], input: body)
        #expect(output == Array("POST /v1/chunked - chunked\n".utf8) + body)
    }

    @Test func keepAliveConnectionServesSeveralRequests() throws {
        let server = try LoopbackServer()
        let base = "http://127.0.0.1:\(server.port)"
        let output = try curl(["\(base)/v1/a", "\(base)/v1/b?q=1", "\(base)/v1/c"])
        #expect(text(output) == "GET /v1/a - -\nGET /v1/b q=1 -\nGET /v1/c - -\n")
        #expect(server.connections == 1, "curl reused the kept-alive connection")
    }

    @Test func http10AndHead() throws {
        let server = try LoopbackServer()
        let output = try curl(["--http1.0", "http://127.0.0.1:\(server.port)/old"])
        #expect(text(output) == "GET /old - -\n")
        let head = try curl(["-I", "http://127.0.0.1:\(server.port)/h"])
        #expect(text(head).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text(head).contains("Content-Length: 12\r\n"))
    }

    @Test func malformedRequestGetsErrorStatus() throws {
        let server = try LoopbackServer()
        let output = try curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "Bad Header: x",
                               "http://127.0.0.1:\(server.port)/"])
        #expect(text(output) == "400")
    }
}
