/// A longest-prefix-match table from IPv4 and IPv6 prefixes to values:
/// WireGuard's cryptokey routing table (allowed IPs → peer, spec §10).
///
/// Each prefix maps to one value. Inserting a prefix that is already present
/// replaces its value, which in WireGuard moves the prefix to another peer.
/// The two families are kept apart: an IPv4 prefix never matches an IPv6
/// address (not even an IPv4-mapped one) and vice versa, and each family has
/// its own /0.
///
/// Lookups allocate nothing and take time proportional to the depth of the
/// trie (at most 33 or 129 nodes), so they suit the per-packet path. Nodes live
/// in contiguous storage and removed nodes are reused by later inserts.
public struct PrefixTable<Value: Equatable> {
    private var ipv4 = PrefixTrie<IPv4Address, Value>()
    private var ipv6 = PrefixTrie<IPv6Address, Value>()

    /// An empty table.
    public init() {}

    /// The number of prefixes in the table, both families together.
    public var count: Int { ipv4.count + ipv6.count }

    /// True if the table holds no prefix.
    public var isEmpty: Bool { count == 0 }

    /// Maps `prefix` to `value`. Returns the value the same prefix had before
    /// (now replaced), or nil if the prefix is new.
    @discardableResult
    public mutating func insert(_ prefix: IPPrefix, _ value: Value) -> Value? {
        switch prefix.address {
        case .v4(let address): return ipv4.insert(address, length: prefix.length, value)
        case .v6(let address): return ipv6.insert(address, length: prefix.length, value)
        }
    }

    /// Removes exactly `prefix` (not the prefixes inside it) and returns its
    /// value, or nil if the table did not hold it.
    @discardableResult
    public mutating func remove(_ prefix: IPPrefix) -> Value? {
        switch prefix.address {
        case .v4(let address): return ipv4.remove(address, length: prefix.length)
        case .v6(let address): return ipv6.remove(address, length: prefix.length)
        }
    }

    /// Removes every prefix mapped to `value` (a peer leaving) and returns how
    /// many were removed.
    @discardableResult
    public mutating func removeAll(value: Value) -> Int {
        ipv4.removeAll(value: value) + ipv6.removeAll(value: value)
    }

    /// Removes every prefix. The storage is kept for reuse.
    public mutating func removeAll() {
        ipv4.removeAll()
        ipv6.removeAll()
    }

    /// The value of the longest prefix that contains `address`, or nil if none
    /// does. Allocates nothing.
    public func lookup(_ address: IPAddress) -> Value? {
        switch address {
        case .v4(let address): return ipv4.lookup(address)
        case .v6(let address): return ipv6.lookup(address)
        }
    }

    /// The value of the longest IPv4 prefix that contains `address`, or nil.
    /// Allocates nothing.
    public func lookup(_ address: IPv4Address) -> Value? { ipv4.lookup(address) }

    /// The value of the longest IPv6 prefix that contains `address`, or nil.
    /// Allocates nothing.
    public func lookup(_ address: IPv6Address) -> Value? { ipv6.lookup(address) }

    /// Looks up an IPv4 address given as exactly 4 network-order bytes, such
    /// as a slice of a packet header (traps on any other count). Allocates nothing.
    public func lookupIPv4(_ networkOrderBytes: UnsafeRawBufferPointer) -> Value? {
        ipv4.lookup(IPv4Address(networkOrderBytes: networkOrderBytes))
    }

    /// Looks up an IPv6 address given as exactly 16 network-order bytes, such
    /// as a slice of a packet header (traps on any other count). Allocates nothing.
    public func lookupIPv6(_ networkOrderBytes: UnsafeRawBufferPointer) -> Value? {
        ipv6.lookup(IPv6Address(networkOrderBytes: networkOrderBytes))
    }

    /// The value stored for exactly `prefix` (no longest-match), or nil.
    public func value(for prefix: IPPrefix) -> Value? {
        switch prefix.address {
        case .v4(let address): return ipv4.value(for: address, length: prefix.length)
        case .v6(let address): return ipv6.value(for: address, length: prefix.length)
        }
    }

    /// Every prefix mapped to `value` (the allowed IPs `wg show` lists for a
    /// peer), in `IPPrefix` order: IPv4 before IPv6, then by address, a
    /// shorter prefix before the longer ones it contains.
    public func prefixes(for value: Value) -> [IPPrefix] {
        var result: [IPPrefix] = []
        forEach { prefix, entryValue in
            if entryValue == value { result.append(prefix) }
        }
        return result
    }

    /// Calls `body` with every prefix and its value, in `IPPrefix` order.
    public func forEach(_ body: (IPPrefix, Value) -> Void) {
        ipv4.forEachEntry { index in
            let node = ipv4.nodes[Int(index)]
            body(IPPrefix(unchecked: .v4(node.key), length: Int(node.length)), node.value!)
        }
        ipv6.forEachEntry { index in
            let node = ipv6.nodes[Int(index)]
            body(IPPrefix(unchecked: .v6(node.key), length: Int(node.length)), node.value!)
        }
    }

    /// A description of the first broken internal invariant, or nil; for tests.
    func invariantViolation() -> String? {
        if let problem = ipv4.invariantViolation() { return "IPv4: " + problem }
        if let problem = ipv6.invariantViolation() { return "IPv6: " + problem }
        return nil
    }

    /// Node slots allocated so far, live or free, both families; for tests of reuse.
    var allocatedNodeCount: Int { ipv4.nodes.count + ipv6.nodes.count }
}

extension PrefixTable: Sendable where Value: Sendable {}
