import CTern
import IP

/// IPv4 or IPv6, for requests that concern one family.
public enum AddressFamily: Hashable, Sendable {
    /// IPv4 (AF_INET).
    case ipv4
    /// IPv6 (AF_INET6).
    case ipv6

    /// The family of `address`.
    public init(of address: IPAddress) {
        self = address.isIPv4 ? .ipv4 : .ipv6
    }

    /// AF_INET or AF_INET6, as netlink headers carry it.
    var socketFamily: UInt8 {
        switch self {
        case .ipv4: return UInt8(AF_INET)
        case .ipv6: return UInt8(AF_INET6)
        }
    }

    /// The family for a netlink header's AF_INET/AF_INET6, nil for others.
    init?(socketFamily: UInt8) {
        switch Int32(socketFamily) {
        case AF_INET: self = .ipv4
        case AF_INET6: self = .ipv6
        default: return nil
        }
    }

    /// "IPv4" or "IPv6".
    public var name: String { self == .ipv4 ? "IPv4" : "IPv6" }
}
