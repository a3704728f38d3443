/// A JSON object: members in the order they were written or added, with
/// unique keys.
///
/// Keys are compared as Swift strings, i.e. by Unicode canonical equivalence
/// (`"é"` written precomposed or as `e` + combining accent is the same key).
/// The parser rejects an object that repeats a key (`JSONError.Reason.duplicateKey`)
/// instead of silently picking the first or the last: in a security-relevant
/// config two spellings of the same setting are a mistake or an attack.
/// Building an object never creates duplicates either: setting an existing key
/// replaces its value in place.
///
/// Lookup is a linear scan for small objects; objects with many members keep a
/// hash index, so parsing and lookup stay fast for large documents.
public struct JSONObject: Sendable {
    /// The members, in order. Keys are unique.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// Position of every key, built once the object has `indexThreshold` members.
    private var index: [String: Int]?

    /// Objects smaller than this are searched linearly.
    private static var indexThreshold: Int { 16 }

    /// An empty object.
    public init() {
        members = []
        index = nil
    }

    /// An object with `members` in this order, or nil if a key repeats.
    public init?(_ members: [(key: String, value: JSONValue)]) {
        self.init()
        for member in members {
            guard insert(member.key, member.value) else { return nil }
        }
    }

    /// The number of members.
    public var count: Int { members.count }

    /// True if the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The keys, in order.
    public var keys: [String] { members.map { $0.key } }

    /// The position of `key` in `members`, or nil.
    public func position(of key: String) -> Int? {
        if let index { return index[key] }
        var position = 0
        while position < members.count {
            if members[position].key == key { return position }
            position += 1
        }
        return nil
    }

    /// True if the object has a member named `key`.
    public func contains(_ key: String) -> Bool {
        position(of: key) != nil
    }

    /// The value for `key`, or nil. Setting a value replaces an existing
    /// member in place or appends a new one at the end; setting nil removes
    /// the member (and keeps the order of the others).
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return members[position].value
        }
        set {
            if let newValue {
                if let position = position(of: key) {
                    members[position].value = newValue
                } else {
                    _ = insert(key, newValue)
                }
            } else if let position = position(of: key) {
                members.remove(at: position)
                rebuildIndex()
            }
        }
    }

    /// Appends `key: value` unless `key` is present already; returns whether
    /// it was appended (existing members are never replaced by this call).
    @discardableResult
    public mutating func insert(_ key: String, _ value: JSONValue) -> Bool {
        if index != nil {
            guard index![key] == nil else { return false }
            index![key] = members.count
        } else {
            if position(of: key) != nil { return false }
            if members.count + 1 >= JSONObject.indexThreshold {
                members.append((key: key, value: value))
                rebuildIndex()
                return true
            }
        }
        members.append((key: key, value: value))
        return true
    }

    /// Recomputes `index` after members moved.
    private mutating func rebuildIndex() {
        guard members.count >= JSONObject.indexThreshold else {
            index = nil
            return
        }
        var built: [String: Int] = [:]
        built.reserveCapacity(members.count)
        var position = 0
        while position < members.count {
            built[members[position].key] = position
            position += 1
        }
        index = built
    }
}

extension JSONObject: Equatable {
    /// Equal when both have the same keys in the same order with equal values.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        var position = 0
        while position < lhs.members.count {
            let left = lhs.members[position]
            let right = rhs.members[position]
            guard left.key == right.key, left.value == right.value else { return false }
            position += 1
        }
        return true
    }
}

extension JSONObject: Sequence {
    /// Iterates over the members in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }
}
