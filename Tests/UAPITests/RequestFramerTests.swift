import Testing
import UAPI

@Suite struct RequestFramerTests {
    static let setBody = "private_key=\(Keys.ownPrivate)\npublic_key=\(Keys.peer1)\nallowed_ip=10.0.0.0/8\n"
    static let stream = "get=1\n\nset=1\n" + setBody + "\nget=1\n\n"
    static let expected = [
        UAPIRequest(operation: .get, body: []),
        UAPIRequest(operation: .set, body: Array(setBody.utf8)),
        UAPIRequest(operation: .get, body: []),
    ]

    /// Takes every complete request; fails the test on a framing error.
    static func take(_ framer: inout RequestFramer) -> [UAPIRequest] {
        var requests: [UAPIRequest] = []
        do {
            while let request = try framer.nextRequest() { requests.append(request) }
        } catch {
            Issue.record("unexpected framing error \(error)")
        }
        return requests
    }

    @Test func splitAtEveryByteBoundary() {
        let bytes = Array(Self.stream.utf8)
        for split in 0...bytes.count {
            var framer = RequestFramer()
            framer.feed(Array(bytes[..<split]))
            var requests = Self.take(&framer)
            framer.feed(Array(bytes[split...]))
            requests += Self.take(&framer)
            #expect(requests == Self.expected, "split at \(split)")
            #expect(framer.isAtRequestBoundary)
        }
    }

    @Test func oneByteAtATime() {
        var framer = RequestFramer()
        var requests: [UAPIRequest] = []
        for byte in Self.stream.utf8 {
            framer.feed([byte])
            requests += Self.take(&framer)
        }
        #expect(requests == Self.expected)
    }

    @Test func severalRequestsInOneChunkThroughTheRawBufferEntryPoint() {
        var framer = RequestFramer()
        Array(Self.stream.utf8).withUnsafeBytes { framer.feed($0) }
        #expect(Self.take(&framer) == Self.expected)
    }

    @Test func getAndSetBackToBackAreAnsweredInOrder() {
        let harness = Harness()
        let responses = harness.send("set=1\nlisten_port=51820\n\nget=1\n\nset=1\nfwmark=7\n\nget=1\n\n")
        #expect(responses == "errno=0\n\nlisten_port=51820\nerrno=0\n\nerrno=0\n\nlisten_port=51820\nfwmark=7\nerrno=0\n\n")
    }

    @Test func incompleteRequestIsHeldBack() throws {
        var framer = RequestFramer()
        framer.feed(Array("set=1\nlisten_port=1\n".utf8))
        #expect(try framer.nextRequest() == nil)
        #expect(!framer.isAtRequestBoundary)
        framer.feed(Array("\n".utf8))
        #expect(try framer.nextRequest() == UAPIRequest(operation: .set, body: Array("listen_port=1\n".utf8)))
        #expect(framer.isAtRequestBoundary)
    }

    @Test func lineAtTheLimitPassesAndOneByteMoreFails() throws {
        var framer = RequestFramer(maxLineLength: 16)
        let line = String(repeating: "a", count: 14) + "=1"   // exactly 16 bytes
        framer.feed(Array("set=1\n\(line)\n\n".utf8))
        #expect(try framer.nextRequest()?.body == Array("\(line)\n".utf8))

        var tooLong = RequestFramer(maxLineLength: 16)
        // No "\n" yet: the framer must not wait for the end of an over-long line.
        tooLong.feed(Array(("set=1\n" + String(repeating: "a", count: 17)).utf8))
        #expect(tooLong.hasFailed)
        #expect(throws: UAPIError.lineTooLong(limit: 16)) { try tooLong.nextRequest() }
        #expect(UAPIError.lineTooLong(limit: 16).closesConnection)
    }

    @Test func requestAtTheLimitPassesAndOneByteMoreFails() throws {
        let request = "set=1\nlisten_port=1\nfwmark=2\n\n"
        var framer = RequestFramer(maxRequestSize: request.utf8.count)
        framer.feed(Array((request + request).utf8))
        #expect(try framer.nextRequest()?.operation == .set)
        #expect(try framer.nextRequest()?.operation == .set)

        var tooLarge = RequestFramer(maxRequestSize: request.utf8.count - 1)
        tooLarge.feed(Array(request.utf8))
        #expect(throws: UAPIError.requestTooLarge(limit: request.utf8.count - 1)) { try tooLarge.nextRequest() }
    }

    @Test func defaultLimitStopsAnEndlessRequest() {
        var framer = RequestFramer()
        framer.feed(Array("set=1\n".utf8))
        let line = Array("allowed_ip=10.0.0.0/8\n".utf8)
        var fed = 6
        while fed <= RequestFramer.defaultMaxRequestSize && !framer.hasFailed {
            framer.feed(line)
            fed += line.count
        }
        #expect(throws: UAPIError.requestTooLarge(limit: RequestFramer.defaultMaxRequestSize)) {
            try framer.nextRequest()
        }
    }

    @Test(arguments: ["GET=1\n", "\n", "set=2\n", "set=1\r\n", "set\n", "get=1 \n", "hello world\n"])
    func unknownOperationFailsTheConnection(first: String) {
        var framer = RequestFramer()
        framer.feed(Array(first.utf8))
        #expect(throws: UAPIError.unknownOperation) { try framer.nextRequest() }
        #expect(UAPIError.unknownOperation.closesConnection)
    }

    @Test func requestsBeforeAnErrorAreStillHandedOutThenTheErrorSticks() throws {
        var framer = RequestFramer(maxLineLength: 8)
        framer.feed(Array("get=1\n\nset=1\nfwmark=1\n\nset=1\nlisten_port=1\n\nget=1\n\n".utf8))
        #expect(try framer.nextRequest() == UAPIRequest(operation: .get, body: []))
        #expect(try framer.nextRequest() == UAPIRequest(operation: .set, body: Array("fwmark=1\n".utf8)))
        #expect(throws: UAPIError.lineTooLong(limit: 8)) { try framer.nextRequest() }
        framer.feed(Array("get=1\n\n".utf8))
        #expect(throws: UAPIError.lineTooLong(limit: 8)) { try framer.nextRequest() }
    }

    @Test func getWithLinesIsFramedAndRefusedWithEINVAL() throws {
        var framer = RequestFramer()
        framer.feed(Array("get=1\nfoo=bar\n\n".utf8))
        let request = try #require(try framer.nextRequest())
        #expect(request == UAPIRequest(operation: .get, body: Array("foo=bar\n".utf8)))
        #expect(Harness().send("get=1\nfoo=bar\n\n") == "errno=-22\n\n")
    }
}
