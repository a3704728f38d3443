// Small helpers shared by the parsers and printers of this module. They work on
// raw UTF-8 bytes so that nothing here needs Unicode tables or Foundation.

/// Runs `body` over the UTF-8 bytes of `text` (contiguous, without copying a
/// native string).
func withUTF8<T>(
    of text: String, _ body: (UnsafeBufferPointer<UInt8>) throws(IPParseError) -> T
) throws(IPParseError) -> T {
    var text = text
    // withUTF8 rethrows untyped errors; Result carries the typed one across.
    return try text.withUTF8 { utf8 in Result { () throws(IPParseError) in try body(utf8) } }.get()
}

/// The value of an ASCII decimal digit, or nil.
@inline(__always)
func decimalDigit(_ byte: UInt8) -> UInt32? {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? UInt32(byte - UInt8(ascii: "0")) : nil
}

/// The value of an ASCII hexadecimal digit (either case), or nil.
@inline(__always)
func hexDigit(_ byte: UInt8) -> UInt32? {
    if let digit = decimalDigit(byte) { return digit }
    let lower = byte | 0x20
    return lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "f") ? UInt32(lower - UInt8(ascii: "a") + 10) : nil
}

/// Parses the whole of `utf8[range]` as a strict decimal number: at least one
/// digit, nothing but digits, no leading zero unless the number is "0", and at
/// most `maximum`. A number over `maximum` throws `tooLarge`.
func parseDecimal(
    _ utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, maximum: UInt32, tooLarge: IPParseError
) throws(IPParseError) -> UInt32 {
    guard !range.isEmpty else { throw .unexpectedEnd }
    var value: UInt32 = 0
    for i in range {
        guard let digit = decimalDigit(utf8[i]) else { throw .unexpectedCharacter(offset: i) }
        if i > range.lowerBound && value == 0 { throw .leadingZero(offset: range.lowerBound) }
        value = value * 10 + digit
        // Checked per digit, so the running value stays far below UInt32.max.
        if value > maximum { throw tooLarge }
    }
    return value
}

/// The first offset in `range` holding `byte`, or nil.
func firstOffset(of byte: UInt8, in utf8: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
    for i in range where utf8[i] == byte { return i }
    return nil
}

/// Appends ASCII text to a buffer the caller sized; used to build descriptions
/// in one allocation.
struct TextWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far.
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// Appends one ASCII byte.
    mutating func append(_ byte: UInt8) {
        buffer[count] = byte
        count += 1
    }

    /// Appends `value` in decimal, without leading zeros.
    mutating func appendDecimal(_ value: UInt32) {
        var divisor: UInt32 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    /// Appends `value` in lowercase hex, without leading zeros.
    mutating func appendHex(_ value: UInt16) {
        var shift = 12
        while shift > 0 && value >> UInt16(shift) == 0 { shift -= 4 }
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt16(shift)) & 0x0f
            append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            shift -= 4
        }
    }

    /// Appends the bytes of `text`.
    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes in
            for byte in bytes { append(byte) }
        }
    }
}

/// Builds a string of at most `capacity` ASCII bytes with `body`.
func makeString(capacity: Int, _ body: (inout TextWriter) -> Void) -> String {
    String(unsafeUninitializedCapacity: capacity) { buffer in
        var writer = TextWriter(buffer)
        body(&writer)
        return writer.count
    }
}
