import HTTP
import TestSupport

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The text of `bytes` (lossy).
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Feeds `input` to a fresh request parser in pieces cut at `splits`
/// (increasing offsets), draining after every piece. Returns the requests
/// and the error that stopped the parser, if any.
func parseRequests(_ input: [UInt8], splits: [Int] = [], limits: HTTPLimits = HTTPLimits())
    -> (requests: [HTTPRequest], error: HTTPError?, parser: HTTPRequestParser) {
    var parser = HTTPRequestParser(limits: limits)
    var requests: [HTTPRequest] = []
    var from = 0
    for cut in splits + [input.count] where cut >= from {
        parser.append(input[from..<cut])
        from = cut
        do {
            while let request = try parser.next() { requests.append(request) }
        } catch {
            return (requests, error, parser)
        }
    }
    return (requests, nil, parser)
}

/// The error a request parser reports for `input` fed at once, or nil.
func requestError(_ input: String, limits: HTTPLimits = HTTPLimits()) -> HTTPError? {
    parseRequests(bytes(input), limits: limits).error
}

/// Feeds `input` to a fresh response parser in pieces cut at `splits`,
/// answering requests of `method`; calls `finish()` at the end if `eof`.
func parseResponses(_ input: [UInt8], splits: [Int] = [], method: String = "GET", eof: Bool = false,
                    limits: HTTPLimits = HTTPLimits())
    -> (responses: [HTTPResponse], error: HTTPError?, parser: HTTPResponseParser) {
    var parser = HTTPResponseParser(limits: limits)
    var responses: [HTTPResponse] = []
    var from = 0
    do {
        for cut in splits + [input.count] where cut >= from {
            parser.append(input[from..<cut])
            from = cut
            while let response = try parser.next(requestMethod: method) { responses.append(response) }
        }
        if eof, let last = try parser.finish() { responses.append(last) }
    } catch {
        return (responses, error, parser)
    }
    return (responses, nil, parser)
}
