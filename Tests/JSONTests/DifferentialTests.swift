import Foundation
import JSON
import Testing
import TestSupport

/// Compares this parser and serializer with Foundation's JSONSerialization.
@Suite struct DifferentialTests {
    /// Records an issue unless Foundation's parsed object `other` has the
    /// same structure as `value`.
    func same(_ value: JSONValue, _ other: Any, path: String = "$") -> Bool {
        switch value {
        case .null:
            return other is NSNull
        case .bool(let flag):
            guard let number = other as? NSNumber else { return false }
            return number.boolValue == flag
        case .number(let number):
            guard let otherNumber = other as? NSNumber else { return false }
            if let integer = number.int64 {
                return otherNumber.int64Value == integer
            }
            let mine = number.double
            let theirs = otherNumber.doubleValue
            if mine == theirs { return true }
            return abs(mine - theirs) <= abs(theirs) * 1e-14
        case .string(let text):
            return (other as? String) == text
        case .array(let elements):
            guard let array = other as? [Any], array.count == elements.count else { return false }
            return zip(elements, array).allSatisfy { same($0, $1) }
        case .object(let object):
            guard let dictionary = other as? [String: Any], dictionary.count == object.count else { return false }
            return object.members.allSatisfy { member in
                guard let theirs = dictionary[member.key] else { return false }
                return same(member.value, theirs)
            }
        }
    }

    @Test func foundationParsesOurOutput() throws {
        var rng = SplitMix64(seed: 2024)
        for round in 0..<3000 {
            let value = withoutByteOrderMarks(randomValue(&rng, depth: 5))
            let style: JSONSerializer.Style = round % 2 == 0 ? .compact : .pretty
            let data = Data(JSONSerializer.bytes(value, style: style))
            let parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            #expect(same(value, parsed), "\(value.compactText)")
        }
    }

    /// `value` with every U+FEFF removed from strings and keys:
    /// swift-corelibs-foundation drops a U+FEFF at the start of a parsed
    /// string (it takes it for a byte order mark), so such strings cannot be
    /// compared.
    func withoutByteOrderMarks(_ value: JSONValue) -> JSONValue {
        func clean(_ text: String) -> String {
            String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\u{FEFF}" }))
        }
        switch value {
        case .string(let text):
            return .string(clean(text))
        case .array(let elements):
            return .array(elements.map(withoutByteOrderMarks))
        case .object(let object):
            var cleaned = JSONObject()
            for member in object.members {
                cleaned.insert(clean(member.key), withoutByteOrderMarks(member.value))
            }
            return .object(cleaned)
        default:
            return value
        }
    }

    /// A random Foundation JSON object.
    func randomFoundationObject(_ rng: inout SplitMix64, depth: Int) -> Any {
        switch Int.random(in: 0..<(depth > 0 ? 9 : 6), using: &rng) {
        case 0: return NSNull()
        case 1: return rng.chance(50)
        case 2: return Int.random(in: Int.min...Int.max, using: &rng) >> Int.random(in: 0...63, using: &rng)
        case 3:
            return Double(Int.random(in: -100_000...100_000, using: &rng)) / Double([1, 10, 1000, 3, 7][Int.random(in: 0..<5, using: &rng)])
        case 4, 5: return randomString(&rng)
        case 6, 7:
            var dictionary: [String: Any] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                dictionary[randomString(&rng, maxLength: 6)] = randomFoundationObject(&rng, depth: depth - 1)
            }
            return dictionary
        default:
            return (0..<Int.random(in: 0...6, using: &rng)).map { _ in randomFoundationObject(&rng, depth: depth - 1) }
        }
    }

    @Test func weParseFoundationOutput() throws {
        var rng = SplitMix64(seed: 99)
        for round in 0..<3000 {
            let object = randomFoundationObject(&rng, depth: 5)
            var options: JSONSerialization.WritingOptions = [.fragmentsAllowed]
            if round % 2 == 1 { options.insert(.prettyPrinted) }
            if round % 3 == 0 { options.insert(.sortedKeys) }
            let data = try JSONSerialization.data(withJSONObject: object, options: options)
            do {
                let value = try JSONParser.parse([UInt8](data))
                #expect(same(value, object), "\(String(decoding: data, as: UTF8.self))")
            } catch {
                Issue.record("\(error) in \(String(decoding: data, as: UTF8.self))")
            }
        }
    }

    /// Inputs both parsers must reject (Foundation is lenient elsewhere, so
    /// only agreed-invalid cases are compared).
    @Test func bothRejectMalformedText() {
        // (Foundation on Linux accepts trailing commas, so those are not here.)
        let bad = ["01", "[1 2]", "\"\\x\"", "[\"a\u{1}\"]", "{\"a\" 1}", "NaN", "[", "1.", "-"]
        for text in bad {
            #expect(parseError(text) != nil, "\(text)")
            let foundation = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            #expect(foundation == nil, "Foundation accepted \(text)")
        }
    }
}
