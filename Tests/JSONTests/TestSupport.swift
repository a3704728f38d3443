import JSON
import TestSupport

/// Parses `text` in strict mode.
func strict(_ text: String) throws(JSONError) -> JSONValue {
    try JSONParser.parse(text, options: .strict)
}

/// Parses `text` in HuJSON mode.
func hujson(_ text: String) throws(JSONError) -> JSONValue {
    try JSONParser.parse(text, options: .hujson)
}

/// The error parsing `text` throws, or nil if it parses.
func parseError(_ text: String, _ options: JSONParser.Options = .strict) -> JSONError? {
    do {
        _ = try JSONParser.parse(text, options: options)
        return nil
    } catch {
        return error
    }
}

/// The error parsing `bytes` throws, or nil if it parses.
func parseError(bytes: [UInt8], _ options: JSONParser.Options = .strict) -> JSONError? {
    do {
        _ = try JSONParser.parse(bytes, options: options)
        return nil
    } catch {
        return error
    }
}

/// Random strings drawn from an alphabet that exercises escaping: ASCII,
/// quotes, backslashes, slashes, control characters, 2/3/4-byte UTF-8.
func randomString(_ rng: inout SplitMix64, maxLength: Int = 12) -> String {
    let pool: [Unicode.Scalar] = [
        "a", "b", "z", "A", "0", "9", " ", "\"", "\\", "/", "\u{0}", "\u{1}", "\u{8}", "\u{9}",
        "\u{A}", "\u{C}", "\u{D}", "\u{1F}", "\u{7F}", "é", "ß", "€", "中", "\u{2028}", "\u{FFFD}",
        "\u{FEFF}", "😀", "\u{10FFFF}", "{", "}", "[", "]", ":", ",",
    ]
    var text = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
        text.append(pool[Int.random(in: 0..<pool.count, using: &rng)])
    }
    return String(text)
}

/// A random valid JSON number text that is not an Int64 integer.
func randomNumberText(_ rng: inout SplitMix64) -> String {
    var text = rng.chance(50) ? "-" : ""
    text += String(Int.random(in: 0...99_999, using: &rng))
    if rng.chance(70) { text += "." + String(Int.random(in: 0...999_999, using: &rng)) }
    if rng.chance(50) || !text.contains(".") {
        text += ["e", "E", "e+", "e-", "E-"][Int.random(in: 0..<5, using: &rng)]
        text += String(Int.random(in: 0...40, using: &rng))
    }
    return text
}

/// A random document with nesting up to `depth`.
func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
    let kind = Int.random(in: 0..<(depth > 0 ? 9 : 6), using: &rng)
    switch kind {
    case 0: return .null
    case 1: return .bool(rng.chance(50))
    case 2:
        let special: [Int64] = [0, 1, -1, .max, .min, 1 << 53, -(1 << 53) - 1]
        if rng.chance(20) { return .integer(special[Int.random(in: 0..<special.count, using: &rng)]) }
        return .integer(Int64.random(in: -1_000_000...1_000_000, using: &rng))
    case 3: return .number(JSONNumber(text: randomNumberText(&rng))!)
    case 4, 5: return .string(randomString(&rng))
    case 6, 7:
        var object = JSONObject()
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            object.insert(randomString(&rng, maxLength: 6), randomValue(&rng, depth: depth - 1))
        }
        return .object(object)
    default:
        return .array((0..<Int.random(in: 0...6, using: &rng)).map { _ in randomValue(&rng, depth: depth - 1) })
    }
}
