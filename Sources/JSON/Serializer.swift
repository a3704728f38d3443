/// Prints `JSONValue`s as JSON text.
///
/// The output is deterministic: object members appear in their stored order,
/// integers in their shortest decimal form, other numbers as their original
/// text. Strings escape `"` and `\`, use the short escapes `\b \f \n \r \t`
/// and `\u00XX` (lowercase hex) for the other control characters U+0000 to
/// U+001F; everything else, including non-ASCII text, is written as UTF-8.
/// The output of either style parses back (strict mode) to an equal value.
public enum JSONSerializer {
    /// Layout of the output.
    public enum Style: Equatable, Sendable {
        /// No whitespace at all: `{"a":[1,2]}`.
        case compact
        /// One element or member per line, indented by two spaces per level,
        /// `"key": value`, empty containers as `[]` / `{}`, no final newline.
        case pretty
    }

    /// The JSON text of `value` as UTF-8 bytes.
    public static func bytes(_ value: JSONValue, style: Style = .compact) -> [UInt8] {
        var out: [UInt8] = []
        write(value, style: style, to: &out)
        return out
    }

    /// The JSON text of `value`.
    public static func string(_ value: JSONValue, style: Style = .compact) -> String {
        String(decoding: bytes(value, style: style), as: UTF8.self)
    }

    /// Appends the JSON text of `value` to `out`.
    public static func write(_ value: JSONValue, style: Style = .compact, to out: inout [UInt8]) {
        write(value, pretty: style == .pretty, level: 0, to: &out)
    }

    /// `text` as a JSON string literal, with quotes.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ value: JSONValue, pretty: Bool, level: Int, to out: inout [UInt8]) {
        switch value {
        case .null:
            appendASCII("null", to: &out)
        case .bool(let flag):
            appendASCII(flag ? "true" : "false", to: &out)
        case .number(let number):
            switch number.storage {
            case .integer(let integer):
                NumberText.appendDecimal(integer, to: &out)
            case .text(let text):
                out.append(contentsOf: text.utf8)
            }
        case .string(let text):
            appendString(text, to: &out)
        case .array(let elements):
            if elements.isEmpty {
                appendASCII("[]", to: &out)
                return
            }
            out.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if pretty { newline(level: level + 1, to: &out) }
                write(element, pretty: pretty, level: level + 1, to: &out)
            }
            if pretty { newline(level: level, to: &out) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty {
                appendASCII("{}", to: &out)
                return
            }
            out.append(UInt8(ascii: "{"))
            var first = true
            for member in object.members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if pretty { newline(level: level + 1, to: &out) }
                appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(UInt8(ascii: " ")) }
                write(member.value, pretty: pretty, level: level + 1, to: &out)
            }
            if pretty { newline(level: level, to: &out) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A line break followed by two spaces per `level`.
    private static func newline(level: Int, to out: inout [UInt8]) {
        out.append(0x0A)
        var remaining = level
        while remaining > 0 {
            out.append(0x20)
            out.append(0x20)
            remaining -= 1
        }
    }

    private static func appendASCII(_ text: StaticString, to out: inout [UInt8]) {
        let pointer = text.utf8Start
        var offset = 0
        while offset < text.utf8CodeUnitCount {
            out.append(pointer[offset])
            offset += 1
        }
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Appends `text` as a quoted, escaped JSON string.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case 0x22:
                out.append(0x5C)
                out.append(0x22)
            case 0x5C:
                out.append(0x5C)
                out.append(0x5C)
            case 0x08:
                out.append(0x5C)
                out.append(UInt8(ascii: "b"))
            case 0x0C:
                out.append(0x5C)
                out.append(UInt8(ascii: "f"))
            case 0x0A:
                out.append(0x5C)
                out.append(UInt8(ascii: "n"))
            case 0x0D:
                out.append(0x5C)
                out.append(UInt8(ascii: "r"))
            case 0x09:
                out.append(0x5C)
                out.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                appendASCII("\\u00", to: &out)
                out.append(hexDigits.utf8Start[Int(byte >> 4)])
                out.append(hexDigits.utf8Start[Int(byte & 0x0F)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
