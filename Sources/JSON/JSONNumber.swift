/// A JSON number, kept exactly as far as the program could need it.
///
/// An integer written without fraction or exponent that fits in `Int64` is
/// stored as that `Int64` and printed back in its shortest decimal form. Every
/// other number (`1.5`, `1e3`, `-0`, integers beyond the `Int64` range) is
/// stored as the original text of the number, which is validated against the
/// RFC 8259 grammar and printed back unchanged. Nothing is ever rounded on the
/// way in or out.
///
/// Two numbers are equal when their representations are equal: `1` equals `1`,
/// but `1` does not equal `1.0` or `1e0` (compare `double` values for that).
public struct JSONNumber: Equatable, Hashable, Sendable {
    enum Storage: Equatable, Hashable, Sendable {
        case integer(Int64)
        case text(String)
    }

    let storage: Storage

    /// The number `value`.
    public init(_ value: Int64) {
        storage = .integer(value)
    }

    /// The number `value`.
    public init(_ value: Int) {
        storage = .integer(Int64(value))
    }

    /// The number `value` (stored as `Int64` when it fits, else as text).
    public init(_ value: UInt64) {
        if value <= UInt64(Int64.max) {
            storage = .integer(Int64(value))
        } else {
            storage = .text(NumberText.decimal(value))
        }
    }

    /// The number written as `text`, or nil if `text` is not exactly one JSON
    /// number (RFC 8259: optional `-`, no leading zeros, no `+`, no `NaN`,
    /// digits on both sides of `.`). Use this to put a preformatted
    /// non-integer into a document, e.g. `JSONNumber(text: "0.25")`.
    public init?(text: String) {
        let bytes = Array(text.utf8)
        guard case .number(let end, let isInteger) = NumberText.scan(bytes, from: 0),
              end == bytes.count else { return nil }
        self.init(validated: bytes, from: 0, to: end, isInteger: isInteger)
    }

    /// Builds a number from bytes `start..<end` already checked by `NumberText.scan`.
    init(validated bytes: [UInt8], from start: Int, to end: Int, isInteger: Bool) {
        if isInteger, let value = NumberText.int64(bytes, from: start, to: end) {
            storage = .integer(value)
        } else {
            storage = .text(String(decoding: bytes[start..<end], as: UTF8.self))
        }
    }

    /// True if the number is stored as an exact `Int64`.
    public var isInt64: Bool {
        if case .integer = storage { return true }
        return false
    }

    /// The value as `Int64`, or nil unless it was written as an integer that fits.
    public var int64: Int64? {
        if case .integer(let value) = storage { return value }
        return nil
    }

    /// The value as `Int`, or nil unless it was written as an integer that fits
    /// in `Int` (32 bits on armv7).
    public var int: Int? {
        guard let value = int64 else { return nil }
        return Int(exactly: value)
    }

    /// The value as `UInt64`, or nil unless it was written as a non-negative
    /// integer (no fraction, no exponent) that fits in 64 bits.
    public var uint64: UInt64? {
        switch storage {
        case .integer(let value):
            return value >= 0 ? UInt64(value) : nil
        case .text(let text):
            return NumberText.uint64(Array(text.utf8))
        }
    }

    /// The value as `Double`, converted without Foundation by
    /// `NumberText.double(_:)`: correctly rounded for integers up to 2^53 and
    /// for decimals with at most 15 significant digits and a decimal exponent
    /// within ±22 (the common cases); otherwise within a few units in the last
    /// place (a value at the very top of the `Double` range may become
    /// infinity). Values beyond the range give ±infinity, tiny ones ±0.
    public var double: Double {
        switch storage {
        case .integer(let value):
            return Double(value)
        case .text(let text):
            return NumberText.double(Array(text.utf8))
        }
    }

    /// The JSON text of the number: the shortest decimal form of an integer,
    /// or the original text of any other number.
    public var text: String {
        switch storage {
        case .integer(let value):
            return NumberText.decimal(value)
        case .text(let text):
            return text
        }
    }
}

extension JSONNumber: CustomStringConvertible {
    /// The JSON text of the number (see `text`).
    public var description: String { text }
}
