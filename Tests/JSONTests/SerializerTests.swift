import JSON
import Testing
import TestSupport

@Suite struct SerializerTests {
    static let sample: JSONValue = [
        "type": "register",
        "version": 1,
        "ok": true,
        "none": nil,
        "list": [1, -2, "x", [], .emptyObject],
        "nested": ["b": 2, "a": 1],
    ]

    @Test func compactOutput() {
        #expect(Self.sample.compactText
            == #"{"type":"register","version":1,"ok":true,"none":null,"list":[1,-2,"x",[],{}],"nested":{"b":2,"a":1}}"#)
        #expect(JSONValue.array([]).compactText == "[]")
        #expect(JSONValue.integer(.min).compactText == "-9223372036854775808")
        #expect(JSONValue.integer(.max).compactText == "9223372036854775807")
    }

    @Test func prettyOutput() {
        let expected = """
            {
              "type": "register",
              "version": 1,
              "ok": true,
              "none": null,
              "list": [
                1,
                -2,
                "x",
                [],
                {}
              ],
              "nested": {
                "b": 2,
                "a": 1
              }
            }
            """
        #expect(Self.sample.prettyText == expected)
        #expect(JSONValue.string("a").prettyText == "\"a\"")
    }

    @Test func escaping() {
        let value = JSONValue.string("q\" b\\ s/ \u{0}\u{1}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1B}\u{1F} \u{7F} é 😀 \u{2028}")
        #expect(value.compactText
            == "\"q\\\" b\\\\ s/ \\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001b\\u001f \u{7F} é 😀 \u{2028}\"")
        #expect(JSONSerializer.quoted("a\"b") == #""a\"b""#)
        // Keys are escaped the same way.
        let object: JSONValue = ["k\n\"": 1]
        #expect(object.compactText == #"{"k\n\"":1}"#)
    }

    @Test func bytesAndWriteAgree() {
        var out: [UInt8] = Array("x=".utf8)
        JSONSerializer.write(Self.sample, to: &out)
        #expect(out == Array("x=".utf8) + JSONSerializer.bytes(Self.sample))
        #expect(String(decoding: JSONSerializer.bytes(Self.sample, style: .pretty), as: UTF8.self) == Self.sample.prettyText)
    }

    @Test func roundTripsOfRandomDocuments() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let value = randomValue(&rng, depth: 4)
            let compact = value.compactText
            let pretty = value.prettyText
            #expect(try strict(compact) == value, "\(compact)")
            #expect(try strict(pretty) == value, "\(pretty)")
            #expect(try hujson(pretty) == value)
            // Printing is deterministic and idempotent.
            #expect(try strict(compact).compactText == compact)
        }
    }

    @Test func textRoundTripIsExact() throws {
        let texts = [
            #"{"b":[1,2.50,-0,1E+3,"\u00e9"],"a":{"":null}}"#,
            "[9223372036854775807,-9223372036854775808,99999999999999999999999]",
            #"["\ud83d\ude00","\/"]"#,
        ]
        let expected = [
            #"{"b":[1,2.50,-0,1E+3,"é"],"a":{"":null}}"#,
            "[9223372036854775807,-9223372036854775808,99999999999999999999999]",
            #"["😀","/"]"#,
        ]
        for (text, output) in zip(texts, expected) {
            #expect(try strict(text).compactText == output)
        }
    }
}
