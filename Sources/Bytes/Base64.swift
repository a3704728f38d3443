/// Standard base64 (RFC 4648 §4) with `=` padding, as `wg` configuration files use for keys.
///
/// Decoding is strict: padding is required, and the unused bits of the last
/// character must be zero, so every byte string has exactly one spelling.
public enum Base64 {
    private static let alphabet: StaticString =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// The number of characters that encode `byteCount` bytes.
    public static func encodedLength(of byteCount: Int) -> Int { (byteCount + 2) / 3 * 4 }

    /// The padded base64 spelling of `bytes`.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let length = encodedLength(of: bytes.count)
        return String(unsafeUninitializedCapacity: length) { out in
            alphabet.withUTF8Buffer { symbol in
                var o = 0
                var i = 0
                while i < bytes.count {
                    let remaining = bytes.count - i
                    let b0 = UInt32(bytes[i])
                    let b1 = remaining > 1 ? UInt32(bytes[i + 1]) : 0
                    let b2 = remaining > 2 ? UInt32(bytes[i + 2]) : 0
                    let group = b0 << 16 | b1 << 8 | b2
                    out[o] = symbol[Int(group >> 18 & 63)]
                    out[o + 1] = symbol[Int(group >> 12 & 63)]
                    out[o + 2] = remaining > 1 ? symbol[Int(group >> 6 & 63)] : UInt8(ascii: "=")
                    out[o + 3] = remaining > 2 ? symbol[Int(group & 63)] : UInt8(ascii: "=")
                    o += 4
                    i += 3
                }
            }
            return length
        }
    }

    /// The padded base64 spelling of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Decodes `text` into exactly `output.count` bytes.
    ///
    /// On error `output` may be partly written; callers decode into scratch space.
    public static func decode(_ text: String, into output: UnsafeMutableRawBufferPointer) throws(EncodingError) {
        var text = text
        try text.withUTF8 { utf8 in Result { () throws(EncodingError) in try decode(utf8: utf8, into: output) } }.get()
    }

    private static func decode(
        utf8: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableRawBufferPointer
    ) throws(EncodingError) {
        let expected = encodedLength(of: output.count)
        guard utf8.count == expected else { throw .wrongLength(expected: expected, actual: utf8.count) }
        var o = 0
        var i = 0
        while i < utf8.count {
            var group: UInt32 = 0
            var symbols = 0
            for j in 0..<4 {
                let character = utf8[i + j]
                if character == UInt8(ascii: "=") {
                    // Padding only in the last group, only at its end, and exactly as much as needed.
                    let padding = 4 - j
                    guard i + 4 == utf8.count, padding == (3 - output.count % 3) % 3 else { throw .invalidPadding }
                    for k in j..<4 where utf8[i + k] != UInt8(ascii: "=") { throw .invalidPadding }
                    break
                }
                guard let value = value(of: character) else { throw .invalidCharacter(offset: i + j) }
                group |= UInt32(value) << (18 - 6 * UInt32(j))
                symbols += 1
            }
            let produced = symbols - 1
            guard produced >= 1, o + produced <= output.count else { throw .invalidPadding }
            // Non-canonical: bits below the last produced byte must be zero.
            guard group & (0xFF_FFFF >> (8 * UInt32(produced))) == 0 else { throw .invalidPadding }
            for k in 0..<produced { output[o + k] = UInt8(truncatingIfNeeded: group >> (16 - 8 * UInt32(k))) }
            o += produced
            i += 4
        }
        guard o == output.count else { throw .invalidPadding }
    }

    /// Decodes any padded base64 text.
    public static func decode(_ text: String) throws(EncodingError) -> [UInt8] {
        let count = text.utf8.count
        guard count % 4 == 0 else { throw .wrongLength(expected: (count / 4 + 1) * 4, actual: count) }
        var padding = 0
        for character in text.utf8.reversed().prefix(2) where character == UInt8(ascii: "=") { padding += 1 }
        var bytes = [UInt8](repeating: 0, count: count / 4 * 3 - padding)
        try bytes.withUnsafeMutableBytes { out in Result { () throws(EncodingError) in try decode(text, into: out) } }.get()
        return bytes
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
