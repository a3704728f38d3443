import Bytes
import Foundation
import Testing
import TestSupport

@Suite("Base64")
struct Base64Tests {
    /// RFC 4648 §10.
    static let rfc4648: [(plain: String, encoded: String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    // The RFC 4648 §10 vectors encode to the published text.
    @Test(arguments: rfc4648)
    func encodesRFC4648Vector(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
    }

    // The RFC 4648 §10 vectors decode back, with both decoders.
    @Test(arguments: rfc4648)
    func decodesRFC4648Vector(plain: String, encoded: String) throws {
        #expect(try Base64.decode(encoded) == Array(plain.utf8))
        var out = [UInt8](repeating: 0xEE, count: plain.utf8.count)
        try out.withUnsafeMutableBytes { try Base64.decode(encoded, into: $0) }
        #expect(out == Array(plain.utf8))
    }

    // Encoding agrees with Foundation for random bytes of every length 0...100, and decodes back.
    @Test func roundTripsAgainstFoundation() throws {
        var generator = SplitMix64(seed: 0xB64)
        for length in 0...100 {
            let bytes = randomBytes(length, using: &generator)
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString(), "length \(length)")
            #expect(text.utf8.count == Base64.encodedLength(of: length))
            #expect(try Base64.decode(text) == bytes, "length \(length)")

            var out = [UInt8](repeating: 0xEE, count: length)
            try out.withUnsafeMutableBytes { try Base64.decode(text, into: $0) }
            #expect(out == bytes, "decode(_:into:) length \(length)")
        }
    }

    // The encoded length is 4 characters per started 3-byte group.
    @Test func encodedLength() {
        #expect([0, 1, 2, 3, 4, 31, 32, 33].map(Base64.encodedLength(of:)) == [0, 4, 4, 4, 8, 44, 44, 44])
    }

    // Text without its padding has the wrong length.
    @Test(arguments: [("Zg", 4), ("Zm8", 4), ("Zm9vYg", 8), ("Zm9vYmE", 8), ("Zg=", 4)])
    func rejectsMissingPadding(text: String, expected: Int) {
        #expect(throws: EncodingError.wrongLength(expected: expected, actual: text.utf8.count)) {
            try Base64.decode(text)
        }
    }

    // Unpadded text is also the wrong length for a buffer of the plain size.
    @Test func rejectsMissingPaddingForBuffer() {
        var out = [UInt8](repeating: 0, count: 1)
        #expect(throws: EncodingError.wrongLength(expected: 4, actual: 2)) {
            try out.withUnsafeMutableBytes { try Base64.decode("Zg", into: $0) }
        }
    }

    // `=` before the last group, or between symbols, is invalid padding.
    @Test(arguments: ["Zg==Zm9v", "Zm=vYmFy", "Z=g=", "=Zg=", "Zm8=Zm8=", "A=AA", "Zg=A"])
    func rejectsPaddingInTheMiddle(text: String) {
        #expect(throws: EncodingError.invalidPadding) { try Base64.decode(text) }
    }

    // More `=` than the length needs is rejected (length or padding error, never a trap).
    @Test func rejectsTooMuchPadding() {
        #expect(throws: EncodingError.wrongLength(expected: 8, actual: 5)) { try Base64.decode("Zg===") }
        for text in ["Z===", "====", "Zg======", "Zm9v===="] {
            #expect(throws: EncodingError.invalidPadding, "\(text)") { try Base64.decode(text) }
        }
        // Correct spelling of two bytes, decoded where one byte was expected, and vice versa.
        var one = [UInt8](repeating: 0, count: 1)
        #expect(throws: EncodingError.invalidPadding) {
            try one.withUnsafeMutableBytes { try Base64.decode("Zm8=", into: $0) }
        }
        var two = [UInt8](repeating: 0, count: 2)
        #expect(throws: EncodingError.invalidPadding) {
            try two.withUnsafeMutableBytes { try Base64.decode("Zg==", into: $0) }
        }
        #expect(throws: EncodingError.invalidPadding) {
            try two.withUnsafeMutableBytes { try Base64.decode("Zm9v", into: $0) }
        }
    }

    // "Zh==" has non-zero unused bits; only "Zg==" spells "f".
    @Test func rejectsNonCanonicalTrailingBits() throws {
        #expect(throws: EncodingError.invalidPadding) { try Base64.decode("Zh==") }
        #expect(throws: EncodingError.invalidPadding) { try Base64.decode("Zm9=") }
        #expect(throws: EncodingError.invalidPadding) { try Base64.decode("Zm9vYh==") }
        #expect(try Base64.decode("Zg==") == Array("f".utf8))
    }

    // Exhaustively: of the 64 symbols ending a one-byte group, exactly the 16 with
    // zero low 4 bits decode; of those ending a two-byte group, exactly the 16 with zero low 2 bits.
    @Test func acceptsExactlyTheCanonicalLastSymbols() throws {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        for (value, symbol) in alphabet.enumerated() {
            let oneByte = "Z" + String(symbol) + "=="
            if value & 0x0F == 0 {
                #expect(try Base64.decode(oneByte) == [UInt8(25 << 2 | value >> 4)], "\(oneByte)")
            } else {
                #expect(throws: EncodingError.invalidPadding, "\(oneByte)") { try Base64.decode(oneByte) }
            }
            let twoBytes = "Zm" + String(symbol) + "="
            if value & 0x03 == 0 {
                #expect(try Base64.decode(twoBytes) == [0x66, UInt8(38 << 4 & 0xF0 | value >> 2)], "\(twoBytes)")
            } else {
                #expect(throws: EncodingError.invalidPadding, "\(twoBytes)") { try Base64.decode(twoBytes) }
            }
        }
    }

    // A character outside the standard alphabet is reported at its byte offset.
    @Test(arguments: [
        ("Zm9!", 3), ("-_8=", 0), ("Zm9v_m8=", 4), ("Zm9vYmF\u{7f}", 7), ("Zg\u{e9}", 2), ("Zm.v", 2),
    ])
    func rejectsInvalidCharacter(text: String, offset: Int) {
        #expect(throws: EncodingError.invalidCharacter(offset: offset)) { try Base64.decode(text) }
    }

    // Whitespace anywhere is not skipped: it is a bad character or a wrong length.
    @Test func rejectsWhitespace() {
        #expect(throws: EncodingError.invalidCharacter(offset: 0)) { try Base64.decode(" Zm9") }
        #expect(throws: EncodingError.invalidCharacter(offset: 2)) { try Base64.decode("Zm 9") }
        #expect(throws: EncodingError.invalidCharacter(offset: 3)) { try Base64.decode("Zm9\t") }
        #expect(throws: EncodingError.invalidCharacter(offset: 4)) { try Base64.decode("Zm9v\r\nZm") }
        #expect(throws: EncodingError.wrongLength(expected: 8, actual: 5)) { try Base64.decode("Zm9v\n") }
        #expect(throws: EncodingError.wrongLength(expected: 12, actual: 9)) { try Base64.decode("Zm9v Zm9v") }
    }

    // decode(_:into:) insists on exactly the padded length of the buffer.
    @Test(arguments: [(32, 43), (32, 45), (32, 0), (0, 4), (3, 8)])
    func rejectsWrongLengthForBuffer(byteCount: Int, characters: Int) {
        let text = String(repeating: "A", count: characters)
        var out = [UInt8](repeating: 0, count: byteCount)
        #expect(throws: EncodingError.wrongLength(expected: Base64.encodedLength(of: byteCount), actual: characters)) {
            try out.withUnsafeMutableBytes { try Base64.decode(text, into: $0) }
        }
    }
}
