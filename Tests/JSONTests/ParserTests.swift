import JSON
import Testing

@Suite struct ParserTests {
    @Test func scalars() throws {
        #expect(try strict("null") == .null)
        #expect(try strict("true") == .bool(true))
        #expect(try strict(" \t\r\n false \n") == .bool(false))
        #expect(try strict("0") == .integer(0))
        #expect(try strict("-12") == .integer(-12))
        #expect(try strict("\"hi\"") == .string("hi"))
        #expect(try strict("[]") == .array([]))
        #expect(try strict("{}") == .object(JSONObject()))
    }

    @Test func nestedDocumentKeepsOrder() throws {
        let value = try strict(#"{"b": [1, {"z": null, "a": true}], "a": "x"}"#)
        #expect(value.object?.keys == ["b", "a"])
        #expect(value["b"]?[1]?.object?.keys == ["z", "a"])
        #expect(value["b"]?[0]?.int == 1)
        #expect(value["a"]?.string == "x")
    }

    @Test func everyEscape() throws {
        let value = try strict(#""\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20AC \u0000""#)
        #expect(value == .string("\" \\ / \u{8} \u{C} \n \r \t A é € \u{0}"))
    }

    @Test func surrogatePairs() throws {
        #expect(try strict(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try strict(#""\udbff\udfff""#) == .string("\u{10FFFF}"))
        #expect(try strict(#""\uD800\uDC00x""#) == .string("\u{10000}x"))
    }

    @Test func unpairedSurrogatesRejected() {
        for text in [#""\uD83D""#, #""\uD83Dx""#, #""\uDE00""#, #""\uD83D\u0041""#, #""\uD83D\uD83D""#, #""\uD83D\n""#] {
            #expect(parseError(text)?.reason == .unpairedSurrogate, "\(text)")
        }
        #expect(parseError(#""\uD83D\uDEx0""#)?.reason == .invalidUnicodeEscape)
    }

    @Test func rawUTF8PassesAndInvalidUTF8IsRejected() throws {
        #expect(try strict("\"é中😀\"") == .string("é中😀"))
        let bad: [[UInt8]] = [
            [0x22, 0xC3, 0x22],             // truncated 2-byte sequence
            [0x22, 0xC0, 0x80, 0x22],       // overlong NUL
            [0x22, 0xE0, 0x80, 0x80, 0x22], // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22], // encoded surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], // above U+10FFFF
            [0x22, 0xFF, 0x22],
            [0x22, 0x80, 0x22],
        ]
        for bytes in bad {
            #expect(parseError(bytes: bytes)?.reason == .invalidUTF8, "\(bytes)")
            #expect(parseError(bytes: bytes, .hujson)?.reason == .invalidUTF8, "\(bytes)")
        }
        // Invalid UTF-8 inside a HuJSON comment is rejected too.
        #expect(parseError(bytes: Array("// ".utf8) + [0xFF] + Array("\n1".utf8), .hujson)?.reason == .invalidUTF8)
    }

    @Test func controlCharactersInStringsRejected() {
        for byte in [UInt8(0), 0x09, 0x0A, 0x1F] {
            #expect(parseError(bytes: [0x22, byte, 0x22])?.reason == .controlCharacterInString)
        }
        // DEL is not a control character for JSON.
        #expect(parseError(bytes: [0x22, 0x7F, 0x22]) == nil)
    }

    @Test func badEscapes() {
        for text in [#""\a""#, #""\x41""#, #""\U0041""#, #""\'""#, "\"\\\n\""] {
            #expect(parseError(text)?.reason == .invalidEscape, "\(text)")
        }
        for text in [#""\u12""#, #""\u12G4""#, #""\u""#] {
            #expect(parseError(text)?.reason == .invalidUnicodeEscape, "\(text)")
        }
        #expect(parseError(#""abc\"#)?.reason == .unterminatedString)
        #expect(parseError(#""abc"#)?.reason == .unterminatedString)
    }

    @Test func badLiteralsAndNumbers() {
        for text in ["NaN", "Infinity", "True", "nul", "nulll", "undefined", "truex"] {
            #expect(parseError(text)?.reason == .invalidLiteral, "\(text)")
        }
        let numbers: [(String, JSONError.Reason)] = [
            ("01", .invalidNumber("leading zeros are not allowed")),
            ("-01", .invalidNumber("leading zeros are not allowed")),
            ("-", .invalidNumber("expected a digit after '-'")),
            ("-Infinity", .invalidNumber("expected a digit after '-'")),
            ("1.", .invalidNumber("expected a digit after '.'")),
            ("1.e5", .invalidNumber("expected a digit after '.'")),
            ("1e", .invalidNumber("expected a digit in the exponent")),
            ("1e+", .invalidNumber("expected a digit in the exponent")),
            ("+1", .expected("expected a value")),
            (".5", .expected("expected a value")),
            ("0x10", .expected("expected end of input after the value")),
            ("1.5.3", .expected("expected end of input after the value")),
        ]
        for (text, reason) in numbers {
            #expect(parseError(text)?.reason == reason, "\(text)")
        }
    }

    @Test func bigIntegersStayExact() throws {
        #expect(try strict("9223372036854775807").int64 == Int64.max)
        #expect(try strict("-9223372036854775808").int64 == Int64.min)
        let beyond = try strict("9223372036854775808")
        #expect(beyond.int64 == nil)
        #expect(beyond.number?.text == "9223372036854775808")
        #expect(beyond.uint64 == 9_223_372_036_854_775_808)
        #expect(beyond.compactText == "9223372036854775808")
        let below = try strict("-9223372036854775809")
        #expect(below.int64 == nil)
        #expect(below.compactText == "-9223372036854775809")
        let huge = "123456789012345678901234567890123456789"
        #expect(try strict(huge).compactText == huge)
        #expect(try strict("18446744073709551616").uint64 == nil)
    }

    @Test func nonIntegersKeepTheirText() throws {
        for text in ["1.0", "1e3", "-0", "-0.0", "0E-0", "1.25E+10", "-3.14159"] {
            let value = try strict(text)
            #expect(value.int64 == nil, "\(text)")
            #expect(value.compactText == text)
        }
        #expect(try strict("-0").double?.sign == .minus)
        #expect(try strict("12.5e3").double == 12500)
    }

    @Test func depthLimit() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        }
        func nestedObject(_ depth: Int) -> String {
            String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        }
        #expect(parseError(nested(64)) == nil)
        #expect(parseError(nestedObject(64)) == nil)
        let error = parseError(nested(65))
        #expect(error?.reason == .tooDeep(limit: 64))
        #expect(error?.column == 65)
        #expect(parseError(nestedObject(65))?.reason == .tooDeep(limit: 64))
        #expect(parseError(nested(100_000))?.reason == .tooDeep(limit: 64))
        #expect(parseError(nested(3), JSONParser.Options(maxDepth: 3)) == nil)
        #expect(parseError(nested(4), JSONParser.Options(maxDepth: 3))?.reason == .tooDeep(limit: 3))
        #expect(parseError("1", JSONParser.Options(maxDepth: 0)) == nil)
        #expect(parseError("[]", JSONParser.Options(maxDepth: 0))?.reason == .tooDeep(limit: 0))
    }

    @Test func inputSizeLimit() {
        let options = JSONParser.Options(maxInputSize: 10)
        #expect(parseError("[1,2,3,4]", options) == nil)
        #expect(parseError("[1,2,3,4,5]", options)?.reason == .inputTooLarge(limit: 10))
        #expect(parseError(bytes: Array("[1,2,3,4,5]".utf8), options)?.reason == .inputTooLarge(limit: 10))
        let bytes = Array("[1,2,3,4,5]".utf8)
        let error = bytes.withUnsafeBytes { buffer -> JSONError? in
            do {
                _ = try JSONParser.parse(buffer, options: options)
                return nil
            } catch {
                return error as? JSONError
            }
        }
        #expect(error?.reason == .inputTooLarge(limit: 10))
    }

    @Test func duplicateKeysRejected() {
        let error = parseError(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(error?.reason == .duplicateKey("a"))
        #expect(error?.column == 18)
        #expect(parseError(#"{"a": 1, "b": 2, "a": 3}"#, .hujson)?.reason == .duplicateKey("a"))
        // The same key spelled with an escape is the same key.
        #expect(parseError(#"{"a": 1, "\u0061": 2}"#)?.reason == .duplicateKey("a"))
        // Keys differing only in case are different keys.
        #expect(parseError(#"{"a": 1, "A": 2}"#) == nil)
        // Duplicates in different objects are fine.
        #expect(parseError(#"[{"a": 1}, {"a": 2}]"#) == nil)
        #expect(error?.description == #"line 1, column 18: duplicate object key "a""#)
    }

    @Test func duplicateKeysRejectedInLargeObjects() throws {
        // Objects past the hash-index threshold detect duplicates too.
        let members = (0..<100).map { "\"k\($0)\": \($0)" }
        let valid = try strict("{" + members.joined(separator: ",") + "}")
        #expect(valid.count == 100)
        #expect(valid["k99"]?.int == 99)
        #expect(valid["k0"]?.int == 0)
        let error = parseError("{" + members.joined(separator: ",") + ", \"k42\": 0}")
        #expect(error?.reason == .duplicateKey("k42"))
    }

    @Test func hujsonCommentsAndTrailingCommas() throws {
        let text = """
            // Tern policy
            {
              /* groups */ "groups": {"group:eng": ["alice@example.com", "bob@example.com",],},
              "acls": [
                {"action": "accept", "src": ["*"], "dst": ["*:*"]}, // allow all
              ],
              "url": "http://example.com/*not a comment*/", // slashes in strings stay
            }
            /* end */
            """
        let value = try hujson(text)
        #expect(value.object?.keys == ["groups", "acls", "url"])
        #expect(value["groups"]?["group:eng"]?.array?.count == 2)
        #expect(value["acls"]?[0]?["dst"]?[0]?.string == "*:*")
        #expect(value["url"]?.string == "http://example.com/*not a comment*/")
        #expect(parseError(text)?.reason == .commentNotAllowed)
        #expect(try hujson("[1,2,]") == [1, 2])
        #expect(try hujson("[1 /* a */ , /* b */ 2 // c\n]") == [1, 2])
        #expect(try hujson("1 // no newline at end") == 1)
        #expect(try hujson("\u{FEFF}{\"a\":1}") == ["a": 1])
        #expect(parseError("\u{FEFF}{\"a\":1}")?.reason == .expected("expected a value"))
        #expect(parseError("[1,2,]")?.reason == .trailingCommaNotAllowed)
        #expect(parseError(#"{"a":1,}"#)?.reason == .trailingCommaNotAllowed)
        #expect(parseError("[1,2,]")?.column == 5)
        // Only one trailing comma, never a leading or doubled one.
        #expect(parseError("[1,,]", .hujson)?.reason == .expected("expected a value"))
        #expect(parseError("[,]", .hujson)?.reason == .expected("expected a value"))
        #expect(parseError("{,}", .hujson)?.reason == .expected("expected a string key"))
        #expect(parseError("[1] /* open", .hujson)?.reason == .unterminatedComment)
        #expect(parseError("[1] / 2", .hujson)?.reason == .unterminatedComment)
        #expect(parseError("/**/", .hujson)?.reason == .unexpectedEnd(expected: "expected a value"))
        #expect(try hujson("/**/ 7 /***/") == 7)
    }

    @Test func unusualButValidDocuments() throws {
        #expect(try strict(#"{"":""}"#) == ["": ""])
        #expect(try strict(#"["\u0000"]"#) == ["\u{0}"])
        #expect(try strict("\"\u{7F}\"") == "\u{7F}")
        #expect(try strict(" [ 1 , [ ] , { } ] ") == [1, [], .object(JSONObject())])
        #expect(try strict(#"{"a":{"a":{"a":[]}}}"#)["a"]?["a"]?["a"] == [])
    }
}
