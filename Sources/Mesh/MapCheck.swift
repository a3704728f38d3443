import ControlProtocol
import IP

/// What a node checks in a network map before it configures anything
/// from it. The map comes from the coordination server, which the node
/// trusts with its peers but not with the host: a broken or hostile server
/// must not be able to route the host's other traffic into the mesh.
///
/// The mesh's ranges become routes into the mesh interface, so they must
/// pass `MeshRange` (never `0.0.0.0/0`, never a loopback range); the
/// node's own addresses go on the interface, so each must be one host
/// address (a /32 or /128, whose prefix adds no route) inside the range of
/// its family. Peers' subnet routes are checked one by one as they are
/// accepted (`RouteAcceptance`, with the rules of `SubnetRoute`).
public enum MapCheck {
    /// Why this node must not use `map`, or nil if it may.
    public static func problem(with map: NetworkMap) -> String? {
        if let problem = MeshRange.problem(ipv4: map.ipv4Range, ipv6: map.ipv6Range) { return problem }
        for address in map.node.addresses {
            guard address.length == address.address.bitWidth else {
                return "this node's address " + address.description + " is not a single host address"
            }
            let range = address.address.isIPv4 ? map.ipv4Range : map.ipv6Range
            guard range.contains(address.address) else {
                return "this node's address " + address.description + " is outside the mesh's range " + range.description
            }
        }
        return nil
    }
}
