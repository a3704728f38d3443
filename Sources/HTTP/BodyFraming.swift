/// How the body of a message is delimited once its head is parsed.
enum BodyFraming: Equatable {
    /// No body at all.
    case none
    /// Exactly this many bytes (`Content-Length`).
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
    /// Everything until the connection closes (responses only).
    case untilClose
}

/// Decodes a body from bytes that arrive piecemeal, shared by the request
/// and response parsers: `Content-Length`, chunked (extensions ignored,
/// trailers skipped) and read-until-close.
///
/// The decoded body is bounded by `maxBody`; chunk-size lines by
/// `maxChunkLine`; the trailer section by `maxTrailer`. Data is copied in
/// runs, never a byte at a time.
struct BodyDecoder {
    /// Where the chunked decoder is inside the chunked grammar (RFC 9112 §7.1).
    private enum ChunkState {
        /// Reading hex digits of a chunk size.
        case size
        /// Whitespace after the size, before `;` or CRLF.
        case sizeWhitespace
        /// Inside chunk extensions, skipped up to CR.
        case chunkExtension
        /// Saw the CR ending a chunk-size line.
        case sizeLF
        /// Copying chunk data.
        case data
        /// Expecting the CR after chunk data.
        case dataCR
        /// Expecting the LF after chunk data.
        case dataLF
        /// At the start of a trailer line (or the final empty line).
        case trailerLineStart
        /// Inside a trailer line, skipped up to CR.
        case trailerLine
        /// Saw the CR ending a trailer line.
        case trailerLF
        /// Saw the CR of the final empty line.
        case finalLF
    }

    /// The framing being decoded.
    let framing: BodyFraming
    /// The body decoded so far.
    private(set) var body: [UInt8] = []
    private let maxBody: Int
    private let maxTrailer: Int
    /// The longest chunk-size line (size, whitespace and extensions) accepted.
    private let maxChunkLine = 4096

    private var chunkState = ChunkState.size
    /// Bytes still to copy: of the `Content-Length` body or of the current chunk.
    private var remaining = 0
    /// Hex digits seen in the current chunk size.
    private var sizeDigits = 0
    /// Bytes in the current chunk-size line.
    private var lineBytes = 0
    /// Bytes in the trailer section so far.
    private var trailerBytes = 0

    /// A decoder for `framing`, bounding the body by `maxBody` bytes and the
    /// trailer section by `maxTrailer` bytes.
    init(framing: BodyFraming, maxBody: Int, maxTrailer: Int) {
        self.framing = framing
        self.maxBody = maxBody
        self.maxTrailer = maxTrailer
        if case .length(let n) = framing {
            remaining = n
            body.reserveCapacity(n)
        }
    }

    /// True while a read-until-close body is being collected.
    var isUntilClose: Bool { framing == .untilClose }

    /// Gives up the decoded body, leaving the decoder empty.
    mutating func takeBody() -> [UInt8] {
        let result = body
        body = []
        return result
    }

    /// Consumes body bytes from `buffer[index...]`. Returns the index of the
    /// first byte not consumed and whether the body is complete. Bytes after
    /// the end of the body are left alone (the next message, or upgraded data).
    mutating func decode(_ buffer: [UInt8], from index: Int) throws(HTTPError) -> (next: Int, done: Bool) {
        switch framing {
        case .none:
            return (index, true)
        case .length:
            let take = min(remaining, buffer.count - index)
            body.append(contentsOf: buffer[index..<(index + take)])
            remaining -= take
            return (index + take, remaining == 0)
        case .untilClose:
            let take = buffer.count - index
            guard take <= maxBody - body.count else { throw .bodyTooLarge }
            body.append(contentsOf: buffer[index...])
            return (buffer.count, false)
        case .chunked:
            return try decodeChunked(buffer, from: index)
        }
    }

    private mutating func decodeChunked(_ buffer: [UInt8], from index: Int) throws(HTTPError) -> (next: Int, done: Bool) {
        var i = index
        while i < buffer.count {
            if chunkState == .data {
                let take = min(remaining, buffer.count - i)
                body.append(contentsOf: buffer[i..<(i + take)])
                remaining -= take
                i += take
                if remaining == 0 { chunkState = .dataCR }
                continue
            }
            let byte = buffer[i]
            i += 1
            switch chunkState {
            case .size:
                lineBytes += 1
                if let digit = hexValue(byte) {
                    sizeDigits += 1
                    guard sizeDigits <= 16 else { throw .bodyTooLarge }
                    remaining = remaining << 4 | digit
                    guard remaining <= maxBody - body.count else { throw .bodyTooLarge }
                } else {
                    guard sizeDigits > 0 else { throw .invalidChunk }
                    try endOfSize(byte)
                }
            case .sizeWhitespace:
                lineBytes += 1
                guard lineBytes <= maxChunkLine else { throw .invalidChunk }
                try endOfSize(byte)
            case .chunkExtension:
                lineBytes += 1
                guard lineBytes <= maxChunkLine else { throw .invalidChunk }
                if byte == cr {
                    chunkState = .sizeLF
                } else if byte == lf {
                    throw .bareLineFeed
                } else if !isFieldValueByte(byte) {
                    throw .invalidChunk
                }
            case .sizeLF:
                guard byte == lf else { throw .bareCarriageReturn }
                lineBytes = 0
                sizeDigits = 0
                chunkState = remaining == 0 ? .trailerLineStart : .data
            case .data:
                break // handled above
            case .dataCR:
                guard byte == cr else { throw .invalidChunk }
                chunkState = .dataLF
            case .dataLF:
                guard byte == lf else { throw .bareCarriageReturn }
                chunkState = .size
            case .trailerLineStart, .trailerLine:
                trailerBytes += 1
                guard trailerBytes <= maxTrailer else { throw .headerSectionTooLarge }
                if byte == cr {
                    chunkState = chunkState == .trailerLineStart ? .finalLF : .trailerLF
                } else if byte == lf {
                    throw .bareLineFeed
                } else {
                    chunkState = .trailerLine
                }
            case .trailerLF:
                trailerBytes += 1
                guard byte == lf else { throw .bareCarriageReturn }
                chunkState = .trailerLineStart
            case .finalLF:
                guard byte == lf else { throw .bareCarriageReturn }
                return (i, true)
            }
        }
        return (i, false)
    }

    /// Handles the byte after the hex digits of a chunk size.
    private mutating func endOfSize(_ byte: UInt8) throws(HTTPError) {
        if byte == cr {
            chunkState = .sizeLF
        } else if byte == UInt8(ascii: ";") {
            chunkState = .chunkExtension
        } else if isWhitespace(byte) {
            chunkState = .sizeWhitespace
        } else if byte == lf {
            throw .bareLineFeed
        } else {
            throw .invalidChunk
        }
    }
}

/// The value of an ASCII hex digit (either case), or nil.
@inline(__always)
func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 0x30...0x39: return Int(byte - 0x30)
    case 0x41...0x46: return Int(byte - 0x41 + 10)
    case 0x61...0x66: return Int(byte - 0x61 + 10)
    default: return nil
    }
}
