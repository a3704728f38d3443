import HTTP
import Testing

@Suite struct ResponseParserTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    static let chunked = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\nb;ext\r\npedia in \r\n\r\n9 ; e=1\r\nchunks.\r\n\r\n0\r\nT: 1\r\n\r\n"

    @Test func parsesStatusHeadersAndBody() throws {
        let result = parseResponses(bytes(Self.ok + Self.chunked))
        #expect(result.error == nil)
        #expect(result.responses.count == 2)
        let first = try #require(result.responses.first)
        #expect(first.status == 200)
        #expect(first.reason == "OK")
        #expect(first.version == .http11)
        #expect(first.headers["content-type"] == "application/json")
        #expect(text(first.body) == "{}")
        #expect(text(result.responses[1].body) == "Wikipedia in \r\nchunks.\r\n")
        #expect(result.responses[1].reason == "Created")
    }

    @Test func splitAtEveryByteBoundary() {
        let stream = bytes(Self.chunked + Self.ok + "HTTP/1.1 204 No Content\r\n\r\n" + Self.ok)
        let whole = parseResponses(stream).responses
        #expect(whole.count == 4)
        for cut in 0...stream.count {
            #expect(parseResponses(stream, splits: [cut]).responses == whole, "cut at \(cut)")
        }
        #expect(parseResponses(stream, splits: Array(0...stream.count)).responses == whole)
    }

    @Test func noBodyStatusesIgnoreContentLength() {
        for status in ["100 Continue", "204 No Content", "304 Not Modified"] {
            let stream = "HTTP/1.1 \(status)\r\nContent-Length: 5\r\n\r\n" + Self.ok
            let result = parseResponses(bytes(stream))
            #expect(result.error == nil, "\(status)")
            #expect(result.responses.count == 2, "\(status)")
            #expect(result.responses.first?.body == [], "\(status)")
            #expect(text(result.responses.last?.body ?? []) == "{}", "\(status)")
        }
    }

    @Test func interimResponseThenFinal() {
        let result = parseResponses(bytes("HTTP/1.1 100 Continue\r\n\r\n" + Self.ok))
        #expect(result.responses.map(\.status) == [100, 200])
    }

    @Test func headResponseHasNoBody() {
        let stream = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n" + Self.ok
        let result = parseResponses(bytes(stream), method: "HEAD")
        #expect(result.responses.count == 2)
        #expect(result.responses.first?.headers["content-length"] == "1234")
        #expect(result.responses.first?.body == [])
    }

    @Test func readUntilClose() throws {
        let stream = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\nuntil EOF")
        for cut in 0...stream.count {
            let result = parseResponses(stream, splits: [cut], eof: true)
            #expect(result.error == nil)
            #expect(result.responses.count == 1)
            #expect(text(result.responses.first?.body ?? []) == "all of this\r\nuntil EOF", "cut at \(cut)")
            #expect(result.parser.isClosed)
        }
        // without EOF the response is not complete
        #expect(parseResponses(stream).responses.isEmpty)
        // the body is still bounded
        let big = parseResponses(stream, eof: true, limits: HTTPLimits(maxBodyBytes: 5))
        #expect(big.error == .bodyTooLarge)
    }

    @Test func http10ResponseWithEmptyBodyUntilClose() throws {
        let result = parseResponses(bytes("HTTP/1.0 200 OK\r\n\r\n"), eof: true)
        #expect(result.responses.count == 1)
        #expect(result.responses.first?.version == .http10)
        #expect(result.responses.first?.body == [])
    }

    @Test func truncatedBodyIsAnError() {
        #expect(parseResponses(bytes(String(Self.ok.dropLast())), eof: true).error == .truncatedMessage)
        #expect(parseResponses(bytes(String(Self.chunked.dropLast(3))), eof: true).error == .truncatedMessage)
        #expect(parseResponses(bytes("HTTP/1.1 200 OK\r\n"), eof: true).error == .truncatedMessage)
        #expect(parseResponses(bytes(Self.ok), eof: true).error == nil)
    }

    @Test func closeStopsTheParser() {
        let stream = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx" + Self.ok
        let result = parseResponses(bytes(stream))
        #expect(result.responses.count == 1)
        #expect(result.parser.isClosed)
        #expect(result.responses.first?.keepAlive == false)
    }

    @Test func switchingProtocolsHandsBackBytes() throws {
        let tail: [UInt8] = [0x00, 0x01, 0xFE, 0x0D]
        let stream = bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: tern-control\r\nConnection: Upgrade\r\n\r\n") + tail
        for cut in 0...stream.count {
            var result = parseResponses(stream, splits: [cut])
            #expect(result.responses.map(\.status) == [101])
            #expect(result.parser.isUpgraded)
            #expect(result.parser.takeRemainingBytes() == tail, "cut at \(cut)")
        }
    }

    @Test func statusLineVariants() {
        #expect(parseResponses(bytes("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n")).responses.first?.reason == "")
        #expect(parseResponses(bytes("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n")).responses.first?.reason == "")
        #expect(parseResponses(bytes("HTTP/1.1 599 Custom Thing\r\nContent-Length: 0\r\n\r\n")).responses.first?.reason == "Custom Thing")
        #expect(parseResponses(bytes("HTTP/1.1 20 OK\r\n\r\n")).error == .invalidStatusLine)
        #expect(parseResponses(bytes("HTTP/1.1 2000 OK\r\n\r\n")).error == .invalidStatusLine)
        #expect(parseResponses(bytes("HTTP/1.1 099 OK\r\n\r\n")).error == .invalidStatusLine)
        #expect(parseResponses(bytes("HTTP/1.1 200 O\u{1}K\r\n\r\n")).error == .invalidStatusLine)
        #expect(parseResponses(bytes("ICY 200 OK\r\n\r\n")).error == .invalidStatusLine)
        #expect(parseResponses(bytes("HTTP/3.0 200 OK\r\n\r\n")).error == .unsupportedVersion)
    }

    @Test func sameFramingRejectionsAsRequests() {
        #expect(parseResponses(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")).error == .contentLengthWithTransferEncoding)
        #expect(parseResponses(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")).error == .duplicateContentLength)
        #expect(parseResponses(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")).error == .unsupportedTransferEncoding)
        #expect(parseResponses(bytes("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n")).error == .obsoleteLineFolding)
        #expect(parseResponses(bytes("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n")).error == .bareCarriageReturn)
        #expect(parseResponses(bytes("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"), limits: HTTPLimits(maxBodyBytes: 5)).error == .bodyTooLarge)
    }
}
