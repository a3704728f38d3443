import HTTP

/// libFuzzer entry point for the HTTP module. The first bytes of the input
/// choose the limits and how the rest is cut into pieces; the rest is fed,
/// piece by piece, to both parsers.
///
/// Checked for every input:
/// 1. no trap (typed errors are the expected outcome for junk);
/// 2. the result does not depend on how the bytes were split: fed whole and
///    fed in pieces, each parser yields the same messages and the same error;
/// 3. a request or response that parses serializes to bytes that parse back
///    to the same message (up to the framing headers the serializer rewrites).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    let control = data[0]
    var seed = UInt64(data[1]) &+ 1
    let input = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    let limits = control & 1 == 0
        ? HTTPLimits()
        : HTTPLimits(maxHeaderBytes: 64 + Int(control >> 2), maxBodyBytes: Int(control >> 1) & 63, maxHeaderCount: Int(control >> 4))
    let method = control & 2 == 0 ? "GET" : "HEAD"

    var cuts: [Int] = []
    var at = 0
    while at < input.count {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        at += 1 + Int((seed >> 33) % 17)
        if at < input.count { cuts.append(at) }
    }

    let whole = requests(input, cuts: [], limits: limits)
    let pieces = requests(input, cuts: cuts, limits: limits)
    precondition(whole.messages == pieces.messages, "requests depend on the split")
    precondition(whole.error == pieces.error, "request error depends on the split")
    for request in whole.messages { checkRoundTrip(request, limits: limits) }

    let wholeResponses = responses(input, cuts: [], limits: limits, method: method)
    let pieceResponses = responses(input, cuts: cuts, limits: limits, method: method)
    precondition(wholeResponses.messages == pieceResponses.messages, "responses depend on the split")
    precondition(wholeResponses.error == pieceResponses.error, "response error depends on the split")
    for response in wholeResponses.messages { checkRoundTrip(response, limits: limits) }
    return 0
}

/// Every request in `input` cut at `cuts`, and the error that stopped the parser.
private func requests(_ input: [UInt8], cuts: [Int], limits: HTTPLimits) -> (messages: [HTTPRequest], error: HTTPError?) {
    var parser = HTTPRequestParser(limits: limits)
    var messages: [HTTPRequest] = []
    var from = 0
    for cut in cuts + [input.count] {
        parser.append(input[from..<cut])
        from = cut
        do {
            // An upgrade stops the parser; declining it goes on with HTTP,
            // so every upgrade request is followed the same way.
            repeat {
                parser.declineUpgrade()
                while let request = try parser.next() { messages.append(request) }
            } while parser.isUpgraded
        } catch {
            return (messages, error)
        }
    }
    do { try parser.finish() } catch { return (messages, error) }
    return (messages, nil)
}

/// Every response in `input` cut at `cuts`, and the error that stopped the parser.
private func responses(_ input: [UInt8], cuts: [Int], limits: HTTPLimits, method: String)
    -> (messages: [HTTPResponse], error: HTTPError?) {
    var parser = HTTPResponseParser(limits: limits)
    var messages: [HTTPResponse] = []
    var from = 0
    do {
        for cut in cuts + [input.count] {
            parser.append(input[from..<cut])
            from = cut
            while let response = try parser.next(requestMethod: method) { messages.append(response) }
        }
        if let last = try parser.finish() { messages.append(last) }
    } catch {
        return (messages, error)
    }
    return (messages, nil)
}

/// Limits loose enough for a re-serialized message: the serializer may add
/// `Content-Length` and a space after each colon, and each invalid UTF-8
/// byte of a value (decoded as U+FFFD) comes back as three bytes.
private func roomy(_ limits: HTTPLimits) -> HTTPLimits {
    HTTPLimits(maxHeaderBytes: 3 * limits.maxHeaderBytes + 64, maxBodyBytes: limits.maxBodyBytes,
               maxHeaderCount: limits.maxHeaderCount + 1)
}

/// `headers` without the framing fields the serializers rewrite.
private func withoutFraming(_ headers: HTTPHeaders) -> HTTPHeaders {
    var result = headers
    result.remove("Content-Length")
    result.remove("Transfer-Encoding")
    return result
}

private func checkRoundTrip(_ request: HTTPRequest, limits: HTTPLimits) {
    var parser = HTTPRequestParser(limits: roomy(limits))
    parser.append(request.serialized())
    let again: HTTPRequest?
    do { again = try parser.next() } catch { preconditionFailure("serialized request does not parse") }
    guard let again else { preconditionFailure("serialized request is incomplete") }
    precondition(again.method == request.method, "method changed")
    precondition(again.target == request.target, "target changed")
    precondition(again.version == request.version, "version changed")
    precondition(again.body == request.body, "body changed")
    precondition(withoutFraming(again.headers) == withoutFraming(request.headers), "headers changed")
}

private func checkRoundTrip(_ response: HTTPResponse, limits: HTTPLimits) {
    var parser = HTTPResponseParser(limits: roomy(limits))
    parser.append(response.serialized())
    let again: HTTPResponse?
    do { again = try parser.next(requestMethod: "GET") } catch { preconditionFailure("serialized response does not parse") }
    guard let again else { preconditionFailure("serialized response is incomplete") }
    precondition(again.status == response.status, "status changed")
    precondition(again.reason == response.reason, "reason changed")
    precondition(again.version == response.version, "version changed")
    precondition(again.body == response.body, "body changed")
    precondition(withoutFraming(again.headers) == withoutFraming(response.headers), "headers changed")
}
