/// Why a policy was rejected: what is wrong and where.
///
/// `path` names the offending value in the document, for example
/// `acls[2].dst[0]` or `groups["group:eng"][1]` (empty for the document as a
/// whole). `line` and `column` are set for HuJSON syntax errors, which the
/// JSON reader locates exactly; semantic errors carry the path instead
/// (`JSONValue` keeps no positions).
public struct PolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The broad reason, for programs that branch on it.
    public enum Kind: Equatable, Sendable {
        /// The text is not HuJSON.
        case syntax
        /// A value has the wrong type or spelling (a bad port, proto, prefix,
        /// an unknown key, a missing member).
        case invalid
        /// A name that is not declared: a group, tag, host or autogroup.
        case unknownReference
        /// Valid Tailscale syntax that Tern does not implement (`grants`, `postures`).
        case unsupported
        /// A `tests` entry did not hold against the compiled policy.
        case testFailed
    }

    /// The broad reason.
    public let kind: Kind
    /// Where in the document, e.g. `acls[2].dst[0]`; empty for the whole document.
    public let path: String
    /// 1-based line of a syntax error, else nil.
    public let line: Int?
    /// 1-based column of a syntax error, else nil.
    public let column: Int?
    /// What is wrong, without the position.
    public let message: String

    /// An error of `kind` at `path` saying `message`.
    public init(_ kind: Kind, path: String, _ message: String, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.path = path
        self.message = message
        self.line = line
        self.column = column
    }

    /// `line 3, column 14: message` for syntax errors, `acls[2].dst[0]: message`
    /// for the rest, or the bare message for the whole document.
    public var description: String {
        var text = ""
        if let line, let column { text = "line " + String(line) + ", column " + String(column) + ": " }
        if !path.isEmpty { text += path + ": " }
        return text + message
    }
}

/// A location in the policy document, built while walking it, printed as
/// `acls[2].dst[0]` (keys that are not plain words are quoted: `groups["group:eng"]`).
struct PolicyPath {
    private(set) var text: String

    /// The document itself.
    static var root: PolicyPath { PolicyPath(text: "") }

    /// The member `key` of the object here.
    func key(_ key: String) -> PolicyPath {
        let plain = !key.isEmpty && key.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
        if plain { return PolicyPath(text: text.isEmpty ? key : text + "." + key) }
        return PolicyPath(text: text + "[" + quoted(key) + "]")
    }

    /// The element `index` of the array here.
    func index(_ index: Int) -> PolicyPath {
        PolicyPath(text: text + "[" + String(index) + "]")
    }

    /// An error of `kind` at this path.
    func error(_ kind: PolicyError.Kind, _ message: String) -> PolicyError {
        PolicyError(kind, path: text, message)
    }

    /// An `.invalid` error at this path.
    func invalid(_ message: String) -> PolicyError {
        PolicyError(.invalid, path: text, message)
    }
}

/// `text` in double quotes, for messages (quotes and backslashes escaped).
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        if scalar == "\"" || scalar == "\\" { out += "\\" }
        out.unicodeScalars.append(scalar)
    }
    return out + "\""
}
