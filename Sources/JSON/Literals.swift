/// Literal conformances, so documents can be written inline:
///
/// ```swift
/// let doc: JSONValue = ["type": "register", "version": 1, "tags": ["a", "b"], "extra": nil]
/// ```
///
/// Dictionary literals keep the written order. A dictionary literal that
/// repeats a key is a programmer error and traps. There is no float literal:
/// Embedded Swift cannot print a `Double` without extra code, so write
/// non-integers as `.number(JSONNumber(text: "0.25")!)`.
extension JSONValue: ExpressibleByNilLiteral {
    /// `null`.
    public init(nilLiteral: ()) {
        self = .null
    }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// `true` or `false`.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// An integer number.
    public init(integerLiteral value: Int64) {
        self = .number(JSONNumber(value))
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A string.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// An array with these elements.
    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// An object with these members in the written order; traps on a repeated key.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(literal: elements))
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// An object with these members in the written order; traps on a repeated key.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(literal: elements)
    }

    /// The members of a literal; a repeated key is a programmer error.
    init(literal elements: [(String, JSONValue)]) {
        self.init()
        for (key, value) in elements {
            let inserted = insert(key, value)
            precondition(inserted, "JSONObject literal repeats a key")
        }
    }
}

extension JSONValue {
    /// A string value (handy where a literal is not possible, e.g. a variable).
    public init(_ text: String) {
        self = .string(text)
    }

    /// A Boolean value.
    public init(_ flag: Bool) {
        self = .bool(flag)
    }

    /// An integer value.
    public init(_ integer: Int) {
        self = .number(JSONNumber(integer))
    }

    /// An integer value.
    public init(_ integer: Int64) {
        self = .number(JSONNumber(integer))
    }

    /// An integer value (stored as text above `Int64.max`).
    public init(_ integer: UInt64) {
        self = .number(JSONNumber(integer))
    }

    /// An array value.
    public init(_ elements: [JSONValue]) {
        self = .array(elements)
    }

    /// An object value.
    public init(_ object: JSONObject) {
        self = .object(object)
    }
}
