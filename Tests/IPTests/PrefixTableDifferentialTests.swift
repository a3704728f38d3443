import Testing

@testable import IP
import TestSupport

/// The obviously-correct table the trie is checked against: a plain list of
/// (prefix, value) scanned in full for every question.
private struct ReferenceTable {
    var entries: [(prefix: IPPrefix, value: Int)] = []

    mutating func insert(_ prefix: IPPrefix, _ value: Int) -> Int? {
        if let index = entries.firstIndex(where: { $0.prefix == prefix }) {
            defer { entries[index].value = value }
            return entries[index].value
        }
        entries.append((prefix, value))
        return nil
    }

    mutating func remove(_ prefix: IPPrefix) -> Int? {
        guard let index = entries.firstIndex(where: { $0.prefix == prefix }) else { return nil }
        return entries.remove(at: index).value
    }

    mutating func removeAll(value: Int) -> Int {
        let before = entries.count
        entries.removeAll { $0.value == value }
        return before - entries.count
    }

    func lookup(_ address: IPAddress) -> Int? {
        var best: (length: Int, value: Int)?
        for entry in entries where entry.prefix.contains(address) {
            if best == nil || entry.prefix.length > best!.length { best = (entry.prefix.length, entry.value) }
        }
        return best?.value
    }

    func prefixes(for value: Int) -> [IPPrefix] {
        entries.filter { $0.value == value }.map(\.prefix).sorted()
    }
}

/// Which address families a differential run draws from.
enum FamilyMix: String, CaseIterable, CustomTestStringConvertible {
    case ipv4, ipv6, both
    var testDescription: String { rawValue }
}

/// Random prefixes and addresses biased so that prefixes overlap a lot: most
/// come from a few base addresses with a bit or two flipped, and short and
/// "round" lengths are common.
private struct Workload {
    var generator: SplitMix64
    let mix: FamilyMix
    private var bases: [IPAddress] = []

    init(seed: UInt64, mix: FamilyMix) {
        generator = SplitMix64(seed: seed)
        self.mix = mix
        for _ in 0..<4 {
            bases.append(randomAddress(ipv6: false))
            bases.append(randomAddress(ipv6: true))
        }
    }

    private mutating func randomAddress(ipv6: Bool) -> IPAddress {
        ipv6 ? .v6(IPv6Address(high: generator.next(), low: generator.next()))
            : .v4(IPv4Address(UInt32(truncatingIfNeeded: generator.next())))
    }

    private mutating func pickIPv6() -> Bool {
        switch mix {
        case .ipv4: return false
        case .ipv6: return true
        case .both: return generator.chance(50)
        }
    }

    /// `address` with the bit at `index` (0 = most significant) flipped.
    private func flip(_ address: IPAddress, bit index: Int) -> IPAddress {
        switch address {
        case .v4(let a): return .v4(IPv4Address(a.value ^ (1 << UInt32(31 - index))))
        case .v6(let a):
            return index < 64 ? .v6(IPv6Address(high: a.high ^ (1 << UInt64(63 - index)), low: a.low))
                : .v6(IPv6Address(high: a.high, low: a.low ^ (1 << UInt64(127 - index))))
        }
    }

    /// `address` with every bit after `length` replaced by random bits.
    private mutating func randomizeHostBits(_ address: IPAddress, after length: Int) -> IPAddress {
        switch address {
        case .v4(let a):
            let host = UInt32.max >> UInt32(length)
            return .v4(IPv4Address(a.value & ~host | UInt32(truncatingIfNeeded: generator.next()) & host))
        case .v6(let a):
            let highHost = length >= 64 ? 0 : UInt64.max >> UInt64(length)
            let lowHost = length <= 64 ? UInt64.max : UInt64.max >> UInt64(length - 64)
            return .v6(IPv6Address(high: a.high & ~highHost | generator.next() & highHost,
                                   low: a.low & ~lowHost | generator.next() & lowHost))
        }
    }

    mutating func prefix() -> IPPrefix {
        let ipv6 = pickIPv6()
        var address: IPAddress
        if generator.chance(85) {
            address = bases.filter { $0.isIPv4 != ipv6 }.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 0...2, using: &generator) {
                address = flip(address, bit: Int.random(in: 0..<address.bitWidth, using: &generator))
            }
        } else {
            address = randomAddress(ipv6: ipv6)
        }
        let width = address.bitWidth
        let length: Int
        switch Int.random(in: 0..<10, using: &generator) {
        case 0...2: length = Int.random(in: 0...6, using: &generator)
        case 3...5: length = [0, 1, 8, 16, 24, 31, 32, 48, 63, 64, 65, 96, 127, 128]
            .filter { $0 <= width }.randomElement(using: &generator)!
        case 6: length = width
        default: length = Int.random(in: 0...width, using: &generator)
        }
        return try! IPPrefix(address, length: length)
    }

    mutating func address(near reference: ReferenceTable) -> IPAddress {
        let ipv6 = pickIPv6()
        let roll = Int.random(in: 0..<10, using: &generator)
        let sameFamily = reference.entries.filter { $0.prefix.address.isIPv4 != ipv6 }
        if roll < 5, let entry = sameFamily.randomElement(using: &generator) {
            // Inside an existing prefix, sometimes just past its end.
            var address = randomizeHostBits(entry.prefix.address, after: entry.prefix.length)
            if generator.chance(20) && entry.prefix.length > 0 {
                address = flip(address, bit: entry.prefix.length - 1)
            }
            return address
        }
        if roll < 8 {
            let base = bases.filter { $0.isIPv4 != ipv6 }.randomElement(using: &generator)!
            return randomizeHostBits(base, after: Int.random(in: 0...base.bitWidth, using: &generator))
        }
        return randomAddress(ipv6: ipv6)
    }

    mutating func value() -> Int { Int.random(in: 0..<6, using: &generator) }
}

@Suite("PrefixTable differential")
struct PrefixTableDifferentialTests {
    // Thousands of interleaved inserts, replacing inserts and removals, each
    // compared with the reference, with lookups, counts, exact-match queries,
    // prefixes(for:), removeAll(value:) and the trie's structure checked as it goes.
    @Test(arguments: FamilyMix.allCases, [UInt64(1), 2, 3])
    func matchesReference(mix: FamilyMix, seed: UInt64) {
        var workload = Workload(seed: seed &* 0x9E37_79B9 ^ UInt64(mix.rawValue.utf8.count), mix: mix)
        var table = PrefixTable<Int>()
        var reference = ReferenceTable()
        var lookups = 0
        var hits = 0
        for step in 1...3000 {
            let roll = Int.random(in: 0..<100, using: &workload.generator)
            if roll < 55 || reference.entries.isEmpty {
                let prefix = workload.prefix()
                let value = workload.value()
                #expect(table.insert(prefix, value) == reference.insert(prefix, value), "insert \(prefix) step \(step)")
            } else if roll < 70 {
                // Move an existing prefix to another value.
                let prefix = reference.entries.randomElement(using: &workload.generator)!.prefix
                let value = workload.value()
                #expect(table.insert(prefix, value) == reference.insert(prefix, value), "replace \(prefix) step \(step)")
            } else if roll < 90 {
                let prefix = reference.entries.randomElement(using: &workload.generator)!.prefix
                #expect(table.remove(prefix) == reference.remove(prefix), "remove \(prefix) step \(step)")
            } else if roll < 99 {
                // Usually absent: removing it must change nothing.
                let prefix = workload.prefix()
                #expect(table.remove(prefix) == reference.remove(prefix), "remove \(prefix) step \(step)")
            } else {
                let value = workload.value()
                #expect(table.removeAll(value: value) == reference.removeAll(value: value), "removeAll step \(step)")
            }

            if step % 20 == 0 {
                #expect(table.count == reference.entries.count, "count at step \(step)")
                if let problem = table.invariantViolation() {
                    Issue.record("trie invariant broken at step \(step): \(problem)")
                    return
                }
                for _ in 0..<60 {
                    let address = workload.address(near: reference)
                    let expected = reference.lookup(address)
                    #expect(table.lookup(address) == expected, "lookup \(address) at step \(step)")
                    lookups += 1
                    if expected != nil { hits += 1 }
                }
                for _ in 0..<5 {
                    let probe = Bool.random(using: &workload.generator) && !reference.entries.isEmpty
                        ? reference.entries.randomElement(using: &workload.generator)!.prefix : workload.prefix()
                    let expected = reference.entries.first { $0.prefix == probe }?.value
                    #expect(table.value(for: probe) == expected, "value(for: \(probe)) at step \(step)")
                }
            }
            if step % 300 == 0 {
                for value in 0..<6 {
                    #expect(table.prefixes(for: value) == reference.prefixes(for: value), "prefixes(for: \(value))")
                }
                var listed: [IPPrefix] = []
                table.forEach { prefix, _ in listed.append(prefix) }
                #expect(listed == reference.entries.map(\.prefix).sorted(), "forEach order at step \(step)")
            }
        }
        // The workload must actually exercise overlaps and both outcomes.
        #expect(hits > lookups / 4 && hits < lookups, "hits \(hits) of \(lookups)")
        #expect(reference.entries.count > 50)

        // Emptying by value leaves an empty, sound trie.
        for value in 0..<6 { table.removeAll(value: value) }
        #expect(table.isEmpty)
        #expect(table.invariantViolation() == nil)
    }
}
