/// The rules for a mesh's own address ranges (`100.64.0.0/10` and a ULA
/// /48 by default), shared by the coordination server, which refuses to be
/// configured with anything else, and the node, which installs the ranges
/// as routes into the mesh interface and so must refuse a map that would
/// take the host's other traffic (a hostile or broken server).
public enum MeshRange {
    /// IPv4 range lengths: the allocator needs room for two nodes at least.
    public static let ipv4Lengths = 8...30
    /// IPv6 range lengths: a node's address keeps the IPv4 address in its
    /// low 32 bits, and a range is never shorter than a site's /32.
    public static let ipv6Lengths = 32...64

    /// Why `range` cannot be the mesh's range of its family, or nil if it can.
    public static func problem(with range: IPPrefix, ipv4: Bool) -> String? {
        let family = ipv4 ? "IPv4" : "IPv6"
        let lengths = ipv4 ? ipv4Lengths : ipv6Lengths
        guard range.address.isIPv4 == ipv4, lengths.contains(range.length) else {
            return family + " range " + range.description + " must be an " + family + " prefix of /"
                + String(lengths.lowerBound) + " to /" + String(lengths.upperBound)
        }
        for (reserved, kind) in SubnetRoute.unroutable where reserved.overlaps(range) {
            return family + " range " + range.description + " overlaps the " + kind + " range " + reserved.description
        }
        return nil
    }

    /// Why `ipv4` and `ipv6` cannot be a mesh's ranges, or nil if they can.
    public static func problem(ipv4: IPPrefix, ipv6: IPPrefix) -> String? {
        problem(with: ipv4, ipv4: true) ?? problem(with: ipv6, ipv4: false)
    }
}
