import IP

/// Something a rule's `src` or `dst` names: who or what.
///
/// Spelling (the Tailscale forms Tern reads):
/// - `*`: everyone (as a source: the mesh ranges plus approved subnet routes;
///   as a destination: every node and every route);
/// - a string with `@` is a user: `alice@example.com`, or `alice@` for the
///   plain user name `alice` (a trailing `@` is dropped when matching; a bare
///   word is never a user, so that a typo in a host alias is not silently
///   read as a user with no nodes);
/// - `group:name`, `tag:name` (declared in `groups` / `tagOwners`);
/// - `autogroup:member`, `autogroup:tagged`, `autogroup:self` (destinations
///   only), `autogroup:internet` (destinations only; matches nothing, Tern has
///   no exit nodes), `autogroup:danger-all` (sources only: every address);
/// - a host alias from `hosts`: a word without `:` and `@`;
/// - an IPv4 or IPv6 address or CIDR prefix (in a `dst`, IPv6 in brackets:
///   `[fd7a::1]:22`, `[fd7a::]/48:*`).
public enum PolicyTarget: Hashable, Sendable, CustomStringConvertible {
    /// `*`.
    case any
    /// A user as written (`alice@`, `alice@example.com`).
    case user(String)
    /// A group, `group:` included.
    case group(String)
    /// A tag, `tag:` included.
    case tag(String)
    /// A host alias and the prefix `hosts` gives it.
    case host(String, IPPrefix)
    /// A literal address (a /32 or /128) or prefix.
    case prefix(IPPrefix)
    /// `autogroup:member`: every node that is not tagged.
    case autogroupMember
    /// `autogroup:tagged`: every tagged node.
    case autogroupTagged
    /// `autogroup:self` (destination only): the untagged nodes of the same
    /// user as the source.
    case autogroupSelf
    /// `autogroup:internet` (destination only): the internet through exit
    /// nodes, which Tern does not have, so it matches nothing.
    case autogroupInternet
    /// `autogroup:danger-all` (source only): 0.0.0.0/0 and ::/0.
    case autogroupDangerAll

    /// The policy spelling.
    public var description: String {
        switch self {
        case .any: return "*"
        case .user(let name), .group(let name), .tag(let name), .host(let name, _): return name
        case .prefix(let prefix):
            return prefix.length == prefix.address.bitWidth ? prefix.address.description : prefix.description
        case .autogroupMember: return "autogroup:member"
        case .autogroupTagged: return "autogroup:tagged"
        case .autogroupSelf: return "autogroup:self"
        case .autogroupInternet: return "autogroup:internet"
        case .autogroupDangerAll: return "autogroup:danger-all"
        }
    }

    /// True if `name` (a user name of the network) is the user this
    /// `.user` target names: equal, or equal once a trailing `@` is dropped.
    static func userName(_ written: String, matches name: String) -> Bool {
        if written == name { return true }
        let bytes = written.utf8
        guard bytes.last == UInt8(ascii: "@") else { return false }
        return name.utf8.count == bytes.count - 1 && name.utf8.elementsEqual(bytes.dropLast())
    }
}

/// Where a target appears, which decides the forms it may take.
enum TargetRole {
    /// An ACL `src`.
    case source
    /// The target part of an ACL `dst`.
    case destination
    /// The `src` of a `tests` entry.
    case testSource
    /// The host part of a `tests` accept or deny entry.
    case testDestination

    var name: String {
        switch self {
        case .source: return "a source"
        case .destination: return "a destination"
        case .testSource: return "a test source"
        case .testDestination: return "a test destination"
        }
    }
}

/// The names a policy declares, which targets are checked against.
struct Declarations {
    var groups: Set<String> = []
    var tags: Set<String> = []
    var hosts: [String: IPPrefix] = [:]
}

extension PolicyTarget {
    /// Reads a target in `role`, checking names against `declared`.
    static func parse(_ text: String, role: TargetRole, declared: Declarations,
                      at path: PolicyPath) throws(PolicyError) -> PolicyTarget {
        let target = try parseForm(text, declared: declared, at: path)
        switch (target, role) {
        case (.autogroupSelf, .source), (.autogroupSelf, .testSource), (.autogroupSelf, .testDestination),
             (.autogroupInternet, .source), (.autogroupInternet, .testSource), (.autogroupInternet, .testDestination),
             (.autogroupDangerAll, .destination), (.autogroupDangerAll, .testDestination), (.autogroupDangerAll, .testSource):
            throw path.invalid(text + " cannot be " + role.name)
        case (.any, .testSource), (.any, .testDestination):
            throw path.invalid("* cannot be " + role.name + ": name one user, group, tag, host or address")
        case (.prefix(let prefix), .testSource), (.prefix(let prefix), .testDestination),
             (.host(_, let prefix), .testSource), (.host(_, let prefix), .testDestination):
            guard prefix.length == prefix.address.bitWidth else {
                throw path.invalid(text + " is a range (" + prefix.description + "); " + role.name + " must be a single address")
            }
        default:
            break
        }
        return target
    }

    /// Reads the form of a target, without role checks.
    private static func parseForm(_ text: String, declared: Declarations, at path: PolicyPath) throws(PolicyError) -> PolicyTarget {
        guard !text.isEmpty else { throw path.invalid("empty target") }
        if text == "*" { return .any }
        if hasPrefix(text, "autogroup:") {
            switch text {
            case "autogroup:member": return .autogroupMember
            case "autogroup:tagged": return .autogroupTagged
            case "autogroup:self": return .autogroupSelf
            case "autogroup:internet": return .autogroupInternet
            case "autogroup:danger-all": return .autogroupDangerAll
            default:
                throw path.error(.unknownReference, "unknown autogroup " + quoted(text)
                    + " (Tern knows autogroup:member, tagged, self, internet and danger-all)")
            }
        }
        if hasPrefix(text, "group:") {
            guard declared.groups.contains(text) else {
                throw path.error(.unknownReference, "unknown group " + quoted(text) + " (declare it in groups)")
            }
            return .group(text)
        }
        if hasPrefix(text, "tag:") {
            guard declared.tags.contains(text) else {
                throw path.error(.unknownReference, "unknown tag " + quoted(text) + " (declare it in tagOwners)")
            }
            return .tag(text)
        }
        if text.utf8.contains(UInt8(ascii: "@")) {
            try checkUserName(text, at: path)
            return .user(text)
        }
        if let prefix = parseAddressOrPrefix(text) { return .prefix(prefix) }
        if text.utf8.contains(UInt8(ascii: ":")) || text.utf8.contains(UInt8(ascii: "/")) || text.utf8.first == UInt8(ascii: "[") {
            throw path.invalid("bad address or prefix " + quoted(text))
        }
        guard let prefix = declared.hosts[text] else {
            throw path.error(.unknownReference, "unknown host " + quoted(text)
                + " (declare it in hosts; a user is written " + quoted(text + "@") + ")")
        }
        return .host(text, prefix)
    }

    /// A user target: a name, at most one `@` that is not first, no spaces.
    static func checkUserName(_ text: String, at path: PolicyPath) throws(PolicyError) {
        var ats = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "@") { ats += 1 }
            if byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: ":") {
                throw path.invalid("bad user " + quoted(text))
            }
        }
        guard ats == 1, text.utf8.first != UInt8(ascii: "@") else {
            throw path.invalid("bad user " + quoted(text) + " (write name@ or name@domain)")
        }
    }

    /// `10.0.0.1`, `10.0.0.0/8`, `fd7a::1`, `fd7a::/48`, or the same in
    /// brackets (`[fd7a::1]`, `[fd7a::]/48`); nil if the text is none of these.
    static func parseAddressOrPrefix(_ text: String) -> IPPrefix? {
        var bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "[") {
            // Brackets only make sense around an IPv6 address.
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1,
                  bytes[1..<close].contains(UInt8(ascii: ":")) else { return nil }
            let rest = bytes[(close + 1)...]
            guard rest.isEmpty || rest.first == UInt8(ascii: "/") else { return nil }
            bytes = Array(bytes[1..<close]) + Array(rest)
        }
        guard let first = bytes.first, isDigitOrHex(first) || first == UInt8(ascii: ":") else { return nil }
        do {
            return try IPPrefix(String(decoding: bytes, as: UTF8.self))
        } catch {
            return nil
        }
    }

    private static func isDigitOrHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}

/// True if `text` starts with the ASCII `prefix` (byte comparison, no Unicode tables).
func hasPrefix(_ text: String, _ prefix: String) -> Bool {
    let bytes = text.utf8
    let head = prefix.utf8
    return bytes.count >= head.count && bytes.prefix(head.count).elementsEqual(head)
}

/// `text` with ASCII capitals lowered (policy keys are ASCII).
func asciiLowercased(_ text: String) -> String {
    String(decoding: text.utf8.map { byte in
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }, as: UTF8.self)
}
