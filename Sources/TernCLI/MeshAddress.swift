/// Small text helpers for mesh addresses as the status document spells them.
public enum MeshAddress {
    /// Which addresses `tern ip` prints.
    public enum Family: Equatable {
        /// Both IPv4 and IPv6.
        case any
        /// IPv4 only (`-4`).
        case ipv4
        /// IPv6 only (`-6`).
        case ipv6
    }

    /// `address` without a `/bits` suffix: `100.64.0.1/32` → `100.64.0.1`.
    public static func bare(_ address: String) -> String {
        guard let slash = address.utf8.firstIndex(of: UInt8(ascii: "/")) else { return address }
        return String(decoding: address.utf8[..<slash], as: UTF8.self)
    }

    /// True for an IPv6 address (it has a colon), false for IPv4.
    public static func isIPv6(_ address: String) -> Bool {
        address.utf8.contains(UInt8(ascii: ":"))
    }

    /// The bare addresses of `family`, in order.
    public static func select(_ addresses: [String], family: Family) -> [String] {
        var result: [String] = []
        for address in addresses {
            let ipv6 = isIPv6(address)
            switch family {
            case .any: result.append(bare(address))
            case .ipv4: if !ipv6 { result.append(bare(address)) }
            case .ipv6: if ipv6 { result.append(bare(address)) }
            }
        }
        return result
    }

    /// The first IPv4 address, else the first address, bare; nil if none.
    public static func primary(_ addresses: [String]) -> String? {
        select(addresses, family: .ipv4).first ?? select(addresses, family: .any).first
    }

    /// The part of a DNS-style name before its first dot.
    static func firstLabel(of name: String) -> String {
        guard let dot = name.utf8.firstIndex(of: UInt8(ascii: ".")) else { return name }
        return String(decoding: name.utf8[..<dot], as: UTF8.self)
    }
}
