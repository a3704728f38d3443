import Testing

@testable import IP
import TestSupport

/// Parses a prefix in a test, where the text is known to be valid.
private func prefix(_ text: String) -> IPPrefix { try! IPPrefix(text) }
/// Parses an address in a test, where the text is known to be valid.
private func address(_ text: String) -> IPAddress { try! IPAddress(text) }

@Suite("PrefixTable")
struct PrefixTableTests {
    // The longest matching prefix wins; addresses outside every prefix find nothing.
    @Test func longestPrefixMatch() {
        var table = PrefixTable<String>()
        #expect(table.lookup(address("10.1.2.3")) == nil)
        table.insert(prefix("10.0.0.0/8"), "A")
        table.insert(prefix("10.1.0.0/16"), "B")
        table.insert(prefix("10.1.2.0/24"), "C")
        table.insert(prefix("10.1.2.3/32"), "D")
        #expect(table.lookup(address("10.1.2.3")) == "D")
        #expect(table.lookup(address("10.1.2.4")) == "C")
        #expect(table.lookup(address("10.1.3.4")) == "B")
        #expect(table.lookup(address("10.2.0.0")) == "A")
        #expect(table.lookup(address("11.0.0.0")) == nil)
        #expect(table.lookup(address("9.255.255.255")) == nil)
        #expect(table.count == 4)
        #expect(table.invariantViolation() == nil)
    }

    // Inserting an existing prefix replaces (moves) it and returns the old value.
    @Test func insertReplaces() {
        var table = PrefixTable<String>()
        #expect(table.insert(prefix("fd00::/8"), "A") == nil)
        #expect(table.insert(prefix("fd00::1/8"), "B") == "A")  // same prefix after masking
        #expect(table.count == 1)
        #expect(table.lookup(address("fd12::3")) == "B")
        #expect(table.prefixes(for: "A").isEmpty)
        #expect(table.prefixes(for: "B") == [prefix("fd00::/8")])
        #expect(table.value(for: prefix("fd00::/8")) == "B")
        #expect(table.value(for: prefix("fd00::/9")) == nil)
    }

    // Each family has its own /0, and the families never match each other.
    @Test func defaultRoutesAndFamilySeparation() {
        var table = PrefixTable<String>()
        table.insert(prefix("0.0.0.0/0"), "v4-default")
        #expect(table.lookup(address("0.0.0.0")) == "v4-default")
        #expect(table.lookup(address("255.255.255.255")) == "v4-default")
        #expect(table.lookup(address("::")) == nil)
        #expect(table.lookup(address("::ffff:1.2.3.4")) == nil)

        table.insert(prefix("::/0"), "v6-default")
        #expect(table.lookup(address("::")) == "v6-default")
        #expect(table.lookup(address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) == "v6-default")
        #expect(table.lookup(address("1.2.3.4")) == "v4-default")

        table.insert(prefix("::ffff:0:0/96"), "mapped")
        table.insert(prefix("1.2.3.4/32"), "host")
        #expect(table.lookup(address("::ffff:1.2.3.4")) == "mapped")
        #expect(table.lookup(address("1.2.3.4")) == "host")

        #expect(table.remove(prefix("0.0.0.0/0")) == "v4-default")
        #expect(table.lookup(address("5.6.7.8")) == nil)
        #expect(table.lookup(address("2001:db8::1")) == "v6-default")
        #expect(table.remove(prefix("::/0")) == "v6-default")
        #expect(table.lookup(address("2001:db8::1")) == nil)
        #expect(table.count == 2)
        #expect(table.invariantViolation() == nil)
    }

    // The byte-level and typed lookups agree with lookup(IPAddress).
    @Test func lookupsFromPacketBytes() {
        var table = PrefixTable<Int>()
        table.insert(prefix("192.168.0.0/16"), 1)
        table.insert(prefix("2001:db8::/32"), 2)
        let v4: [UInt8] = [192, 168, 4, 5]
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 7, count: 12)
        #expect(v4.withUnsafeBytes { table.lookupIPv4($0) } == 1)
        #expect(v6.withUnsafeBytes { table.lookupIPv6($0) } == 2)
        #expect(table.lookup(IPv4Address(192, 168, 4, 5)) == 1)
        #expect(table.lookup(IPv4Address(192, 169, 0, 0)) == nil)
        #expect(table.lookup(IPv6Address(high: 0x2001_0db8_0000_0000, low: 0)) == 2)
        #expect(table.lookup(IPv6Address(high: 0x2001_0db9_0000_0000, low: 0)) == nil)
    }

    // remove() takes only the exact prefix; forks and absent prefixes give nil.
    @Test func removeIsExact() {
        var table = PrefixTable<String>()
        table.insert(prefix("10.0.0.0/16"), "A")
        table.insert(prefix("10.1.0.0/16"), "B")  // makes a fork at 10.0.0.0/15
        #expect(table.remove(prefix("10.0.0.0/15")) == nil)
        #expect(table.remove(prefix("10.0.0.0/8")) == nil)
        #expect(table.remove(prefix("10.0.0.0/17")) == nil)
        #expect(table.count == 2)
        #expect(table.remove(prefix("10.0.0.0/16")) == "A")
        #expect(table.remove(prefix("10.0.0.0/16")) == nil)
        #expect(table.lookup(address("10.0.0.1")) == nil)
        #expect(table.lookup(address("10.1.0.1")) == "B")
        #expect(table.count == 1)
        #expect(table.invariantViolation() == nil)
    }

    // Removed node slots go to the free list and later inserts reuse them.
    @Test func freeListReusesSlots() {
        var table = PrefixTable<Int>()
        var generator = SplitMix64(seed: 0x4652_4545)
        let prefixes = (0..<500).map { _ in
            try! IPPrefix(.v4(IPv4Address(UInt32.random(in: 0...UInt32.max, using: &generator))),
                          length: Int.random(in: 8...32, using: &generator))
        }
        for (index, prefix) in prefixes.enumerated() { table.insert(prefix, index) }
        let allocated = table.allocatedNodeCount
        for prefix in prefixes { table.remove(prefix) }
        #expect(table.isEmpty)
        #expect(table.invariantViolation() == nil)
        for (index, prefix) in prefixes.enumerated().reversed() { table.insert(prefix, index) }
        #expect(table.allocatedNodeCount == allocated)
        #expect(table.invariantViolation() == nil)
        table.removeAll()
        #expect(table.isEmpty && table.allocatedNodeCount == 0)
        #expect(table.lookup(prefixes[0].address) == nil)
    }

    // removeAll(value:) drops one peer's prefixes and keeps the others' lookups.
    @Test func removeAllValue() {
        var table = PrefixTable<String>()
        table.insert(prefix("10.0.0.0/8"), "A")
        table.insert(prefix("10.1.0.0/16"), "B")
        table.insert(prefix("10.1.1.0/24"), "A")
        table.insert(prefix("fd00::/8"), "A")
        table.insert(prefix("fd00:1::/32"), "B")
        #expect(table.prefixes(for: "A").map(\.description) == ["10.0.0.0/8", "10.1.1.0/24", "fd00::/8"])
        #expect(table.removeAll(value: "A") == 3)
        #expect(table.count == 2)
        #expect(table.prefixes(for: "A").isEmpty)
        #expect(table.lookup(address("10.1.1.1")) == "B")
        #expect(table.lookup(address("10.2.0.0")) == nil)
        #expect(table.lookup(address("fd00:1::5")) == "B")
        #expect(table.lookup(address("fd00:2::5")) == nil)
        #expect(table.invariantViolation() == nil)
    }
}
