/// The spelling rules for node names, user names and tags.
public enum Names {
    /// The longest node name (a DNS label).
    public static let maxNodeNameLength = 63
    /// The longest user name.
    public static let maxUserNameLength = 64
    /// The longest tag, "tag:" included.
    public static let maxTagLength = 64

    /// A node name made from a hostname: lowercase ASCII letters, digits and
    /// '-' (anything else becomes '-'), no leading, trailing or doubled '-',
    /// at most 63 characters; "node" if nothing is left.
    public static func nodeName(fromHostname hostname: String) -> String {
        var out: [UInt8] = []
        for byte in hostname.utf8 {
            if out.count == maxNodeNameLength { break }
            var character = byte
            if character >= UInt8(ascii: "A") && character <= UInt8(ascii: "Z") { character += 32 }
            if !isLabelCharacter(character) || character == UInt8(ascii: "-") {
                // Stop at the first dot: "pi.lan" names the machine "pi".
                if byte == UInt8(ascii: ".") { break }
                if out.isEmpty || out.last == UInt8(ascii: "-") { continue }
                character = UInt8(ascii: "-")
            }
            out.append(character)
        }
        while out.last == UInt8(ascii: "-") { out.removeLast() }
        if out.isEmpty { return "node" }
        return String(decoding: out, as: UTF8.self)
    }

    /// `base` with "-`n`" appended, `base` shortened so the result stays a valid name.
    static func numbered(_ base: String, _ n: Int) -> String {
        let suffix = "-" + String(n)
        var head = Array(base.utf8.prefix(maxNodeNameLength - suffix.utf8.count))
        while head.last == UInt8(ascii: "-") { head.removeLast() }
        return String(decoding: head, as: UTF8.self) + suffix
    }

    /// True for a valid node name: 1 to 63 of `[a-z0-9-]`, not starting or ending with '-'.
    public static func isValidNodeName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maxNodeNameLength,
              bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy(isLabelCharacter)
    }

    /// True for a valid user name: 1 to 64 of ASCII letters, digits and `.`, `_`, `-`, `@`, `+`
    /// (so an email address works).
    public static func isValidUserName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maxUserNameLength else { return false }
        return bytes.allSatisfy { byte in
            isLetterOrDigit(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "+")
        }
    }

    /// True for a valid tag: "tag:" then a lowercase letter, then lowercase
    /// letters, digits and '-', 64 characters at most in all.
    public static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        let prefix = Array("tag:".utf8)
        guard bytes.count > prefix.count, bytes.count <= maxTagLength, Array(bytes[0..<prefix.count]) == prefix else {
            return false
        }
        let name = bytes[prefix.count...]
        guard let first = name.first, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z") else { return false }
        return name.allSatisfy(isLabelCharacter)
    }

    /// `tags` checked and without repeats (first spelling kept), or an error naming the bad tag.
    static func checkedTags(_ tags: [String]) throws(RegistryError) -> [String] {
        var result: [String] = []
        for tag in tags {
            guard isValidTag(tag) else {
                throw RegistryError(.invalidArgument, "'" + tag + "' is not a valid tag: write tag:name with lowercase letters, digits and '-'")
            }
            if !result.contains(tag) { result.append(tag) }
        }
        return result
    }

    private static func isLabelCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "-")
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
