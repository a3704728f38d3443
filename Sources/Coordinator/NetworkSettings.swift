import IP
import TernCrypto

/// The network-wide settings, fixed when the network is created (the key
/// lifetime can be changed later).
public struct NetworkSettings: Equatable, Sendable {
    /// Where IPv4 mesh addresses come from (100.64.0.0/10 by default).
    public var ipv4Range: IPPrefix
    /// Where IPv6 mesh addresses come from: a ULA /48 drawn once per network.
    public var ipv6Range: IPPrefix
    /// How long a node key stays valid after a login, in seconds; nil for never.
    public var keyLifetime: Int64?

    /// The longest key lifetime, 36,500 days (`tern-control init --key-lifetime` allows no more).
    public static let maximumKeyLifetime: Int64 = 36_500 * 86_400

    /// 180 days, in seconds.
    public static let defaultKeyLifetime: Int64 = 180 * 86_400

    /// The CGNAT range 100.64.0.0/10 (RFC 6598), as Tailscale uses.
    public static var defaultIPv4Range: IPPrefix { SubnetRoute.defaultMeshIPv4Range }

    /// Settings with these values; `Registry` checks them (`validate()`).
    public init(ipv4Range: IPPrefix, ipv6Range: IPPrefix, keyLifetime: Int64? = NetworkSettings.defaultKeyLifetime) {
        self.ipv4Range = ipv4Range
        self.ipv6Range = ipv6Range
        self.keyLifetime = keyLifetime
    }

    /// Settings for a new network: `ipv4Range`, a fresh random ULA /48
    /// (RFC 4193: fd00::/8 plus a 40-bit random global id), `keyLifetime`.
    public static func generate<R: RandomSource>(random: inout R, ipv4Range: IPPrefix = NetworkSettings.defaultIPv4Range,
                                                 keyLifetime: Int64? = NetworkSettings.defaultKeyLifetime) -> NetworkSettings {
        var globalID: UInt64 = 0
        withUnsafeMutableBytes(of: &globalID) { random.fill($0) }
        return NetworkSettings(ipv4Range: ipv4Range, ipv6Range: uniqueLocalPrefix(globalID: globalID),
                               keyLifetime: keyLifetime)
    }

    /// The ULA /48 `fdXX:XXXX:XXXX::/48` for the low 40 bits of `globalID`.
    public static func uniqueLocalPrefix(globalID: UInt64) -> IPPrefix {
        let high = (UInt64(0xfd) << 56) | ((globalID & 0xff_ffff_ffff) << 16)
        return try! IPPrefix(.v6(IPv6Address(high: high, low: 0)), length: 48)
    }

    /// Refuses settings the allocator cannot serve or nodes would refuse
    /// (`MeshRange`: an IPv4 range of /8 to /30, an IPv6 range of /32 to
    /// /64, neither in a loopback, link-local or multicast range) and a key
    /// lifetime that is not positive or longer than `maximumKeyLifetime`.
    public func validate() throws(RegistryError) {
        if let problem = MeshRange.problem(ipv4: ipv4Range, ipv6: ipv6Range) {
            throw RegistryError(.invalidArgument, problem)
        }
        if let keyLifetime, keyLifetime <= 0 || keyLifetime > NetworkSettings.maximumKeyLifetime {
            throw RegistryError(.invalidArgument, "key lifetime must be positive and at most 36500 days (or none)")
        }
    }
}
