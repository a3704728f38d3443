import ControlProtocol
import IP
import JSON

/// HuJSON text → `Policy`: the sections, their shapes, and every name a rule
/// uses checked against the declarations.
enum PolicyParser {
    /// Sections Tern implements.
    static let sections = ["acls", "groups", "hosts", "tagOwners", "autoApprovers", "tests"]
    /// Tailscale sections that configure features Tern lacks and cannot widen
    /// access: accepted and ignored, so an existing file still loads.
    static let ignoredSections = ["ssh", "sshTests", "nodeAttrs", "derpMap", "disableIPv4", "randomizeClientPort"]
    /// Tailscale sections that would change who may connect, which Tern does
    /// not implement: refused rather than silently dropped.
    static let unsupportedSections = ["grants", "postures", "ipsets"]

    static func parse(_ text: String) throws(PolicyError) -> Policy {
        let document: JSONValue
        do {
            document = try JSONParser.parse(text, options: .hujson)
        } catch {
            throw PolicyError(.syntax, path: "", error.reason.message, line: error.line, column: error.column)
        }
        guard let object = document.object else {
            throw PolicyPath.root.invalid("a policy is a JSON object ({ \"acls\": [...], ... })")
        }
        let members = try Members(object, at: .root, known: sections + ignoredSections + unsupportedSections)

        var policy = Policy()
        for name in unsupportedSections {
            if let (path, _) = members[name] {
                throw path.error(.unsupported, "the " + name + " section is not supported by Tern; write the rules as acls")
            }
        }
        for name in ignoredSections {
            if let (path, _) = members[name] { policy.ignoredSections.append(path.text) }
        }

        var declared = Declarations()
        if let (path, value) = members["groups"] {
            policy.groups = try parseGroups(value, at: path)
            declared.groups = Set(policy.groups.keys)
        }
        if let (path, value) = members["tagOwners"] {
            policy.tagOwners = try parseTagOwners(value, at: path, declared: &declared)
        }
        if let (path, value) = members["hosts"] {
            policy.hosts = try parseHosts(value, at: path)
            declared.hosts = policy.hosts
        }
        if let (path, value) = members["acls"] {
            policy.acls = try array(value, at: path) { (element, path) throws(PolicyError) in
                try parseACL(element, at: path, declared: declared)
            }
        }
        if let (path, value) = members["autoApprovers"] {
            policy.autoApprovers = try parseAutoApprovers(value, at: path, declared: declared)
        }
        if let (path, value) = members["tests"] {
            policy.tests = try array(value, at: path) { (element, path) throws(PolicyError) in
                try parseTest(element, at: path, declared: declared)
            }
        }
        return policy
    }

    // MARK: Sections

    private static func parseGroups(_ value: JSONValue, at path: PolicyPath) throws(PolicyError) -> [String: [String]] {
        var groups: [String: [String]] = [:]
        for (name, members, path) in try namedEntries(value, at: path) {
            guard hasPrefix(name, "group:"), isPlainName(name.utf8.dropFirst(6)) else {
                throw path.invalid("bad group name " + quoted(name) + " (write group:name)")
            }
            groups[name] = try strings(members, at: path) { (member, path) throws(PolicyError) in
                if hasPrefix(member, "group:") {
                    throw path.invalid("nested group " + quoted(member) + ": group members must be users")
                }
                guard member.utf8.contains(UInt8(ascii: "@")), !hasPrefix(member, "tag:"), !hasPrefix(member, "autogroup:") else {
                    throw path.invalid("group member " + quoted(member) + " is not a user (write name@ or name@domain)")
                }
                try PolicyTarget.checkUserName(member, at: path)
                return member
            }
        }
        return groups
    }

    private static func parseTagOwners(_ value: JSONValue, at path: PolicyPath,
                                       declared: inout Declarations) throws(PolicyError) -> [String: [String]] {
        let entries = try namedEntries(value, at: path)
        // Owners may name tags declared anywhere in the section.
        for (tag, _, path) in entries {
            guard hasPrefix(tag, "tag:"), isTagName(tag.utf8.dropFirst(4)) else {
                throw path.invalid("bad tag " + quoted(tag) + " (write tag:name; the name starts with a letter)")
            }
            declared.tags.insert(tag)
        }
        var owners: [String: [String]] = [:]
        let checked = declared
        for (tag, list, path) in entries {
            owners[tag] = try strings(list, at: path) { (owner, path) throws(PolicyError) in
                _ = try parseApprover(owner, declared: checked, at: path)
                return owner
            }
        }
        return owners
    }

    private static func parseHosts(_ value: JSONValue, at path: PolicyPath) throws(PolicyError) -> [String: IPPrefix] {
        var hosts: [String: IPPrefix] = [:]
        for (name, address, path) in try namedEntries(value, at: path) {
            guard isPlainName(name.utf8), PolicyTarget.parseAddressOrPrefix(name) == nil else {
                throw path.invalid("bad host name " + quoted(name) + " (a word without ':', '@' or spaces that is not an address)")
            }
            guard let text = address.string else { throw path.invalid("expected an address or prefix string") }
            let prefix: IPPrefix
            do {
                prefix = try IPPrefix(text)
            } catch {
                throw path.invalid("bad address or prefix " + quoted(text) + ": " + error.description)
            }
            hosts[name] = prefix
        }
        return hosts
    }

    private static func parseACL(_ value: JSONValue, at path: PolicyPath,
                                 declared: Declarations) throws(PolicyError) -> PolicyACL {
        guard let object = value.object else { throw path.invalid("expected an object") }
        let members = try Members(object, at: path, known: ["action", "src", "dst", "proto", "users", "ports"])
        guard let (actionPath, action) = members["action"] else { throw path.invalid("missing \"action\": \"accept\"") }
        guard action.string == "accept" else {
            throw actionPath.invalid("the only action is \"accept\" (there are no deny rules: what no rule allows is denied)")
        }
        let (sourcePath, sourceValue) = try oneOf(members, "src", legacy: "users", at: path)
        let sources = try strings(sourceValue, at: sourcePath) { (text, path) throws(PolicyError) in
            try PolicyTarget.parse(text, role: .source, declared: declared, at: path)
        }
        var proto: UInt8?
        if let (protoPath, protoValue) = members["proto"] {
            guard let text = protoValue.string else { throw protoPath.invalid("expected a protocol name or number as a string") }
            if !text.isEmpty { proto = try PolicyProtocol.parse(text, at: protoPath) }
        }
        let (destinationPath, destinationValue) = try oneOf(members, "dst", legacy: "ports", at: path)
        let destinations = try strings(destinationValue, at: destinationPath) { (text, path) throws(PolicyError) in
            guard let (targetText, portsText) = splitDestination(text) else {
                throw path.invalid("bad destination " + quoted(text) + " (write target:ports, e.g. tag:web:443 or *:*)")
            }
            let target = try parseHostPart(targetText, role: .destination, declared: declared, at: path)
            let ports = try parsePorts(portsText, at: path)
            if let proto, !PolicyProtocol.hasPorts(proto), ports != [.all] {
                throw path.invalid("proto " + PolicyProtocol.name(of: proto)
                    + " has no ports: write " + quoted(targetText + ":*") + " (only tcp, udp and sctp name ports)")
            }
            return PolicyDestination(target: target, ports: ports)
        }
        return PolicyACL(sources: sources, destinations: destinations, proto: proto)
    }

    private static func parseAutoApprovers(_ value: JSONValue, at path: PolicyPath,
                                           declared: Declarations) throws(PolicyError) -> AutoApprovers {
        guard let object = value.object else { throw path.invalid("expected an object") }
        let members = try Members(object, at: path, known: ["routes", "exitNode"])
        var approvers = AutoApprovers()
        if let (path, value) = members["routes"] {
            for (text, list, path) in try namedEntries(value, at: path) {
                let prefix: IPPrefix
                do {
                    prefix = try IPPrefix(text)
                } catch {
                    throw path.invalid("bad route prefix " + quoted(text) + ": " + error.description)
                }
                let who = try strings(list, at: path) { (text, path) throws(PolicyError) in
                    try parseApprover(text, declared: declared, at: path)
                }
                approvers.routes.append(AutoApprovers.RouteApproval(prefix: prefix, approvers: who))
            }
        }
        if let (path, value) = members["exitNode"] {
            approvers.exitNode = try strings(value, at: path) { (text, path) throws(PolicyError) in
                try parseApprover(text, declared: declared, at: path)
            }
        }
        return approvers
    }

    private static func parseTest(_ value: JSONValue, at path: PolicyPath,
                                  declared: Declarations) throws(PolicyError) -> PolicyTest {
        guard let object = value.object else { throw path.invalid("expected an object") }
        let members = try Members(object, at: path, known: ["src", "proto", "accept", "deny"])
        guard let (sourcePath, sourceValue) = members["src"] else { throw path.invalid("missing \"src\"") }
        guard let sourceText = sourceValue.string else { throw sourcePath.invalid("expected one source as a string") }
        let source = try PolicyTarget.parse(sourceText, role: .testSource, declared: declared, at: sourcePath)
        var proto: UInt8 = 6
        if let (protoPath, protoValue) = members["proto"] {
            guard let text = protoValue.string else { throw protoPath.invalid("expected tcp, udp or sctp as a string") }
            if !text.isEmpty { proto = try PolicyProtocol.parse(text, at: protoPath) }
            guard PolicyProtocol.hasPorts(proto) else { throw protoPath.invalid("a test's proto must be tcp, udp or sctp") }
        }
        guard members["accept"] != nil || members["deny"] != nil else {
            throw path.invalid("a test needs \"accept\" or \"deny\" (or both)")
        }
        var entries: [[PolicyTestEntry]] = [[], []]
        for (slot, name) in ["accept", "deny"].enumerated() {
            guard let (listPath, list) = members[name] else { continue }
            entries[slot] = try strings(list, at: listPath) { (text, path) throws(PolicyError) in
                guard let (hostText, portText) = splitDestination(text) else {
                    throw path.invalid("bad test entry " + quoted(text) + " (write host:port, e.g. tag:web:443)")
                }
                let target = try parseHostPart(hostText, role: .testDestination, declared: declared, at: path)
                guard let port = decimal(portText), port >= 1, port <= 65535 else {
                    throw path.invalid("bad port " + quoted(portText) + " in " + quoted(text) + " (a test names one port, 1-65535)")
                }
                return PolicyTestEntry(text: text, target: target, port: UInt16(port))
            }
        }
        return PolicyTest(source: source, proto: proto, accept: entries[0], deny: entries[1])
    }

    // MARK: Pieces

    /// The target part of a `dst` or test entry; IPv6 must be in brackets there
    /// because the ports follow the last ':'.
    private static func parseHostPart(_ text: String, role: TargetRole, declared: Declarations,
                                      at path: PolicyPath) throws(PolicyError) -> PolicyTarget {
        let named = hasPrefix(text, "tag:") || hasPrefix(text, "group:") || hasPrefix(text, "autogroup:")
        if !named, text.utf8.first != UInt8(ascii: "["), text.utf8.contains(UInt8(ascii: ":")) {
            throw path.invalid("IPv6 address " + quoted(text) + " must be in brackets before the port, e.g. [fd7a::1]:22")
        }
        return try PolicyTarget.parse(text, role: role, declared: declared, at: path)
    }

    /// A tag owner or route approver: a user, a declared group or a declared tag.
    private static func parseApprover(_ text: String, declared: Declarations,
                                      at path: PolicyPath) throws(PolicyError) -> PolicyTarget {
        let target = try PolicyTarget.parse(text, role: .source, declared: declared, at: path)
        switch target {
        case .user, .group, .tag: return target
        default: throw path.invalid(quoted(text) + " cannot approve or own: name a user, a group or a tag")
        }
    }

    /// The value of `name` or of its legacy spelling; exactly one must be present.
    private static func oneOf(_ members: Members, _ name: String, legacy: String,
                              at path: PolicyPath) throws(PolicyError) -> (PolicyPath, JSONValue) {
        switch (members[name], members[legacy]) {
        case (let current?, nil): return current
        case (nil, let old?): return old
        case (_?, _?): throw path.invalid("both \"" + name + "\" and its legacy name \"" + legacy + "\"; keep one")
        case (nil, nil): throw path.invalid("missing \"" + name + "\"")
        }
    }

    /// The elements of an array, each converted by `body`.
    private static func array<T>(_ value: JSONValue, at path: PolicyPath,
                                 _ body: (JSONValue, PolicyPath) throws(PolicyError) -> T) throws(PolicyError) -> [T] {
        guard let elements = value.array else { throw path.invalid("expected an array") }
        var result: [T] = []
        result.reserveCapacity(elements.count)
        for index in 0..<elements.count {
            result.append(try body(elements[index], path.index(index)))
        }
        return result
    }

    /// The strings of an array of strings, each converted by `body`.
    private static func strings<T>(_ value: JSONValue, at path: PolicyPath,
                                   _ body: (String, PolicyPath) throws(PolicyError) -> T) throws(PolicyError) -> [T] {
        try array(value, at: path) { (element, path) throws(PolicyError) in
            guard let text = element.string else { throw path.invalid("expected a string") }
            return try body(text, path)
        }
    }

    /// The members of a name → value map (`groups`, `hosts`, ...), `#` keys skipped.
    private static func namedEntries(_ value: JSONValue,
                                     at path: PolicyPath) throws(PolicyError) -> [(String, JSONValue, PolicyPath)] {
        guard let object = value.object else { throw path.invalid("expected an object") }
        var entries: [(String, JSONValue, PolicyPath)] = []
        for member in object.members where !hasPrefix(member.key, "#") {
            entries.append((member.key, member.value, path.key(member.key)))
        }
        return entries
    }

    /// A group or host name: non-empty, no ':', '@', '*', quotes or spaces.
    private static func isPlainName<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        !bytes.isEmpty && bytes.allSatisfy { byte in
            byte > 0x20 && byte != 0x7F && byte != UInt8(ascii: ":") && byte != UInt8(ascii: "@")
                && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "*")
        }
    }

    /// A tag name: a letter, then letters, digits, '-' and '_'.
    private static func isTagName(_ bytes: Substring.UTF8View) -> Bool {
        guard let first = bytes.first, isLetter(first) else { return false }
        return bytes.allSatisfy { byte in
            isLetter(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
}

/// The members of an object matched case-insensitively against the keys a
/// section knows (as headscale does): `#` keys are skipped, unknown keys and
/// two spellings of one key are errors.
struct Members {
    /// Lowercased known key → (its path as written, its value).
    private var found: [String: (PolicyPath, JSONValue)] = [:]

    init(_ object: JSONObject, at path: PolicyPath, known: [String]) throws(PolicyError) {
        for member in object.members where !hasPrefix(member.key, "#") {
            let lowered = asciiLowercased(member.key)
            guard known.contains(where: { asciiLowercased($0) == lowered }) else {
                var list = ""
                for name in known { list += (list.isEmpty ? "" : ", ") + name }
                throw path.key(member.key).invalid("unknown key " + quoted(member.key) + " (expected one of " + list + ")")
            }
            guard found[lowered] == nil else {
                throw path.key(member.key).invalid("key " + quoted(member.key) + " appears twice (keys ignore case)")
            }
            found[lowered] = (path.key(member.key), member.value)
        }
    }

    /// The member named `key` in any case, with its path.
    subscript(key: String) -> (PolicyPath, JSONValue)? {
        found[asciiLowercased(key)]
    }
}
