/// A JSON document or any part of it.
///
/// Build values with literals (`let doc: JSONValue = ["type": "register", "version": 1]`,
/// object members keep the written order), read them with the optional
/// accessors (`doc["version"]?.int`), parse text with `JSONParser`, and print
/// with `JSONSerializer` (or `compactText` / `prettyText`).
///
/// Equality is structural: arrays and objects compare member by member in
/// order, numbers by representation (see `JSONNumber`), strings as Swift
/// strings (canonical equivalence).
public enum JSONValue: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, exact (see `JSONNumber`).
    case number(JSONNumber)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, in member order with unique keys.
    case object(JSONObject)

    /// The integer `value` as a number.
    public static func integer(_ value: Int64) -> JSONValue {
        .number(JSONNumber(value))
    }

    /// An empty object, to fill with the key subscript.
    public static var emptyObject: JSONValue { .object(JSONObject()) }

    /// True for `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The Boolean, or nil if this is not `true` or `false`.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number, or nil if this is not a number.
    public var number: JSONNumber? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as `Int`, or nil unless this is an integer (written without
    /// fraction or exponent) that fits in `Int`.
    public var int: Int? {
        number?.int
    }

    /// The number as `Int64`, or nil unless this is an integer that fits.
    public var int64: Int64? {
        number?.int64
    }

    /// The number as `UInt64`, or nil unless this is a non-negative integer that fits.
    public var uint64: UInt64? {
        number?.uint64
    }

    /// The number as `Double` (see `JSONNumber.double` for precision), or nil
    /// if this is not a number.
    public var double: Double? {
        number?.double
    }

    /// The string, or nil if this is not a string.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, or nil if this is not an array.
    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The object, or nil if this is not an object.
    public var object: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The member named `key` if this is an object that has it, else nil.
    ///
    /// Setting works only on an object (setting on anything else is a
    /// programmer error and traps): a new key is appended, an existing key
    /// keeps its place, and nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let object) = self else { return nil }
            return object[key]
        }
        set {
            guard case .object(var object) = self else {
                preconditionFailure("JSONValue: setting a key on a value that is not an object")
            }
            self = .null  // drop the second reference so the mutation below does not copy
            object[key] = newValue
            self = .object(object)
        }
    }

    /// The element at `index` if this is an array and `index` is in range,
    /// else nil (never traps).
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, index >= 0, index < elements.count else { return nil }
        return elements[index]
    }

    /// The number of elements of an array or members of an object, else 0.
    public var count: Int {
        switch self {
        case .array(let elements): return elements.count
        case .object(let object): return object.count
        default: return 0
        }
    }

    /// The compact JSON text of this value (see `JSONSerializer`).
    public var compactText: String {
        JSONSerializer.string(self, style: .compact)
    }

    /// The pretty-printed JSON text of this value, 2-space indent, no final newline.
    public var prettyText: String {
        JSONSerializer.string(self, style: .pretty)
    }

    /// Parses `text` as one JSON (or, with `.hujson` options, HuJSON) document.
    public init(parsing text: String, options: JSONParser.Options = .strict) throws(JSONError) {
        self = try JSONParser.parse(text, options: options)
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String { compactText }
}
