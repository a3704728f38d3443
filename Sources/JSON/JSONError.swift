/// Why a JSON or HuJSON text was rejected, and where.
///
/// `line` and `column` are 1-based. A line ends at `\n`, `\r\n` or a lone `\r`;
/// the column counts Unicode scalars (not bytes) from the start of the line, so
/// it matches what a text editor shows for most text. `offset` is the 0-based
/// byte offset of the same position. The position is the first byte of the
/// offending token (for a duplicate key: its opening quote; for an unterminated
/// string or comment: where it starts; for a truncated document: the end).
public struct JSONError: Error, Equatable, Sendable {
    /// What went wrong, without the position.
    public enum Reason: Equatable, Sendable {
        /// The input is longer than `JSONParser.Options.maxInputSize` bytes.
        case inputTooLarge(limit: Int)
        /// Arrays and objects nest deeper than `JSONParser.Options.maxDepth`.
        case tooDeep(limit: Int)
        /// A syntax error: the text says what was expected at this point,
        /// for example `expected ',' or '}' after object member`.
        case expected(String)
        /// The input ended where the text says something else was expected.
        case unexpectedEnd(expected: String)
        /// A bare word other than `true`, `false` or `null` (e.g. `NaN`, `True`).
        case invalidLiteral
        /// A malformed number; the text says how (leading zero, missing digit).
        case invalidNumber(String)
        /// A string was not closed before the end of the input.
        case unterminatedString
        /// A raw control character (U+0000 to U+001F) inside a string.
        case controlCharacterInString
        /// A backslash followed by a character that is not a JSON escape.
        case invalidEscape
        /// `\u` not followed by four hexadecimal digits.
        case invalidUnicodeEscape
        /// A `\uD800`-`\uDFFF` escape that is not part of a high+low surrogate pair.
        case unpairedSurrogate
        /// Bytes that are not well-formed UTF-8 (overlong forms, encoded
        /// surrogates and values above U+10FFFF are rejected too).
        case invalidUTF8
        /// A comment in strict mode (comments exist only in HuJSON).
        case commentNotAllowed
        /// A `/* ... */` comment that is not closed, or a `/` that starts no comment.
        case unterminatedComment
        /// A comma before `]` or `}` in strict mode (allowed only in HuJSON).
        case trailingCommaNotAllowed
        /// An object names the same key twice (keys compare as Swift strings,
        /// i.e. by canonical equivalence). Duplicates are always rejected.
        case duplicateKey(String)

        /// A short English message for people, without the position.
        public var message: String {
            switch self {
            case .inputTooLarge(let limit):
                return "input is larger than the limit of " + String(limit) + " bytes"
            case .tooDeep(let limit):
                return "arrays and objects nest deeper than the limit of " + String(limit)
            case .expected(let what):
                return what
            case .unexpectedEnd(let what):
                return "unexpected end of input: " + what
            case .invalidLiteral:
                return "invalid literal (only true, false and null are allowed)"
            case .invalidNumber(let why):
                return "invalid number: " + why
            case .unterminatedString:
                return "unterminated string"
            case .controlCharacterInString:
                return "control character in string (must be escaped)"
            case .invalidEscape:
                return "invalid escape sequence in string"
            case .invalidUnicodeEscape:
                return "expected four hexadecimal digits after \\u"
            case .unpairedSurrogate:
                return "unpaired UTF-16 surrogate in \\u escape"
            case .invalidUTF8:
                return "invalid UTF-8"
            case .commentNotAllowed:
                return "comments are not allowed in strict JSON"
            case .unterminatedComment:
                return "unterminated or malformed comment"
            case .trailingCommaNotAllowed:
                return "trailing comma is not allowed in strict JSON"
            case .duplicateKey(let key):
                return "duplicate object key " + JSONSerializer.quoted(key)
            }
        }
    }

    /// What went wrong.
    public let reason: Reason
    /// 1-based line of the error position.
    public let line: Int
    /// 1-based column (in Unicode scalars) of the error position.
    public let column: Int
    /// 0-based byte offset of the error position.
    public let offset: Int

    /// An error with an explicit position; the parser computes line and column
    /// from the byte offset with `JSONError.init(_:at:in:)`.
    public init(_ reason: Reason, line: Int, column: Int, offset: Int) {
        self.reason = reason
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// An error at byte `offset` of `input`, with line and column computed by
    /// scanning `input` from the start (only done when an error is reported).
    init(_ reason: Reason, at offset: Int, in input: [UInt8]) {
        var line = 1
        var column = 1
        var index = 0
        let end = min(max(offset, 0), input.count)
        while index < end {
            let byte = input[index]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte == 0x0D {
                // A lone CR ends a line; in CR LF the LF does the counting.
                if index + 1 >= input.count || input[index + 1] != 0x0A {
                    line += 1
                    column = 1
                }
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        self.init(reason, line: line, column: column, offset: offset)
    }
}

extension JSONError: CustomStringConvertible {
    /// `line L, column C: message`, e.g. `line 3, column 14: expected ',' or '}' after object member`.
    public var description: String {
        "line " + String(line) + ", column " + String(column) + ": " + reason.message
    }
}
