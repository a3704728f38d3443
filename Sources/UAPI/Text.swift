// Byte-level helpers for the line protocol: matching keys, parsing and
// printing decimal numbers, hex keys. They work on [UInt8] with index ranges
// so nothing here needs Foundation, Unicode tables or unsafe pointers.

import TernCrypto

extension Array where Element == UInt8 {
    /// True if `self[range]` is exactly the bytes of `literal`.
    func matches(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let start = literal.utf8Start
        var i = 0
        for index in range {
            if self[index] != start[i] { return false }
            i += 1
        }
        return true
    }

    /// The first index in `range` holding `byte`, or nil.
    func firstIndex(of byte: UInt8, in range: Range<Int>) -> Int? {
        for index in range where self[index] == byte { return index }
        return nil
    }

    /// `self[range]` as a String (invalid UTF-8 is replaced, which no valid
    /// value contains anyway).
    func string(_ range: Range<Int>) -> String {
        String(decoding: self[range], as: UTF8.self)
    }

    /// Parses `self[range]` as an unsigned decimal number no larger than
    /// `maximum`, the way Go's `strconv.ParseUint(s, 10, bits)` does: at least
    /// one digit, digits only (no sign, no spaces, no underscores), leading
    /// zeros allowed. Nil if it does not parse.
    func decimal(_ range: Range<Int>, maximum: UInt64) -> UInt64? {
        guard !range.isEmpty else { return nil }
        var value: UInt64 = 0
        for index in range {
            let byte = self[index]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 || sum > maximum { return nil }
            value = sum
        }
        return value
    }

    /// Appends the bytes of `literal`.
    mutating func append(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends the UTF-8 bytes of `text`.
    mutating func append(text: String) {
        append(contentsOf: text.utf8)
    }

    /// Appends `value` in decimal without leading zeros.
    mutating func appendDecimal(_ value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value / divisor % 10))
            divisor /= 10
        }
    }

    /// Appends `value` in decimal, with a "-" if negative.
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude)
    }

    /// Appends the 64 lowercase hex digits of a key, as the UAPI spells keys.
    mutating func appendHex<K: Key32>(_ key: K) {
        let digits: StaticString = "0123456789abcdef"
        let digit = digits.utf8Start
        let bytes = key.bytes
        for i in 0..<32 {
            append(digit[Int(bytes[i] >> 4)])
            append(digit[Int(bytes[i] & 0x0f)])
        }
    }

    /// Appends `key=` + `value` + "\n".
    mutating func appendLine(_ key: StaticString, decimal value: UInt64) {
        append(key)
        append(UInt8(ascii: "="))
        appendDecimal(value)
        append(UInt8(ascii: "\n"))
    }
}
