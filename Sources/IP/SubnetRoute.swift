/// The rules for the LAN prefixes a subnet router advertises to the mesh,
/// shared by the `tern` command line (refuse early), the daemon and the
/// coordination server (refuse what an older or hostile node sends).
public enum SubnetRoute {
    /// The most prefixes one node may advertise.
    public static let maximumCount = 64

    /// The mesh's IPv4 range unless a network says otherwise.
    public static let defaultMeshIPv4Range = IPPrefix(unchecked: .v4(IPv4Address(100, 64, 0, 0)), length: 10)

    /// Ranges that are never a LAN behind a router (nor a mesh's range).
    static let unroutable: [(IPPrefix, String)] = [
        (IPPrefix(unchecked: .v4(IPv4Address(127, 0, 0, 0)), length: 8), "loopback"),
        (IPPrefix(unchecked: .v4(IPv4Address(169, 254, 0, 0)), length: 16), "link-local"),
        (IPPrefix(unchecked: .v4(IPv4Address(224, 0, 0, 0)), length: 4), "multicast"),
        (IPPrefix(unchecked: .v6(IPv6Address(high: 0, low: 1)), length: 128), "loopback"),
        (IPPrefix(unchecked: .v6(IPv6Address(high: 0xfe80 << 48, low: 0)), length: 10), "link-local"),
        (IPPrefix(unchecked: .v6(IPv6Address(high: 0xff00 << 48, low: 0)), length: 8), "multicast"),
    ]

    /// The shortest prefix a subnet route may have: a LAN, or all of a
    /// site's LANs (10.0.0.0/8; an IPv6 site's /32), never a slice of the
    /// Internet that would make the router an exit node in pieces.
    public static let minimumIPv4Length = 8
    /// See `minimumIPv4Length`.
    public static let minimumIPv6Length = 32

    /// Why `prefix` cannot be a subnet route in a mesh using `meshRanges`,
    /// or nil if it can.
    public static func problem(with prefix: IPPrefix, meshRanges: [IPPrefix]) -> String? {
        if prefix.length == 0 {
            return prefix.description + " is a default route: Tern routes LAN prefixes, not all traffic (no exit nodes)"
        }
        let minimum = prefix.address.isIPv4 ? minimumIPv4Length : minimumIPv6Length
        if prefix.length < minimum {
            return prefix.description + " is shorter than /" + String(minimum)
                + ": Tern routes LAN prefixes, not large parts of the Internet (no exit nodes)"
        }
        for range in meshRanges where range.overlaps(prefix) {
            return prefix.description + " overlaps the mesh's own range " + range.description
        }
        for (range, kind) in unroutable where range.overlaps(prefix) {
            return prefix.description + " is in the " + kind + " range " + range.description + ", which is not routed"
        }
        return nil
    }

    /// Why `prefixes` cannot be advertised together, or nil if they can:
    /// each must pass `problem(with:meshRanges:)`, at most `maximumCount`,
    /// no duplicates.
    public static func problem(with prefixes: [IPPrefix], meshRanges: [IPPrefix]) -> String? {
        if prefixes.count > maximumCount {
            return String(prefixes.count) + " routes advertised; at most " + String(maximumCount) + " are allowed"
        }
        for index in prefixes.indices {
            if let problem = problem(with: prefixes[index], meshRanges: meshRanges) { return problem }
            if prefixes[..<index].contains(prefixes[index]) { return prefixes[index].description + " is given twice" }
        }
        return nil
    }

    /// Parses a comma-separated list ("192.168.10.0/24,10.1.0.0/16") as a
    /// person typed it. A prefix with host bits set ("192.168.10.1/24") is
    /// refused rather than silently fixed, since it is likely a typo; an
    /// empty text is an empty list (stop advertising).
    public static func parseList(_ text: String) throws(SubnetRouteError) -> [IPPrefix] {
        var result: [IPPrefix] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let word = String(item)
            let prefix: IPPrefix
            do { prefix = try IPPrefix(word) } catch {
                throw SubnetRouteError("'" + word + "' is not a prefix: " + error.description)
            }
            guard word.utf8.contains(UInt8(ascii: "/")) else {
                let lan = IPPrefix(unchecked: prefix.address, length: prefix.address.isIPv4 ? 24 : 64)
                throw SubnetRouteError("'" + word + "' has no prefix length: " + lan.description + " for its "
                                       + (prefix.address.isIPv4 ? "/24" : "/64") + ", " + prefix.description + " for the one host")
            }
            let address = String(word.split(separator: "/", maxSplits: 1)[0])
            guard (try? IPAddress(address)) == prefix.address else {
                throw SubnetRouteError("'" + word + "' has host bits set; did you mean " + prefix.description + "?")
            }
            result.append(prefix)
        }
        return result
    }
}

/// A subnet route list that cannot be used, with a sentence saying why.
public struct SubnetRouteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}

extension IPPrefix {
    /// True if the two prefixes share at least one address (one contains the other).
    public func overlaps(_ other: IPPrefix) -> Bool {
        contains(other) || other.contains(self)
    }
}
