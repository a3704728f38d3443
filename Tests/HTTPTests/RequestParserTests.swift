import HTTP
import Testing
import TestSupport

@Suite struct RequestParserTests {
    static let post = "POST /v1/nodes?limit=5&x=1 HTTP/1.1\r\nHost: control.example\r\n"
        + "Content-Type: application/json\r\nX-Dup: a\r\nx-dup: b\r\nContent-Length: 13\r\n\r\n{\"name\":\"pi\"}"
    static let chunked = "PUT /v1/policy HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5\r\nhello\r\nA;name=value;x\r\n, world!!!\r\n1a  \r\nabcdefghijklmnopqrstuvwxyz\r\n"
        + "0\r\nX-Trailer: yes\r\nAnother: t\r\n\r\n"
    static let get = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"

    @Test func parsesRequestLineHeadersAndBody() throws {
        let result = parseRequests(bytes(Self.post))
        #expect(result.error == nil)
        let request = try #require(result.requests.first)
        #expect(result.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.target == "/v1/nodes?limit=5&x=1")
        #expect(request.path == "/v1/nodes")
        #expect(request.query == "limit=5&x=1")
        #expect(request.version == .http11)
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["HOST"] == "control.example")
        #expect(request.headers.values("X-DUP") == ["a", "b"])
        #expect(request.headers.fields.map(\.name) == ["Host", "Content-Type", "X-Dup", "x-dup", "Content-Length"])
        #expect(text(request.body) == "{\"name\":\"pi\"}")
        #expect(request.keepAlive)
        #expect(request.upgradeProtocol == nil)
        #expect(result.parser.isAtRequestBoundary)
    }

    @Test func pathWithoutQuery() {
        #expect(HTTPRequest(method: "GET", target: "/a/b").query == nil)
        #expect(HTTPRequest(method: "GET", target: "/a/b?").query == "")
        #expect(HTTPRequest(method: "GET", target: "/a/b?").path == "/a/b")
        #expect(HTTPRequest(method: "GET", target: "/a?b?c").query == "b?c")
    }

    @Test func headerValueWhitespaceIsTrimmed() throws {
        let result = parseRequests(bytes("GET / HTTP/1.1\r\nHost:h\r\nA: \t  spaced out \t \r\nB:\r\n\r\n"))
        let request = try #require(result.requests.first)
        #expect(request.headers["a"] == "spaced out")
        #expect(request.headers["b"] == "")
        #expect(request.headers["host"] == "h")
    }

    /// Every way of cutting the stream in two gives the same requests.
    @Test func splitAtEveryByteBoundary() {
        let stream = bytes(Self.post + Self.chunked + Self.get)
        let whole = parseRequests(stream)
        #expect(whole.error == nil)
        #expect(whole.requests.count == 3)
        for cut in 0...stream.count {
            let split = parseRequests(stream, splits: [cut])
            #expect(split.error == nil, "cut at \(cut)")
            #expect(split.requests == whole.requests, "cut at \(cut)")
        }
    }

    /// One byte at a time, and random multi-way splits.
    @Test func byteByByteAndRandomSplits() {
        let stream = bytes(Self.chunked + Self.post + Self.chunked)
        let whole = parseRequests(stream).requests
        #expect(whole.count == 3)
        #expect(parseRequests(stream, splits: Array(0...stream.count)).requests == whole)
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let cuts = (0..<5).map { _ in Int.random(in: 0...stream.count, using: &rng) }.sorted()
            #expect(parseRequests(stream, splits: cuts).requests == whole, "cuts \(cuts)")
        }
    }

    @Test func pipelinedRequestsInOneAppend() throws {
        let stream = bytes(Self.get + Self.post + "\r\n" + Self.get)
        let result = parseRequests(stream)
        #expect(result.error == nil)
        #expect(result.requests.map(\.method) == ["GET", "POST", "GET"])
        #expect(result.parser.isAtRequestBoundary)
    }

    @Test func chunkedBodyIsDecoded() throws {
        let result = parseRequests(bytes(Self.chunked))
        #expect(result.error == nil)
        let request = try #require(result.requests.first)
        #expect(text(request.body) == "hello, world!!!abcdefghijklmnopqrstuvwxyz")
        #expect(request.headers["transfer-encoding"] == "chunked")
        #expect(request.headers["X-Trailer"] == nil, "trailers are skipped")
    }

    @Test func chunkSizesInUpperAndLowerCaseHex() throws {
        let data = String(repeating: "x", count: 0xAB) + String(repeating: "y", count: 0xcd)
        let input = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
            + "AB\r\n" + String(repeating: "x", count: 0xAB) + "\r\n"
            + "cd\r\n" + String(repeating: "y", count: 0xcd) + "\r\n"
            + "000\r\n\r\n"
        let result = parseRequests(bytes(input))
        #expect(result.error == nil)
        #expect(try text(#require(result.requests.first).body) == data)
    }

    @Test func emptyChunkedBody() throws {
        let input = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + Self.get
        let result = parseRequests(bytes(input))
        #expect(result.error == nil)
        #expect(result.requests.count == 2)
        #expect(result.requests.first?.body == [])
    }

    @Test func incompleteRequestWaitsForMoreBytes() {
        let stream = bytes(Self.post)
        let result = parseRequests(Array(stream.dropLast()))
        #expect(result.requests.isEmpty)
        #expect(result.error == nil)
        #expect(!result.parser.isAtRequestBoundary)
        var parser = result.parser
        #expect(throws: HTTPError.truncatedMessage) { try parser.finish() }
    }

    @Test func finishAtBoundaryIsClean() throws {
        var parser = parseRequests(bytes(Self.get + "\r\n")).parser
        try parser.finish()
    }

    @Test func keepAliveRules() throws {
        func keepAlive(_ version: String, _ connection: String?) throws -> Bool {
            var input = "GET / \(version)\r\nHost: h\r\n"
            if let connection { input += "Connection: \(connection)\r\n" }
            let request = try #require(parseRequests(bytes(input + "\r\n")).requests.first)
            return request.keepAlive
        }
        #expect(try keepAlive("HTTP/1.1", nil))
        #expect(try !keepAlive("HTTP/1.1", "close"))
        #expect(try !keepAlive("HTTP/1.1", "foo, Close"))
        #expect(try keepAlive("HTTP/1.1", "keep-alive"))
        #expect(try !keepAlive("HTTP/1.0", nil))
        #expect(try keepAlive("HTTP/1.0", "Keep-Alive"))
        #expect(try !keepAlive("HTTP/1.0", "keep-alive, close"))
    }

    @Test func closingRequestStopsTheParser() {
        let input = "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" + Self.get
        let result = parseRequests(bytes(input))
        #expect(result.requests.map(\.target) == ["/a"])
        #expect(result.parser.isClosed)
        let http10 = parseRequests(bytes("GET /b HTTP/1.0\r\n\r\n" + Self.get))
        #expect(http10.requests.map(\.target) == ["/b"])
        #expect(http10.requests.first?.version == .http10)
        #expect(http10.parser.isClosed)
    }

    @Test func upgradeHandsBackTheFollowingBytes() throws {
        let head = "GET /ts2021 HTTP/1.1\r\nHost: h\r\nUpgrade: tern-control\r\nConnection: Upgrade\r\n\r\n"
        let tail: [UInt8] = [0x01, 0x00, 0x2A, 0x0D, 0x0A, 0xFF] + bytes("GET / HTTP/1.1\r\n\r\n")
        let stream = bytes(head) + tail
        for cut in 0...stream.count {
            var result = parseRequests(stream, splits: [cut])
            #expect(result.error == nil)
            let request = try #require(result.requests.first, "cut at \(cut)")
            #expect(result.requests.count == 1)
            #expect(request.upgradeProtocol == "tern-control")
            #expect(result.parser.isUpgraded)
            #expect(result.parser.takeRemainingBytes() == tail, "cut at \(cut)")
        }
    }

    @Test func upgradeNeedsConnectionUpgrade() throws {
        let input = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: x\r\n\r\n" + Self.get
        let result = parseRequests(bytes(input))
        #expect(result.requests.count == 2)
        #expect(result.requests[0].upgradeProtocol == nil)
        #expect(!result.parser.isUpgraded)
    }

    @Test func declinedUpgradeContinuesWithHTTP() throws {
        let input = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n" + Self.post
        var result = parseRequests(bytes(input))
        #expect(result.requests.count == 1)
        result.parser.declineUpgrade()
        let next = try result.parser.next()
        #expect(next?.method == "POST")
    }

    @Test func versionsAndLeadingEmptyLines() throws {
        let result = parseRequests(bytes("\r\n\r\nGET / HTTP/1.0\r\n\r\n"))
        #expect(result.requests.first?.version == .http10)
        let minor = parseRequests(bytes("GET / HTTP/1.7\r\nHost: h\r\n\r\n"))
        #expect(minor.requests.first?.version == .http11)
    }

    @Test func bodyAtExactlyTheLimitIsAccepted() throws {
        let limits = HTTPLimits(maxBodyBytes: 10)
        let length = parseRequests(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"), limits: limits)
        #expect(length.error == nil)
        #expect(length.requests.first?.body.count == 10)
        let chunked = parseRequests(bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"), limits: limits)
        #expect(chunked.error == nil)
        #expect(chunked.requests.first?.body.count == 10)
    }

    @Test func headerCountAtTheLimitIsAccepted() {
        let headers = (0..<99).map { "X-\($0): v\r\n" }.joined()
        #expect(requestError("GET / HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n") == nil)
    }
}
