/// Bounds on what a parser accepts from one message; everything it buffers
/// is bounded by these.
public struct HTTPLimits: Equatable, Sendable {
    /// The largest header section in bytes, from the start line through the
    /// empty line (and, separately, the largest trailer section). Default 16 KiB.
    public var maxHeaderBytes: Int
    /// The largest decoded body in bytes. Default 1 MiB.
    public var maxBodyBytes: Int
    /// The largest number of header fields. Default 100.
    public var maxHeaderCount: Int

    /// Limits with the given values (negative values are treated as 0).
    public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 1 << 20, maxHeaderCount: Int = 100) {
        self.maxHeaderBytes = max(0, maxHeaderBytes)
        self.maxBodyBytes = max(0, maxBodyBytes)
        self.maxHeaderCount = max(0, maxHeaderCount)
    }
}

let cr: UInt8 = 0x0D
let lf: UInt8 = 0x0A
let space: UInt8 = 0x20

/// Finds the end of a message head (start line, header lines, empty line)
/// in bytes that arrive piecemeal, checking line endings and the size and
/// line-count limits as it goes. Empty lines before the start line are
/// skipped (RFC 9112 §2.2) but count toward the size limit.
///
/// Offsets are relative to where the head starts in the caller's buffer, so
/// the caller may move its unconsumed bytes between calls.
struct HeadScanner {
    /// The next byte to look at.
    private var offset = 0
    /// Where the current line starts.
    private var lineStart = 0
    /// Non-empty lines seen (start line plus header lines).
    private var lines = 0

    /// Forgets everything, ready for the next head.
    mutating func reset() { self = HeadScanner() }

    /// True if no byte of a head has been scanned.
    var isEmpty: Bool { offset == 0 }

    /// Scans `buffer[base...]`; returns the length of the complete head
    /// (through its final CRLF) once it is there, nil if more bytes are needed.
    mutating func scan(_ buffer: [UInt8], base: Int, limits: HTTPLimits) throws(HTTPError) -> Int? {
        var i = base + offset
        while i < buffer.count {
            if i - base >= limits.maxHeaderBytes { throw .headerSectionTooLarge }
            let byte = buffer[i]
            if byte == cr {
                guard i + 1 < buffer.count else { break }
                guard buffer[i + 1] == lf else { throw .bareCarriageReturn }
            } else if byte == lf {
                guard i > base + lineStart, buffer[i - 1] == cr else { throw .bareLineFeed }
                let isEmptyLine = i - 1 == base + lineStart
                lineStart = i + 1 - base
                if isEmptyLine {
                    if lines > 0 {
                        offset = i + 1 - base
                        return offset
                    }
                } else {
                    lines += 1
                    if lines > limits.maxHeaderCount + 1 { throw .tooManyHeaders }
                }
            }
            i += 1
        }
        offset = i - base
        return nil
    }
}

/// The parts of a head after the start line has been taken apart.
struct HeadLines {
    /// The start line (request line or status line), without CRLF.
    var startLine: Range<Int>
    /// The header fields.
    var headers: HTTPHeaders
}

/// Splits a complete, scanned head `buffer[range]` into its start line and
/// header fields, validating each header line.
func parseHeadLines(_ buffer: [UInt8], _ range: Range<Int>) throws(HTTPError) -> HeadLines {
    var startLine: Range<Int>? = nil
    var headers = HTTPHeaders()
    var lineStart = range.lowerBound
    var i = range.lowerBound
    while i < range.upperBound {
        if buffer[i] == lf {
            let line = lineStart..<(i - 1)   // the scanner checked the CR before every LF
            lineStart = i + 1
            if line.isEmpty {
                if startLine != nil { break }
            } else if startLine == nil {
                startLine = line
            } else {
                let field = try parseHeaderLine(buffer, line)
                headers.add(field.name, field.value)
            }
        }
        i += 1
    }
    guard let start = startLine else { throw .invalidRequestLine }
    return HeadLines(startLine: start, headers: headers)
}

/// Parses one header line `name ":" OWS value OWS` (without CRLF).
func parseHeaderLine(_ buffer: [UInt8], _ line: Range<Int>) throws(HTTPError) -> HTTPHeaderField {
    if isWhitespace(buffer[line.lowerBound]) { throw .obsoleteLineFolding }
    var colon = line.lowerBound
    while colon < line.upperBound && buffer[colon] != UInt8(ascii: ":") {
        guard isTokenByte(buffer[colon]) else { throw .invalidHeaderName }
        colon += 1
    }
    guard colon < line.upperBound, colon > line.lowerBound else { throw .invalidHeaderName }
    var lo = colon + 1
    var hi = line.upperBound
    while lo < hi && isWhitespace(buffer[lo]) { lo += 1 }
    while hi > lo && isWhitespace(buffer[hi - 1]) { hi -= 1 }
    var j = lo
    while j < hi {
        guard isFieldValueByte(buffer[j]) else { throw .invalidHeaderValue }
        j += 1
    }
    return HTTPHeaderField(name: String(decoding: buffer[line.lowerBound..<colon], as: UTF8.self),
                           value: String(decoding: buffer[lo..<hi], as: UTF8.self))
}

/// Parses `HTTP/1.0` or `HTTP/1.1` (a higher 1.x minor version is treated
/// as 1.1, RFC 9110 §6.2). Returns nil if `buffer[range]` is not of the form
/// `HTTP/` DIGIT+ `.` DIGIT+; throws `.unsupportedVersion` for a major version other than 1.
func parseVersion(_ buffer: [UInt8], _ range: Range<Int>) throws(HTTPError) -> HTTPVersion? {
    let prefix: [UInt8] = [0x48, 0x54, 0x54, 0x50, 0x2F] // "HTTP/"
    guard range.count >= prefix.count + 3 else { return nil }
    for k in 0..<prefix.count where buffer[range.lowerBound + k] != prefix[k] { return nil }
    var i = range.lowerBound + prefix.count
    var major = 0
    var majorDigits = 0
    while i < range.upperBound, let digit = decimalValue(buffer[i]) {
        if majorDigits < 4 { major = major * 10 + digit }
        majorDigits += 1
        i += 1
    }
    guard majorDigits > 0, i < range.upperBound, buffer[i] == UInt8(ascii: ".") else { return nil }
    i += 1
    var minor = 0
    var minorDigits = 0
    while i < range.upperBound, let digit = decimalValue(buffer[i]) {
        if minorDigits < 4 { minor = minor * 10 + digit }
        minorDigits += 1
        i += 1
    }
    guard minorDigits > 0, i == range.upperBound else { return nil }
    guard major == 1, majorDigits == 1, minorDigits == 1 else { throw .unsupportedVersion }
    return minor == 0 ? .http10 : .http11
}

/// The value of an ASCII decimal digit, or nil.
@inline(__always)
func decimalValue(_ byte: UInt8) -> Int? {
    byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
}

/// The framing the header fields declare for a body (RFC 9112 §6).
enum DeclaredFraming: Equatable {
    /// Neither `Content-Length` nor `Transfer-Encoding`.
    case unspecified
    /// `Content-Length: n`.
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
}

/// Reads `Content-Length` and `Transfer-Encoding`, rejecting every ambiguous
/// combination: both present, several `Content-Length`s, a coding other
/// than a single final `chunked`, or `Transfer-Encoding` in HTTP/1.0.
/// A length above `maxBody` is `.bodyTooLarge`.
func declaredFraming(_ headers: HTTPHeaders, version: HTTPVersion, maxBody: Int) throws(HTTPError) -> DeclaredFraming {
    var lengthValue: String? = nil
    var hasTransferEncoding = false
    var codings = 0
    var chunkedLast = false
    var unknownCoding = false
    for field in headers {
        if asciiCaseInsensitiveEqual(field.name, "Content-Length") {
            guard lengthValue == nil else { throw .duplicateContentLength }
            lengthValue = field.value
        } else if asciiCaseInsensitiveEqual(field.name, "Transfer-Encoding") {
            hasTransferEncoding = true
            forEachListElement(field.value) { coding in
                codings += 1
                chunkedLast = asciiCaseInsensitiveEqual(coding, "chunked")
                if !chunkedLast { unknownCoding = true }
            }
        }
    }
    if hasTransferEncoding {
        guard lengthValue == nil else { throw .contentLengthWithTransferEncoding }
        guard version == .http11 else { throw .invalidTransferEncoding }
        if unknownCoding { throw .unsupportedTransferEncoding }
        guard codings == 1, chunkedLast else { throw .invalidTransferEncoding }
        return .chunked
    }
    guard let text = lengthValue else { return .unspecified }
    var length = 0
    var digits = 0
    for byte in text.utf8 {
        if byte == UInt8(ascii: ",") { throw .duplicateContentLength }
        guard let digit = decimalValue(byte) else { throw .invalidContentLength }
        digits += 1
        if length <= maxBody { // stops growing once too large, so it cannot overflow twice
            let (times10, overflow1) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit)
            length = overflow1 || overflow2 ? Int.max : sum
        }
    }
    guard digits > 0 else { throw .invalidContentLength }
    guard length <= maxBody else { throw .bodyTooLarge }
    return .length(length)
}
