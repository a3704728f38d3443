import IP

/// Hands out node addresses: one IPv4 address in the network's range and
/// the IPv6 address that embeds it (the /48's prefix with the IPv4 address
/// in the low 32 bits), so the two families can never disagree.
///
/// Allocation is a monotonic cursor with wraparound: the next address is the
/// first free one after the last address handed out. A deleted node's
/// address therefore comes back only after the cursor has gone round the
/// whole range (about four million addresses for a /10), which keeps peers'
/// stale caches and logs from confusing an old node with a new one. Each
/// allocation costs a few set lookups; only a nearly full range makes it
/// scan further. Never handed out: the range's first and last address, in
/// ranges of /24 or larger every address ending in .0 or .255 (legacy
/// software treats them as network or broadcast addresses), and
/// 100.100.100.100 (kept for a future in-mesh service address, as in
/// Tailscale).
struct AddressPool: Equatable {
    /// The range addresses come from.
    let ipv4Range: IPPrefix
    /// The IPv6 /48 (or shorter) that node IPv6 addresses are built in.
    let ipv6Range: IPPrefix
    /// The offset (address minus the range's first address) of the last allocation.
    private(set) var cursor: UInt32
    /// Offsets in use.
    private var used: Set<UInt32>

    private let base: UInt32
    private let size: UInt64
    private let capacity: UInt64

    /// The address kept back from allocation.
    static let reservedAddress = IPv4Address(100, 100, 100, 100)

    /// A pool over the ranges of `settings` (already validated), nothing in use.
    init(settings: NetworkSettings) {
        ipv4Range = settings.ipv4Range
        ipv6Range = settings.ipv6Range
        guard case .v4(let network) = settings.ipv4Range.address else { preconditionFailure("validated IPv4 range") }
        base = network.value
        size = UInt64(1) << UInt64(32 - settings.ipv4Range.length)
        cursor = 0
        used = []
        var count = size - 2
        if settings.ipv4Range.length <= 24 { count = size - 2 * (size / 256) }
        if settings.ipv4Range.contains(.v4(AddressPool.reservedAddress)) { count -= 1 }
        capacity = count
    }

    /// How many addresses are in use.
    var inUse: Int { used.count }

    /// How many addresses the range can hand out in all.
    var total: UInt64 { capacity }

    /// Whether `offset` may ever be handed out.
    private func usable(_ offset: UInt32) -> Bool {
        if offset == 0 || UInt64(offset) == size - 1 { return false }
        if ipv4Range.length <= 24 {
            let low = offset & 0xff
            if low == 0 || low == 0xff { return false }
        }
        return base &+ offset != AddressPool.reservedAddress.value
    }

    /// The IPv6 address that goes with `ipv4`.
    func ipv6(for ipv4: IPv4Address) -> IPAddress {
        guard case .v6(let prefix) = ipv6Range.address else { preconditionFailure("validated IPv6 range") }
        return .v6(IPv6Address(high: prefix.high, low: prefix.low | UInt64(ipv4.value)))
    }

    /// The addresses the next allocation would take, or nil if the range is
    /// full. Does not change the pool: `claim` does, when the record applies.
    func next() -> (ipv4: IPAddress, ipv6: IPAddress)? {
        guard UInt64(used.count) < capacity else { return nil }
        var offset = cursor
        var steps: UInt64 = 0
        while steps < size {
            offset = UInt32(truncatingIfNeeded: (UInt64(offset) + 1) % size)
            steps += 1
            if usable(offset) && !used.contains(offset) {
                let ipv4 = IPv4Address(base &+ offset)
                return (.v4(ipv4), ipv6(for: ipv4))
            }
        }
        return nil
    }

    /// Marks `ipv4` and `ipv6` in use and moves the cursor to them; throws
    /// unless they belong together, are allocatable and free.
    mutating func claim(ipv4: IPAddress, ipv6: IPAddress) throws(RegistryError) {
        let offset = try self.offset(of: ipv4)
        guard usable(offset) else {
            throw RegistryError(.corruptState, "address " + ipv4.description + " is never allocated")
        }
        guard case .v4(let address) = ipv4, self.ipv6(for: address) == ipv6 else {
            throw RegistryError(.corruptState, "IPv6 address " + ipv6.description + " does not match " + ipv4.description)
        }
        guard used.insert(offset).inserted else {
            throw RegistryError(.corruptState, "address " + ipv4.description + " is in use already")
        }
        cursor = offset
    }

    /// Frees the addresses of a deleted node (the cursor stays where it is).
    mutating func release(ipv4: IPAddress) {
        if let offset = try? offset(of: ipv4) { used.remove(offset) }
    }

    /// Sets the cursor (restoring a snapshot).
    mutating func restore(cursor: UInt32) throws(RegistryError) {
        guard UInt64(cursor) < size else {
            throw RegistryError(.corruptState, "address cursor " + String(cursor) + " is outside the range")
        }
        self.cursor = cursor
    }

    /// The offset of `address` in the range; throws if it is outside.
    private func offset(of address: IPAddress) throws(RegistryError) -> UInt32 {
        guard case .v4(let ipv4) = address, ipv4Range.contains(address) else {
            throw RegistryError(.corruptState, "address " + address.description + " is outside " + ipv4Range.description)
        }
        return ipv4.value &- base
    }
}
