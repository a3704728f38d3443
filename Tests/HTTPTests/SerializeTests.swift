import HTTP
import Testing

@Suite struct SerializeTests {
    @Test func responseWithBody() {
        let response = HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: bytes("{\"ok\":true}"))
        #expect(text(response.serialized()) == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
    }

    @Test func responseFramingHeadersAreReplaced() {
        let response = HTTPResponse(status: 404, headers: ["Content-Length": "999", "Transfer-Encoding": "chunked", "X": "y"])
        #expect(text(response.serialized()) == "HTTP/1.1 404 Not Found\r\nX: y\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func noBodyStatuses() {
        let noContent = HTTPResponse(status: 204, headers: ["Content-Length": "3"], body: bytes("abc"))
        #expect(text(noContent.serialized()) == "HTTP/1.1 204 No Content\r\n\r\n")
        let switching = HTTPResponse(status: 101, headers: ["Upgrade": "tern", "Connection": "Upgrade"])
        #expect(text(switching.serialized()) == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: tern\r\nConnection: Upgrade\r\n\r\n")
        let notModified = HTTPResponse(status: 304, headers: ["Content-Length": "3"], body: bytes("abc"))
        #expect(text(notModified.serialized()) == "HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n")
    }

    @Test func headResponseOmitsBodyButKeepsLength() {
        let response = HTTPResponse(status: 200, body: bytes("hello"))
        #expect(text(response.serialized(omittingBody: true)) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    }

    @Test func customReasonAndUnknownStatus() {
        #expect(text(HTTPResponse(status: 299).serialized()) == "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n")
        #expect(text(HTTPResponse(status: 200, reason: "Fine", version: .http10).serialized()) == "HTTP/1.0 200 Fine\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func headerInjectionIsNeutralized() throws {
        let response = HTTPResponse(status: 200, reason: "OK\r\nEvil: 1", headers: ["X": "a\r\nSet-Cookie: b", "Bad Name": "v"])
        let wire = response.serialized()
        #expect(text(wire) == "HTTP/1.1 200 OK  Evil: 1\r\nX: a  Set-Cookie: b\r\nBad_Name: v\r\nContent-Length: 0\r\n\r\n")
        let parsed = try #require(parseResponses(wire).responses.first)
        #expect(parsed.headers.count == 3)
    }

    @Test func request() {
        let post = HTTPRequest(method: "POST", target: "/v1/x?y=1", headers: ["Host": "127.0.0.1:9"], body: bytes("abc"))
        #expect(text(post.serialized()) == "POST /v1/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Length: 3\r\n\r\nabc")
        let get = HTTPRequest(method: "GET", target: "/", headers: ["Host": "h"])
        #expect(text(get.serialized()) == "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        let emptyPost = HTTPRequest(method: "POST", target: "/", headers: ["Host": "h"])
        #expect(text(emptyPost.serialized()) == "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func roundTrips() throws {
        let request = HTTPRequest(method: "PATCH", target: "/a?b", headers: ["Host": "h", "X-A": "1", "x-a": "2"], body: [0, 1, 2, 255])
        var wire = request.serialized()
        let response = HTTPResponse(status: 418, reason: "I'm a teapot", headers: ["A": "b"], body: bytes("short and stout"))
        let parsedRequest = try #require(parseRequests(wire).requests.first)
        var expected = request
        expected.headers.add("Content-Length", "4")
        #expect(parsedRequest == expected)
        wire = []
        response.serialize(into: &wire)
        let parsedResponse = try #require(parseResponses(wire).responses.first)
        var expectedResponse = response
        expectedResponse.headers.add("Content-Length", "15")
        #expect(parsedResponse == expectedResponse)
    }

    @Test func headersEditing() {
        var headers: HTTPHeaders = ["A": "1", "b": "2", "a": "3"]
        #expect(headers["a"] == "1")
        #expect(headers.count(of: "A") == 2)
        headers.set("a", "x")
        #expect(headers.fields == [HTTPHeaderField(name: "A", value: "x"), HTTPHeaderField(name: "b", value: "2")])
        headers.remove("B")
        #expect(headers.count == 1)
        headers.set("New", "n")
        #expect(headers["new"] == "n")
        headers.add("Connection", "keep-alive , Upgrade")
        #expect(headers.containsToken("upgrade", in: "connection"))
        #expect(!headers.containsToken("close", in: "connection"))
        #expect(!headers.contains("missing"))
    }
}
