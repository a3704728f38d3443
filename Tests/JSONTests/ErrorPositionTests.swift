import JSON
import Testing

@Suite struct ErrorPositionTests {
    struct Case: Sendable, CustomStringConvertible {
        let text: String
        let hujson: Bool
        let line: Int
        let column: Int
        let message: String
        var description: String { text }
    }

    static let cases: [Case] = [
        Case(text: "", hujson: false, line: 1, column: 1, message: "unexpected end of input: expected a value"),
        Case(text: "   ", hujson: false, line: 1, column: 4, message: "unexpected end of input: expected a value"),
        Case(text: "{\n  \"a\": 1,\n  \"b\": 2 \"c\": 3\n}", hujson: false, line: 3, column: 10,
             message: "expected ',' or '}' after object member"),
        Case(text: "{\"a\" 1}", hujson: false, line: 1, column: 6, message: "expected ':' after object key"),
        Case(text: "{a: 1}", hujson: false, line: 1, column: 2, message: "expected a string key"),
        Case(text: "[1 2]", hujson: false, line: 1, column: 4, message: "expected ',' or ']' after array element"),
        Case(text: "[1,\n 2", hujson: false, line: 2, column: 3,
             message: "unexpected end of input: expected ',' or ']' after array element"),
        Case(text: "[\n\n   01]", hujson: false, line: 3, column: 4, message: "invalid number: leading zeros are not allowed"),
        Case(text: "\r\n\r\n  NaN", hujson: false, line: 3, column: 3,
             message: "invalid literal (only true, false and null are allowed)"),
        Case(text: "\r\r @", hujson: false, line: 3, column: 2, message: "expected a value"),
        Case(text: "[\"é中😀\", x]", hujson: false, line: 1, column: 9,
             message: "invalid literal (only true, false and null are allowed)"),
        Case(text: "[\"ab\ncd\"]", hujson: false, line: 1, column: 5,
             message: "control character in string (must be escaped)"),
        Case(text: "\n  \"abc", hujson: false, line: 2, column: 3, message: "unterminated string"),
        Case(text: "[\"a\\qb\"]", hujson: false, line: 1, column: 4, message: "invalid escape sequence in string"),
        Case(text: "\"\\uD800 \"", hujson: false, line: 1, column: 2, message: "unpaired UTF-16 surrogate in \\u escape"),
        Case(text: "\"\\u00G0\"", hujson: false, line: 1, column: 2,
             message: "expected four hexadecimal digits after \\u"),
        Case(text: "[1, // note\n 2]", hujson: false, line: 1, column: 5, message: "comments are not allowed in strict JSON"),
        Case(text: "[1, 2,\n]", hujson: false, line: 1, column: 6, message: "trailing comma is not allowed in strict JSON"),
        Case(text: "{\n  // c\n  \"k\": 1,\n  \"k\": 2,\n}", hujson: true, line: 4, column: 3,
             message: "duplicate object key \"k\""),
        Case(text: "[1,\n/* never closed", hujson: true, line: 2, column: 1, message: "unterminated or malformed comment"),
        Case(text: "{} {}", hujson: false, line: 1, column: 4, message: "expected end of input after the value"),
        Case(text: "[1.5e]", hujson: false, line: 1, column: 6, message: "invalid number: expected a digit in the exponent"),
        Case(text: "{\"a\":\n  -x}", hujson: true, line: 2, column: 4, message: "invalid number: expected a digit after '-'"),
    ]

    @Test(arguments: cases) func position(_ item: Case) {
        let error = parseError(item.text, item.hujson ? .hujson : .strict)
        #expect(error?.line == item.line)
        #expect(error?.column == item.column)
        #expect(error?.reason.message == item.message)
        #expect(error?.description == "line \(item.line), column \(item.column): \(item.message)")
    }

    @Test func briefExample() {
        let text = "{\n  \"name\": \"tern\",\n  \"version\": 1 \"x\"\n}"
        #expect(parseError(text)?.description == "line 3, column 16: expected ',' or '}' after object member")
    }

    @Test func offsetIsTheByteOffset() {
        let error = parseError("[\"é\", x]")
        #expect(error?.offset == 7)
        #expect(error?.column == 7)
    }
}
