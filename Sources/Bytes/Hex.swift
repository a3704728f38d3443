/// Lowercase hexadecimal, as the WireGuard configuration protocol (UAPI) uses for keys.
public enum Hex {
    /// The lowercase hex spelling of `bytes`.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            digits.withUTF8Buffer { digit in
                for (i, byte) in bytes.enumerated() {
                    out[2 * i] = digit[Int(byte >> 4)]
                    out[2 * i + 1] = digit[Int(byte & 0x0f)]
                }
            }
            return bytes.count * 2
        }
    }

    /// The lowercase hex spelling of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Decodes exactly `output.count` bytes from `text` (upper- or lowercase digits).
    ///
    /// On error `output` may be partly written; callers decode into scratch space.
    public static func decode(_ text: String, into output: UnsafeMutableRawBufferPointer) throws(EncodingError) {
        var text = text
        try text.withUTF8 { utf8 in Result { () throws(EncodingError) in try decode(utf8: utf8, into: output) } }.get()
    }

    private static func decode(
        utf8: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableRawBufferPointer
    ) throws(EncodingError) {
        guard utf8.count == output.count * 2 else {
            throw .wrongLength(expected: output.count * 2, actual: utf8.count)
        }
        for i in 0..<output.count {
            guard let high = value(of: utf8[2 * i]) else { throw .invalidCharacter(offset: 2 * i) }
            guard let low = value(of: utf8[2 * i + 1]) else { throw .invalidCharacter(offset: 2 * i + 1) }
            output[i] = high << 4 | low
        }
    }

    /// Decodes any even-length hex text.
    public static func decode(_ text: String) throws(EncodingError) -> [UInt8] {
        let count = text.utf8.count
        guard count % 2 == 0 else { throw .wrongLength(expected: count + 1, actual: count) }
        var bytes = [UInt8](repeating: 0, count: count / 2)
        try bytes.withUnsafeMutableBytes { out in Result { () throws(EncodingError) in try decode(text, into: out) } }.get()
        return bytes
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
