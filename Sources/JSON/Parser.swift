/// Parses JSON (RFC 8259) or HuJSON text into a `JSONValue`.
///
/// Strict mode accepts exactly RFC 8259 JSON text: one value surrounded by
/// optional whitespace (space, tab, LF, CR), UTF-8 encoded, no byte order
/// mark. HuJSON mode additionally accepts `//` line comments, `/* */` block
/// comments (not nested) wherever whitespace may appear, a comma after the
/// last element of an array or member of an object, and a leading UTF-8 byte
/// order mark. Everything else is the same in both modes:
///
/// - strings must be valid UTF-8 without raw control characters; all escapes
///   including `\uXXXX` are decoded, surrogate pairs are combined and unpaired
///   surrogates are rejected;
/// - numbers follow the RFC grammar (no leading zeros, `+`, `NaN`, `Infinity`,
///   `.5` or `5.`) and are kept exactly (see `JSONNumber`);
/// - duplicate object keys are rejected (see `JSONObject`);
/// - nesting is limited to `maxDepth` and input to `maxInputSize` bytes.
///
/// Every failure is a `JSONError` with line and column; no input traps.
/// The parser recurses once per nesting level, so keep `maxDepth` modest
/// (the default 64 is plenty for configs and control messages).
public enum JSONParser {
    /// Which dialect to accept.
    public enum Syntax: Equatable, Sendable {
        /// RFC 8259 JSON only.
        case strict
        /// JSON plus comments, trailing commas and a leading byte order mark.
        case hujson
    }

    /// Parser settings.
    public struct Options: Equatable, Sendable {
        /// Which dialect to accept.
        public var syntax: Syntax
        /// Maximum nesting of arrays and objects: 0 allows only scalars, 1 allows
        /// `[1]` but not `[[1]]`, and so on.
        public var maxDepth: Int
        /// Maximum input length in bytes.
        public var maxInputSize: Int

        /// Settings with the given dialect and limits (defaults: strict, 64, 4 MiB).
        public init(syntax: Syntax = .strict, maxDepth: Int = 64, maxInputSize: Int = 4 << 20) {
            self.syntax = syntax
            self.maxDepth = maxDepth
            self.maxInputSize = maxInputSize
        }

        /// Strict JSON with the default limits.
        public static var strict: Options { Options() }

        /// HuJSON with the default limits.
        public static var hujson: Options { Options(syntax: .hujson) }
    }

    /// Parses one document from `text`.
    public static func parse(_ text: String, options: Options = .strict) throws(JSONError) -> JSONValue {
        guard text.utf8.count <= options.maxInputSize else {
            throw JSONError(.inputTooLarge(limit: options.maxInputSize), line: 1, column: 1, offset: 0)
        }
        return try parse(Array(text.utf8), options: options)
    }

    /// Parses one document from the bytes of `buffer` (copied first).
    public static func parse(_ buffer: UnsafeRawBufferPointer, options: Options = .strict) throws(JSONError) -> JSONValue {
        guard buffer.count <= options.maxInputSize else {
            throw JSONError(.inputTooLarge(limit: options.maxInputSize), line: 1, column: 1, offset: 0)
        }
        return try parse(Array(buffer), options: options)
    }

    /// Parses one document from UTF-8 `bytes`.
    public static func parse(_ bytes: [UInt8], options: Options = .strict) throws(JSONError) -> JSONValue {
        guard bytes.count <= options.maxInputSize else {
            throw JSONError(.inputTooLarge(limit: options.maxInputSize), line: 1, column: 1, offset: 0)
        }
        var reader = Reader(bytes: bytes, options: options)
        return try reader.parseDocument()
    }
}

/// The parser's cursor over the input bytes.
struct Reader {
    let bytes: [UInt8]
    let options: JSONParser.Options
    var index = 0

    init(bytes: [UInt8], options: JSONParser.Options) {
        self.bytes = bytes
        self.options = options
    }

    /// An error at byte `offset`, with line and column.
    func failure(_ reason: JSONError.Reason, at offset: Int) -> JSONError {
        JSONError(reason, at: offset, in: bytes)
    }

    /// A syntax error at the cursor: `expected` there, or "unexpected end" at the end.
    func expected(_ what: String) -> JSONError {
        if index >= bytes.count { return failure(.unexpectedEnd(expected: what), at: index) }
        return failure(.expected(what), at: index)
    }

    /// The byte at the cursor, or nil at the end.
    var peek: UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        if options.syntax == .hujson, bytes.count >= 3,
           bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            index = 3
        }
        try skipTrivia()
        let value = try parseValue(depth: 0)
        try skipTrivia()
        guard index == bytes.count else { throw expected("expected end of input after the value") }
        return value
    }

    /// Skips whitespace and, in HuJSON mode, comments.
    mutating func skipTrivia() throws(JSONError) {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D:
                index += 1
            case UInt8(ascii: "/"):
                guard index + 1 < bytes.count,
                      bytes[index + 1] == UInt8(ascii: "/") || bytes[index + 1] == UInt8(ascii: "*") else {
                    throw failure(.unterminatedComment, at: index)
                }
                guard options.syntax == .hujson else { throw failure(.commentNotAllowed, at: index) }
                try skipComment()
            default:
                return
            }
        }
    }

    /// Skips one comment that starts at the cursor (`//` or `/*`).
    private mutating func skipComment() throws(JSONError) {
        let start = index
        let isBlock = bytes[index + 1] == UInt8(ascii: "*")
        index += 2
        while index < bytes.count {
            let byte = bytes[index]
            if isBlock {
                if byte == UInt8(ascii: "*"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                    index += 2
                    return
                }
            } else if byte == 0x0A || byte == 0x0D {
                return
            }
            guard let length = UTF8Check.sequenceLength(bytes, at: index) else {
                throw failure(.invalidUTF8, at: index)
            }
            index += length
        }
        if isBlock { throw failure(.unterminatedComment, at: start) }
    }

    /// Parses the value at the cursor; `depth` is the number of enclosing containers.
    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard let byte = peek else { throw expected("expected a value") }
        switch byte {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return try parseLiteral()
        default:
            throw expected("expected a value")
        }
    }

    /// Parses `true`, `false` or `null`; any other word is an invalid literal.
    private mutating func parseLiteral() throws(JSONError) -> JSONValue {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            let isWordByte = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || NumberText.isDigit(byte) || byte == UInt8(ascii: "_")
            guard isWordByte else { break }
            index += 1
        }
        if matches("true", from: start) { return .bool(true) }
        if matches("false", from: start) { return .bool(false) }
        if matches("null", from: start) { return .null }
        throw failure(.invalidLiteral, at: start)
    }

    /// True if `start..<index` holds exactly the ASCII `word`.
    private func matches(_ word: StaticString, from start: Int) -> Bool {
        guard index - start == word.utf8CodeUnitCount else { return false }
        let pointer = word.utf8Start
        var offset = 0
        while offset < word.utf8CodeUnitCount {
            if bytes[start + offset] != pointer[offset] { return false }
            offset += 1
        }
        return true
    }

    /// Parses the number at the cursor.
    private mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = index
        switch NumberText.scan(bytes, from: start) {
        case .number(let end, let isInteger):
            index = end
            return JSONNumber(validated: bytes, from: start, to: end, isInteger: isInteger)
        case .invalid(let reason, let offset):
            throw failure(reason, at: offset)
        }
    }

    /// Parses the array whose `[` is at the cursor; `depth` counts this array.
    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= options.maxDepth else { throw failure(.tooDeep(limit: options.maxDepth), at: index) }
        index += 1
        var elements: [JSONValue] = []
        try skipTrivia()
        if peek == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth))
            try skipTrivia()
            if peek == UInt8(ascii: ",") {
                let comma = index
                index += 1
                try skipTrivia()
                if peek == UInt8(ascii: "]") {
                    guard options.syntax == .hujson else { throw failure(.trailingCommaNotAllowed, at: comma) }
                    index += 1
                    return .array(elements)
                }
            } else if peek == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw expected("expected ',' or ']' after array element")
            }
        }
    }

    /// Parses the object whose `{` is at the cursor; `depth` counts this object.
    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= options.maxDepth else { throw failure(.tooDeep(limit: options.maxDepth), at: index) }
        index += 1
        var object = JSONObject()
        try skipTrivia()
        if peek == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            guard peek == UInt8(ascii: "\"") else { throw expected("expected a string key") }
            let keyStart = index
            let key = try parseString()
            if object.contains(key) { throw failure(.duplicateKey(key), at: keyStart) }
            try skipTrivia()
            guard peek == UInt8(ascii: ":") else { throw expected("expected ':' after object key") }
            index += 1
            try skipTrivia()
            let value = try parseValue(depth: depth)
            object.insert(key, value)
            try skipTrivia()
            if peek == UInt8(ascii: ",") {
                let comma = index
                index += 1
                try skipTrivia()
                if peek == UInt8(ascii: "}") {
                    guard options.syntax == .hujson else { throw failure(.trailingCommaNotAllowed, at: comma) }
                    index += 1
                    return .object(object)
                }
            } else if peek == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            } else {
                throw expected("expected ',' or '}' after object member")
            }
        }
    }
}
