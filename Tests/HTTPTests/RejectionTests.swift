import HTTP
import Testing

@Suite struct RejectionTests {
    /// Each malformed request, the error it must raise and that error's status code.
    static let cases: [(String, HTTPError, Int)] = [
        // smuggling: both framings, duplicate or bad lengths
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .contentLengthWithTransferEncoding, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", .contentLengthWithTransferEncoding, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", .duplicateContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc", .duplicateContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\nabc", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3 3\r\n\r\n", .invalidContentLength, 400),
        // transfer codings
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding, 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", .unsupportedTransferEncoding, 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .invalidTransferEncoding, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", .invalidTransferEncoding, 400),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .invalidTransferEncoding, 400),
        // line structure
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n", .obsoleteLineFolding, 400),
        ("GET / HTTP/1.1\r\n Host: h\r\n\r\n", .obsoleteLineFolding, 400),
        ("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", .bareCarriageReturn, 400),
        ("GET / HTTP/1.1\rHost: h\r\n\r\n", .bareCarriageReturn, 400),
        ("GET / HTTP/1.1\nHost: h\r\n\r\n", .bareLineFeed, 400),
        ("GET / HTTP/1.1\r\nHost: h\n\n", .bareLineFeed, 400),
        // tokens
        ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", .invalidMethod, 400),
        (" GET / HTTP/1.1\r\nHost: h\r\n\r\n", .invalidMethod, 400),
        ("GET\r\n\r\n", .invalidRequestLine, 400),
        ("GET /\r\n\r\n", .invalidRequestLine, 400),
        ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget, 400),
        ("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", .invalidRequestLine, 400),
        ("GET /\u{7F} HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget, 400),
        ("GET /caf\u{E9} HTTP/1.1\r\nHost: h\r\n\r\n", .invalidTarget, 400),
        ("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", .invalidRequestLine, 400),
        ("GET / http/1.1\r\nHost: h\r\n\r\n", .invalidRequestLine, 400),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", .invalidHeaderName, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nBad[Name]: v\r\n\r\n", .invalidHeaderName, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", .invalidHeaderName, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", .invalidHeaderName, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{0}b\r\n\r\n", .invalidHeaderValue, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7F}b\r\n\r\n", .invalidHeaderValue, 400),
        // versions
        ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", .unsupportedVersion, 505),
        ("GET / HTTP/0.9\r\n\r\n", .unsupportedVersion, 505),
        ("GET / HTTP/1.10\r\n\r\n", .unsupportedVersion, 505),
        // host
        ("GET / HTTP/1.1\r\n\r\n", .invalidHost, 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", .invalidHost, 400),
        // chunked syntax
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", .invalidChunk, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", .invalidChunk, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", .invalidChunk, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\rX", .bareCarriageReturn, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", .bareLineFeed, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n", .bareLineFeed, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;a\u{1}\r\n", .invalidChunk, 400),
    ]

    @Test func eachMalformedRequestIsRejected() {
        for (input, error, status) in Self.cases {
            let got = requestError(input)
            #expect(got == error, "\(input.debugDescription)")
            #expect(got?.statusCode == status, "\(input.debugDescription)")
            #expect(!(got?.description.isEmpty ?? true))
        }
    }

    /// The same verdicts when the bytes trickle in one at a time.
    @Test func rejectionsDoNotDependOnSplits() {
        for (input, error, _) in Self.cases {
            let stream = bytes(input)
            #expect(parseRequests(stream, splits: Array(0...stream.count)).error == error, "\(input.debugDescription)")
        }
    }

    @Test func errorsAreSticky() {
        var result = parseRequests(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost : h\r\n\r\n"))
        #expect(result.requests.count == 1, "the good request before the error is handed out")
        #expect(result.error == .invalidHeaderName)
        #expect(throws: HTTPError.invalidHeaderName) { try result.parser.next() }
        result.parser.append(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(throws: HTTPError.invalidHeaderName) { try result.parser.next() }
    }

    @Test func headerSectionLimit() {
        let limits = HTTPLimits(maxHeaderBytes: 64)
        let head = "GET / HTTP/1.1\r\nHost: h\r\nX: "
        let n = head.utf8.count
        let fits = head + String(repeating: "a", count: 64 - n - 4) + "\r\n\r\n"
        #expect(fits.utf8.count == 64)
        #expect(requestError(fits, limits: limits) == nil)
        let over = head + String(repeating: "a", count: 64 - n - 3) + "\r\n\r\n"
        #expect(requestError(over, limits: limits) == .headerSectionTooLarge)
        #expect(HTTPError.headerSectionTooLarge.statusCode == 431)
        // the default is 16 KiB, and is enforced before the head is complete
        let huge = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 16 * 1024)
        #expect(requestError(huge) == .headerSectionTooLarge)
        #expect(requestError(String(repeating: "\r\n", count: 9000)) == .headerSectionTooLarge)
    }

    @Test func tooManyHeaders() {
        let headers = (0..<100).map { "X-\($0): v\r\n" }.joined()
        #expect(requestError("GET / HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n") == .tooManyHeaders)
        #expect(requestError("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\n", limits: HTTPLimits(maxHeaderCount: 1)) == .tooManyHeaders)
        #expect(HTTPError.tooManyHeaders.statusCode == 431)
    }

    @Test func bodyLimit() {
        let limits = HTTPLimits(maxBodyBytes: 10)
        #expect(requestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: limits) == .bodyTooLarge)
        #expect(requestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n") == .bodyTooLarge)
        #expect(requestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n") == .bodyTooLarge)
        #expect(requestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\n") == nil)
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(requestError(chunked + "6\r\n012345\r\n5\r\n", limits: limits) == .bodyTooLarge)
        #expect(requestError(chunked + "fffffffffffffffffffff\r\n") == .bodyTooLarge)
        #expect(HTTPError.bodyTooLarge.statusCode == 413)
    }

    @Test func trailerSectionIsBounded() {
        let limits = HTTPLimits(maxHeaderBytes: 100)
        let input = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: "
            + String(repeating: "a", count: 200)
        #expect(requestError(input, limits: limits) == .headerSectionTooLarge)
    }

    @Test func chunkExtensionsAreBounded() {
        let input = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;"
            + String(repeating: "a", count: 5000)
        #expect(requestError(input) == .invalidChunk)
    }

    @Test func errorResponseCarriesStatusAndCloses() {
        let response = HTTPResponse(error: .unsupportedTransferEncoding)
        #expect(response.status == 501)
        #expect(response.reason == "Not Implemented")
        #expect(!response.keepAlive)
        #expect(text(response.body) == "unsupported transfer coding\n")
        #expect(HTTPResponse(error: .unsupportedVersion).reason == "HTTP Version Not Supported")
        #expect(HTTPResponse(error: .headerSectionTooLarge).reason == "Request Header Fields Too Large")
    }
}
