/// One header field as it appeared on the wire: the name with its original
/// spelling and the value without leading or trailing whitespace.
///
/// Values are decoded as UTF-8; bytes that are not valid UTF-8 (obs-text)
/// become U+FFFD, so such a value is not sent back byte for byte.
public struct HTTPHeaderField: Equatable, Sendable {
    /// The field name, for example `Content-Type` (compare case-insensitively).
    public var name: String
    /// The field value, without surrounding spaces or tabs.
    public var value: String

    /// A field with `name` and `value`.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The header section of a message: fields in the order they were received
/// or added, with case-insensitive lookup by name.
///
/// Equality compares the fields in order, names with their exact spelling.
public struct HTTPHeaders: Equatable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// Every field, in order; a name may occur several times.
    public private(set) var fields: [HTTPHeaderField]

    /// An empty header section.
    public init() { fields = [] }

    /// A header section holding `fields` in this order.
    public init(_ fields: [HTTPHeaderField]) { self.fields = fields }

    /// A header section from a literal such as `["Host": "example", "Accept": "*/*"]`,
    /// keeping the order of the literal.
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = []
        fields.reserveCapacity(elements.count)
        for (name, value) in elements { fields.append(HTTPHeaderField(name: name, value: value)) }
    }

    /// The number of fields (counting repeated names separately).
    public var count: Int { fields.count }

    /// True if there are no fields.
    public var isEmpty: Bool { fields.isEmpty }

    /// Iterates over the fields in order.
    public func makeIterator() -> IndexingIterator<[HTTPHeaderField]> { fields.makeIterator() }

    /// The value of the first field called `name` (case-insensitive), or nil.
    public subscript(_ name: String) -> String? {
        for field in fields where asciiCaseInsensitiveEqual(field.name, name) { return field.value }
        return nil
    }

    /// The values of every field called `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        var result: [String] = []
        for field in fields where asciiCaseInsensitiveEqual(field.name, name) { result.append(field.value) }
        return result
    }

    /// True if a field called `name` (case-insensitive) is present.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// How many fields are called `name` (case-insensitive).
    public func count(of name: String) -> Int {
        var n = 0
        for field in fields where asciiCaseInsensitiveEqual(field.name, name) { n += 1 }
        return n
    }

    /// True if some field called `name` holds `token` as one of its
    /// comma-separated elements, compared case-insensitively (as for
    /// `Connection: keep-alive, Upgrade`).
    public func containsToken(_ token: String, in name: String) -> Bool {
        for field in fields where asciiCaseInsensitiveEqual(field.name, name) {
            var found = false
            forEachListElement(field.value) { element in
                if asciiCaseInsensitiveEqual(element, token) { found = true }
            }
            if found { return true }
        }
        return false
    }

    /// Appends a field; existing fields with the same name stay.
    public mutating func add(_ name: String, _ value: String) {
        fields.append(HTTPHeaderField(name: name, value: value))
    }

    /// Replaces every field called `name` (case-insensitive) by one field
    /// with `value`, at the position of the first one (or at the end).
    public mutating func set(_ name: String, _ value: String) {
        if let first = fields.firstIndex(where: { asciiCaseInsensitiveEqual($0.name, name) }) {
            fields[first].value = value
            var i = fields.count - 1
            while i > first {
                if asciiCaseInsensitiveEqual(fields[i].name, name) { fields.remove(at: i) }
                i -= 1
            }
        } else {
            add(name, value)
        }
    }

    /// Removes every field called `name` (case-insensitive).
    public mutating func remove(_ name: String) {
        fields.removeAll { asciiCaseInsensitiveEqual($0.name, name) }
    }
}

/// True if `a` and `b` are equal when ASCII letters are folded to lower case.
func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    var left = a.utf8.makeIterator()
    var right = b.utf8.makeIterator()
    while true {
        let x = left.next()
        let y = right.next()
        guard let l = x, let r = y else { return x == nil && y == nil }
        if asciiLower(l) != asciiLower(r) { return false }
    }
}

/// `byte` with ASCII `A`-`Z` folded to `a`-`z`.
@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}

/// Calls `body` with each element of a comma-separated list, without
/// surrounding spaces or tabs, skipping empty elements (RFC 9110 §5.6.1).
func forEachListElement(_ value: String, _ body: (String) -> Void) {
    let utf8 = Array(value.utf8)
    var start = 0
    var i = 0
    while i <= utf8.count {
        if i == utf8.count || utf8[i] == UInt8(ascii: ",") {
            var lo = start
            var hi = i
            while lo < hi && isWhitespace(utf8[lo]) { lo += 1 }
            while hi > lo && isWhitespace(utf8[hi - 1]) { hi -= 1 }
            if hi > lo { body(String(decoding: utf8[lo..<hi], as: UTF8.self)) }
            start = i + 1
        }
        i += 1
    }
}

/// True for the optional whitespace of HTTP: space and horizontal tab.
@inline(__always)
func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

/// True for a `tchar` of RFC 9110 §5.6.2: the characters allowed in methods,
/// header names and transfer-coding names.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
         UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
         UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
         UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

/// True for a byte allowed inside a header value or reason phrase: HTAB,
/// visible ASCII, space, and obs-text (0x80-0xFF).
@inline(__always)
func isFieldValueByte(_ byte: UInt8) -> Bool {
    byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
}
