import IP
import Testing
import TestSupport
@testable import PacketFilter

/// The bounded flow table: sizing, per-bucket LRU eviction, expiry.
@Suite struct FlowTableTests {
    static let me = address("100.64.0.1")

    /// The key a reply from 10.0.0.1:`port` to us:5000 has.
    static func key(_ port: UInt16, remote: IPAddress = address("10.0.0.1")) -> FlowKey {
        FlowKey(protocolNumber: 17, source: remote, sourcePort: port, destination: me, destinationPort: 5000)
    }

    @Test func capacityIsRoundedUpToWholeBucketsOfAPowerOfTwo() {
        #expect(FlowTable(capacity: 0, timeout: 1, seed: 0).capacity == 8)
        #expect(FlowTable(capacity: 1, timeout: 1, seed: 0).capacity == 8)
        #expect(FlowTable(capacity: 9, timeout: 1, seed: 0).capacity == 16)
        #expect(FlowTable(capacity: 4096, timeout: 1, seed: 0).capacity == 4096)
        #expect(FlowTable(capacity: 5000, timeout: 1, seed: 0).capacity == 8192)
        // Two tables: UDP/SCTP and TCP.
        #expect(PacketFilter(policy: .allowAll, localPrefixes: []).flowCapacity == 2 * PacketFilter.defaultFlowCapacity)
    }

    @Test func aFullBucketEvictsTheFlowRefreshedLongestAgo() {
        // One bucket of 8: every key lands in it.
        var table = FlowTable(capacity: 8, timeout: 100 * second, seed: 1)
        for port in 0..<8 { table.insert(Self.key(UInt16(port)), now: UInt64(port) * second) }
        #expect(table.liveCount(now: 8 * second) == 8)
        #expect(table.evicted == 0)
        // Port 0 is refreshed by a reply, so port 1 is now the oldest.
        let hit1 = table.lookup(Self.key(0), now: 9 * second)
        #expect(hit1)
        table.insert(Self.key(100), now: 10 * second)
        #expect(table.evicted == 1)
        #expect(table.inserted == 9)
        let hit2 = table.lookup(Self.key(1), now: 10 * second)
        #expect(!hit2)
        for port: UInt16 in [0, 2, 3, 4, 5, 6, 7, 100] {
            let hit = table.lookup(Self.key(port), now: 10 * second)
            #expect(hit, "port \(port)")
        }
        // Refreshing an existing flow is not an insertion.
        table.insert(Self.key(100), now: 11 * second)
        #expect(table.inserted == 9)
        #expect(table.liveCount(now: 11 * second) == 8)
    }

    /// A remote host that makes this node answer a spray of ports evicts
    /// its own flows, not other hosts': in a full bucket it keeps one slot.
    @Test func aSprayingHostEvictsItsOwnFlowsFirst() {
        var table = FlowTable(capacity: 8, timeout: 100 * second, seed: 1)
        let others = (1...8).map { address("10.0.1.\($0)") }
        for (index, remote) in others.enumerated() { table.insert(Self.key(53, remote: remote), now: UInt64(index)) }
        let sprayer = address("10.9.9.9")
        for port in 0..<1000 { table.insert(Self.key(UInt16(port), remote: sprayer), now: 10 + UInt64(port)) }
        let survivors = others.filter { table.lookup(Self.key(53, remote: $0), now: 2000) }
        #expect(survivors.count == 7)
        let sprayerKept = table.lookup(Self.key(999, remote: sprayer), now: 2000)
        #expect(sprayerKept)
        #expect(table.liveCount(now: 2000) == 8)
    }

    @Test func expiredSlotsAreReusedWithoutEviction() {
        var table = FlowTable(capacity: 8, timeout: 10 * second, seed: 7)
        for port in 0..<8 { table.insert(Self.key(UInt16(port)), now: 0) }
        for port in 8..<16 { table.insert(Self.key(UInt16(port)), now: 10 * second) }
        #expect(table.evicted == 0)
        #expect(table.liveCount(now: 10 * second) == 8)
        let hit3 = table.lookup(Self.key(3), now: 10 * second)
        #expect(!hit3)
        let hit4 = table.lookup(Self.key(12), now: 19 * second)
        #expect(hit4)
        // A lookup refreshes: 12 lives on, the rest do not.
        #expect(table.liveCount(now: 20 * second) == 1)
        table.removeAll()
        #expect(table.liveCount(now: 20 * second) == 0)
    }

    @Test func keysDifferInEveryField() {
        var table = FlowTable(capacity: 64, timeout: second, seed: 3)
        let base = Self.key(53)
        table.insert(base, now: 0)
        let hit5 = table.lookup(base, now: 0)
        #expect(hit5)
        let variants = [
            FlowKey(protocolNumber: 132, source: address("10.0.0.1"), sourcePort: 53, destination: Self.me, destinationPort: 5000),
            FlowKey(protocolNumber: 17, source: address("10.0.0.2"), sourcePort: 53, destination: Self.me, destinationPort: 5000),
            FlowKey(protocolNumber: 17, source: address("10.0.0.1"), sourcePort: 54, destination: Self.me, destinationPort: 5000),
            FlowKey(protocolNumber: 17, source: address("10.0.0.1"), sourcePort: 53, destination: address("100.64.0.2"), destinationPort: 5000),
            FlowKey(protocolNumber: 17, source: address("10.0.0.1"), sourcePort: 53, destination: Self.me, destinationPort: 5001),
            FlowKey(protocolNumber: 17, source: address("::a00:1"), sourcePort: 53, destination: address("::6440:1"), destinationPort: 5000),
        ]
        for variant in variants {
            let hit = table.lookup(variant, now: 0)
            #expect(!hit)
        }
    }

    @Test func theTableStaysBoundedUnderAFloodOfFlows() {
        let filter = Harness(PacketFilter(policy: .rules([]), localPrefixes: [prefix("100.64.0.0/16")],
                                          flowCapacity: 4096, hashSeed: 99))
        var generator = SplitMix64(seed: 1)
        var sent: [PacketSpec] = []
        for index in 0..<20_000 {
            let spec = PacketSpec(source: Self.me, destination: .v4(IPv4Address(UInt32(truncatingIfNeeded: generator.next()))),
                                  protocolNumber: 17, sourcePort: UInt16(truncatingIfNeeded: index),
                                  destinationPort: 53)
            filter.outbound(spec, now: UInt64(index))
            sent.append(spec)
        }
        #expect(filter.liveFlows(now: 20_000) == 4096)
        #expect(filter.flowsRecorded == 20_000)
        #expect(filter.flowsEvicted == 20_000 - 4096)
        // The most recent flows survive: each bucket keeps its newest 8.
        var recentHits = 0
        for spec in sent.suffix(512) where filter.inbound(spec.reversed, now: 20_000).reason == .flowReply { recentHits += 1 }
        #expect(recentHits > 500)
        var oldHits = 0
        for spec in sent.prefix(512) where filter.inbound(spec.reversed, now: 20_000).reason == .flowReply { oldHits += 1 }
        #expect(oldHits == 0)
    }

    @Test func theSeedChangesWhereFlowsLand() {
        // Nine flows that collide in one bucket under seed 0 evict one; another seed spreads them.
        var probe = FlowTable(capacity: 4096, timeout: second, seed: 0)
        var colliding: [FlowKey] = []
        var port: UInt16 = 0
        let target = Self.key(0).hash(seed: 0) & 511
        while colliding.count < 9 {
            let key = Self.key(port)
            if key.hash(seed: 0) & 511 == target { colliding.append(key) }
            port &+= 1
        }
        for key in colliding { probe.insert(key, now: 0) }
        #expect(probe.evicted == 1)
        var seeded = FlowTable(capacity: 4096, timeout: second, seed: 0x5eed)
        for key in colliding { seeded.insert(key, now: 0) }
        #expect(seeded.evicted == 0)
    }

    @Test func expiryNeverOverflows() {
        var table = FlowTable(capacity: 8, timeout: UInt64.max, seed: 0)
        table.insert(Self.key(1), now: UInt64.max - 5)
        let hit6 = table.lookup(Self.key(1), now: UInt64.max - 1)
        #expect(hit6)
        // A zero timeout keeps nothing.
        var zero = FlowTable(capacity: 8, timeout: 0, seed: 0)
        zero.insert(Self.key(1), now: 5)
        let hit7 = zero.lookup(Self.key(1), now: 5)
        #expect(!hit7)
    }
}
