import Bytes
import Foundation
import Testing
import TestSupport

@Suite("Hex")
struct HexTests {
    // Every byte value encodes to the two lowercase digits Foundation's %02x gives.
    @Test func encodesEveryByteValue() {
        let all = (0...255).map { UInt8($0) }
        let expected = all.map { String(format: "%02x", $0) }.joined()
        #expect(Hex.encode(all) == expected)
    }

    // A fixed value encodes to the spelling written by hand.
    @Test func encodesKnownValue() {
        #expect(Hex.encode([0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]) == "00017f80abff")
        #expect(Hex.encode([]) == "")
    }

    // encode then decode returns the original bytes for every length 0...100.
    @Test func roundTripsRandomBytes() throws {
        var generator = SplitMix64(seed: 0x4845_5801)
        for length in 0...100 {
            let bytes = randomBytes(length, using: &generator)
            let text = Hex.encode(bytes)
            #expect(text.utf8.count == 2 * length)
            #expect(text == text.lowercased())
            #expect(try Hex.decode(text) == bytes, "length \(length)")

            var out = [UInt8](repeating: 0xEE, count: length)
            try out.withUnsafeMutableBytes { try Hex.decode(text, into: $0) }
            #expect(out == bytes, "decode(_:into:) length \(length)")
        }
    }

    // Uppercase and mixed-case digits decode to the same bytes as lowercase.
    @Test func acceptsUppercase() throws {
        #expect(try Hex.decode("00017F80ABFF") == [0x00, 0x01, 0x7f, 0x80, 0xab, 0xff])
        #expect(try Hex.decode("aBcDeF") == [0xab, 0xcd, 0xef])
        #expect(try Hex.decode("ABCDEF") == Hex.decode("abcdef"))
    }

    // An odd number of characters is a wrong length, never a trap.
    @Test(arguments: ["0", "abc", "00112"])
    func rejectsOddLength(text: String) {
        let count = text.utf8.count
        #expect(throws: EncodingError.wrongLength(expected: count + 1, actual: count)) {
            try Hex.decode(text)
        }
    }

    // A character outside 0-9a-fA-F is reported at its byte offset.
    @Test(arguments: [
        ("g0", 0), ("0g", 1), ("00zz", 2), ("abc ", 3), (" abc", 0), ("0x12", 1),
        ("ab-d", 2), ("abcdefgh", 6), ("12\n4", 2), ("\u{e9}\u{e9}", 0), ("00\u{7f}1", 2),
    ])
    func rejectsBadCharacter(text: String, offset: Int) {
        #expect(throws: EncodingError.invalidCharacter(offset: offset)) { try Hex.decode(text) }
        var out = [UInt8](repeating: 0, count: text.utf8.count / 2)
        #expect(throws: EncodingError.invalidCharacter(offset: offset)) {
            try out.withUnsafeMutableBytes { try Hex.decode(text, into: $0) }
        }
    }

    // decode(_:into:) insists on exactly 2 × output.count characters.
    @Test(arguments: [(4, "abcdef"), (4, "0011223344"), (4, ""), (0, "00"), (32, String(repeating: "a", count: 63)),
                      (32, String(repeating: "a", count: 65))])
    func rejectsWrongLengthForBuffer(byteCount: Int, text: String) {
        var out = [UInt8](repeating: 0, count: byteCount)
        #expect(throws: EncodingError.wrongLength(expected: 2 * byteCount, actual: text.utf8.count)) {
            try out.withUnsafeMutableBytes { try Hex.decode(text, into: $0) }
        }
    }

    // An empty string decodes to nothing, both ways.
    @Test func decodesEmpty() throws {
        #expect(try Hex.decode("") == [])
        var out = [UInt8]()
        try out.withUnsafeMutableBytes { try Hex.decode("", into: $0) }
    }
}
