/// Number grammar and conversions, all without Foundation.
///
/// - `scan` checks the RFC 8259 number grammar on bytes;
/// - `int64` / `uint64` convert integer text exactly (or report that it does not fit);
/// - `double` converts decimal text to `Double` (see its precision note);
/// - `decimal` prints integers.
enum NumberText {
    /// The result of scanning a number.
    enum Scan: Equatable {
        /// A well-formed number ends before `end`; `isInteger` if it has
        /// neither fraction nor exponent.
        case number(end: Int, isInteger: Bool)
        /// Malformed: why, and the byte offset to blame.
        case invalid(JSONError.Reason, at: Int)
    }

    /// Scans one number that starts at `start` (which holds `-` or a digit for
    /// a number; anything else is reported as invalid). Stops at the first
    /// byte that cannot continue the number; the caller decides whether that
    /// byte may follow a value.
    static func scan(_ bytes: [UInt8], from start: Int) -> Scan {
        var index = start
        var isInteger = true
        if index < bytes.count && bytes[index] == UInt8(ascii: "-") {
            index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else {
            return .invalid(.invalidNumber("expected a digit after '-'"), at: index)
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count && isDigit(bytes[index]) {
                return .invalid(.invalidNumber("leading zeros are not allowed"), at: index - 1)
            }
        } else {
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                return .invalid(.invalidNumber("expected a digit after '.'"), at: index)
            }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else {
                return .invalid(.invalidNumber("expected a digit in the exponent"), at: index)
            }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        return .number(end: index, isInteger: isInteger)
    }

    /// True for ASCII `0`-`9`.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    /// The `Int64` written as `-?digits` in `start..<end`, or nil if it does
    /// not fit. `-0` gives nil so that it stays text and keeps its sign.
    static func int64(_ bytes: [UInt8], from start: Int, to end: Int) -> Int64? {
        var index = start
        let negative = index < end && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < end else { return nil }
        // Accumulate negatively so that Int64.min fits.
        var value: Int64 = 0
        while index < end {
            let byte = bytes[index]
            guard isDigit(byte) else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = next
            index += 1
        }
        if negative {
            return value == 0 ? nil : value
        }
        return value == Int64.min ? nil : -value
    }

    /// The `UInt64` written as plain digits (no sign), or nil.
    static func uint64(_ bytes: [UInt8]) -> UInt64? {
        guard !bytes.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard isDigit(byte) else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = next
        }
        return value
    }

    /// Decimal text of `value`.
    static func decimal(_ value: Int64) -> String {
        var out: [UInt8] = []
        appendDecimal(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decimal text of `value`.
    static func decimal(_ value: UInt64) -> String {
        var out: [UInt8] = []
        appendDecimal(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the decimal digits of `value` (with `-` if negative).
    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude, to: &out)
    }

    /// Appends the decimal digits of `value`.
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                count += 1
            } while rest != 0
            while count > 0 {
                count -= 1
                out.append(buffer[count])
            }
        }
    }

    /// Exact powers of ten 10^0 ... 10^22 (all representable in a `Double`).
    private static let exactPowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// 10^(2^k) for k = 0 ... 8, for binary exponentiation.
    private static let binaryPowers: [Double] = [1e1, 1e2, 1e4, 1e8, 1e16, 1e32, 1e64, 1e128, 1e256]

    /// Converts validated JSON number text to `Double`.
    ///
    /// Precision: the first 19 significant digits are collected exactly into a
    /// `UInt64` (later digits are dropped, i.e. truncated). When that
    /// significand is at most 2^53 and the decimal exponent is within ±22 the
    /// result is one correctly rounded multiplication or division by an exact
    /// power of ten, hence correctly rounded — this covers all integers up to
    /// 2^53 and everyday decimals like `0.25` or `12.5e3`. Otherwise the value
    /// is scaled by inexact powers of ten and may be off by a few units in the
    /// last place (more in the subnormal range); in particular a value within a
    /// few units of `Double.greatestFiniteMagnitude` may round to infinity.
    /// Overflow gives ±infinity, underflow ±0.
    static func double(_ bytes: [UInt8]) -> Double {
        var index = 0
        var negative = false
        if index < bytes.count && bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var significand: UInt64 = 0
        var exponent = 0
        var seenPoint = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                seenPoint = true
            } else if isDigit(byte) {
                if significand < 1_000_000_000_000_000_000 {
                    significand = significand * 10 + UInt64(byte &- UInt8(ascii: "0"))
                    if seenPoint { exponent -= 1 }
                } else if !seenPoint {
                    exponent += 1
                }
            } else {
                break
            }
            index += 1
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            index += 1
            var exponentNegative = false
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var written = 0
            while index < bytes.count && isDigit(bytes[index]) {
                if written < 100_000 { written = written * 10 + Int(bytes[index] &- UInt8(ascii: "0")) }
                index += 1
            }
            exponent += exponentNegative ? -written : written
        }
        let magnitude = scale(significand, byPowerOfTen: exponent)
        return negative ? -magnitude : magnitude
    }

    /// `significand` × 10^`exponent` as a `Double` (see `double(_:)` for precision).
    private static func scale(_ significand: UInt64, byPowerOfTen exponent: Int) -> Double {
        if significand == 0 { return 0 }
        var value = Double(significand)
        if significand <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            return exponent >= 0 ? value * exactPowers[exponent] : value / exactPowers[-exponent]
        }
        // significand < 10^20, so beyond these bounds the result is 0 or infinity.
        if exponent > 330 { return .infinity }
        if exponent < -360 { return 0 }
        var rest = exponent.magnitude
        var bit = 0
        while rest != 0 {
            if rest & 1 == 1 {
                value = exponent > 0 ? value * binaryPowers[bit] : value / binaryPowers[bit]
            }
            rest >>= 1
            bit += 1
        }
        return value
    }
}
