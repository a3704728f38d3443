/// UTF-8 well-formedness, per the Unicode standard's table 3-7.
enum UTF8Check {
    /// The length (1-4) of the well-formed UTF-8 sequence that starts at
    /// `index`, or nil if the bytes there are not well-formed (truncated,
    /// overlong, an encoded surrogate, or above U+10FFFF).
    static func sequenceLength(_ bytes: [UInt8], at index: Int) -> Int? {
        let lead = bytes[index]
        if lead < 0x80 { return 1 }
        var length: Int
        var secondLow: UInt8 = 0x80
        var secondHigh: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondLow = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondHigh = 0x9F
        case 0xF0: length = 4; secondLow = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondHigh = 0x8F
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        let second = bytes[index + 1]
        guard second >= secondLow && second <= secondHigh else { return nil }
        var offset = 2
        while offset < length {
            guard bytes[index + offset] & 0xC0 == 0x80 else { return nil }
            offset += 1
        }
        return length
    }

    /// Appends the UTF-8 encoding of the scalar `value` (not a surrogate, at most 0x10FFFF).
    static func append(scalar value: UInt32, to out: inout [UInt8]) {
        if value < 0x80 {
            out.append(UInt8(value))
        } else if value < 0x800 {
            out.append(0xC0 | UInt8(value >> 6))
            out.append(0x80 | UInt8(value & 0x3F))
        } else if value < 0x1_0000 {
            out.append(0xE0 | UInt8(value >> 12))
            out.append(0x80 | UInt8((value >> 6) & 0x3F))
            out.append(0x80 | UInt8(value & 0x3F))
        } else {
            out.append(0xF0 | UInt8(value >> 18))
            out.append(0x80 | UInt8((value >> 12) & 0x3F))
            out.append(0x80 | UInt8((value >> 6) & 0x3F))
            out.append(0x80 | UInt8(value & 0x3F))
        }
    }
}

extension Reader {
    /// Parses the string whose opening `"` is at the cursor and returns its
    /// decoded contents. Strings without escapes are copied straight from the
    /// input; the first escape switches to building a byte buffer.
    mutating func parseString() throws(JSONError) -> String {
        let quote = index
        index += 1
        var runStart = index
        var decoded: [UInt8] = []
        var hasEscape = false
        while true {
            guard index < bytes.count else { throw failure(.unterminatedString, at: quote) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text: String
                if hasEscape {
                    decoded.append(contentsOf: bytes[runStart..<index])
                    text = String(decoding: decoded, as: UTF8.self)
                } else {
                    text = String(decoding: bytes[runStart..<index], as: UTF8.self)
                }
                index += 1
                return text
            } else if byte == UInt8(ascii: "\\") {
                hasEscape = true
                decoded.append(contentsOf: bytes[runStart..<index])
                try parseEscape(into: &decoded, quote: quote)
                runStart = index
            } else if byte < 0x20 {
                throw failure(.controlCharacterInString, at: index)
            } else if byte < 0x80 {
                index += 1
            } else {
                guard let length = UTF8Check.sequenceLength(bytes, at: index) else {
                    throw failure(.invalidUTF8, at: index)
                }
                index += length
            }
        }
    }

    /// Decodes the escape whose backslash is at the cursor into `out` and
    /// moves past it.
    private mutating func parseEscape(into out: inout [UInt8], quote: Int) throws(JSONError) {
        let backslash = index
        guard index + 1 < bytes.count else { throw failure(.unterminatedString, at: quote) }
        let letter = bytes[index + 1]
        index += 2
        switch letter {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: index) else { throw failure(.invalidUnicodeEscape, at: backslash) }
            index += 4
            var scalar = UInt32(unit)
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw failure(.unpairedSurrogate, at: backslash)
            }
            if unit >= 0xD800 && unit <= 0xDBFF {
                // A high surrogate must be followed immediately by \u and a low surrogate.
                guard index + 1 < bytes.count,
                      bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw failure(.unpairedSurrogate, at: backslash)
                }
                guard let low = hex4(at: index + 2) else { throw failure(.invalidUnicodeEscape, at: index) }
                guard low >= 0xDC00 && low <= 0xDFFF else { throw failure(.unpairedSurrogate, at: backslash) }
                index += 6
                scalar = 0x1_0000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            }
            UTF8Check.append(scalar: scalar, to: &out)
        default:
            throw failure(.invalidEscape, at: backslash)
        }
    }

    /// The value of four hexadecimal digits at `offset`, or nil.
    private func hex4(at offset: Int) -> UInt16? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        var position = offset
        while position < offset + 4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }
}
