import IP

/// A UDP or SCTP flow as its replies look when they arrive: the remote end
/// is the source, this node the destination.
struct FlowKey: Equatable {
    var remoteHigh: UInt64
    var remoteLow: UInt64
    var localHigh: UInt64
    var localLow: UInt64
    var remotePort: UInt16
    var localPort: UInt16
    /// The protocol number, plus 0x100 for IPv6 (so an IPv4 address never
    /// equals the IPv6 address with the same bits).
    var protocolAndFamily: UInt16

    /// The key of an inbound packet from `source`:`sourcePort` to `destination`:`destinationPort`.
    init(protocolNumber: UInt8, source: IPAddress, sourcePort: UInt16,
         destination: IPAddress, destinationPort: UInt16) {
        (remoteHigh, remoteLow) = FlowKey.words(source)
        (localHigh, localLow) = FlowKey.words(destination)
        remotePort = sourcePort
        localPort = destinationPort
        protocolAndFamily = UInt16(protocolNumber) | (source.isIPv4 ? 0 : 0x100)
    }

    /// The key of the inbound packet `fields`.
    init(inbound fields: PacketFields) {
        self.init(protocolNumber: fields.protocolNumber, source: fields.source, sourcePort: fields.sourcePort,
                  destination: fields.destination, destinationPort: fields.destinationPort)
    }

    /// True if both keys have the same remote address (and family).
    func sharesRemote(with other: FlowKey) -> Bool {
        remoteHigh == other.remoteHigh && remoteLow == other.remoteLow
            && protocolAndFamily & 0x100 == other.protocolAndFamily & 0x100
    }

    private static func words(_ address: IPAddress) -> (UInt64, UInt64) {
        switch address {
        case .v4(let address): return (0, UInt64(address.value))
        case .v6(let address): return (address.high, address.low)
        }
    }

    /// A 64-bit mix of the key and `seed` (not cryptographic; `seed` keeps
    /// bucket choice unpredictable from outside).
    func hash(seed: UInt64) -> UInt64 {
        // Unrolled: an array literal here could allocate per packet.
        var hash = FlowKey.mix(seed ^ remoteHigh)
        hash = FlowKey.mix(hash ^ remoteLow)
        hash = FlowKey.mix(hash ^ localHigh)
        hash = FlowKey.mix(hash ^ localLow)
        return FlowKey.mix(hash ^ (UInt64(remotePort) << 32 | UInt64(localPort) << 16 | UInt64(protocolAndFamily)))
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        // The 64-bit finaliser of MurmurHash3.
        var x = value
        x ^= x >> 33
        x = x &* 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x = x &* 0xc4ce_b9fe_1a85_ec53
        return x ^ (x >> 33)
    }
}

/// A bounded table of the UDP/SCTP flows this node opened, so that their
/// replies pass the inbound filter (Tailscale keeps an LRU of 512).
///
/// Set-associative: a key hashes to one bucket of `ways` slots; lookups scan
/// that bucket only. An insert into a full bucket evicts the slot that was
/// refreshed longest ago, so the table is an LRU per bucket. Entries expire
/// `timeout` nanoseconds after they were last refreshed, by a packet in
/// either direction (like conntrack). Time is a parameter: nothing here
/// reads a clock. All storage is allocated in `init`; lookups and inserts
/// allocate nothing.
struct FlowTable {
    private struct Slot {
        var key: FlowKey
        /// The slot is live while `now < expiresAt`; 0 means never used.
        var expiresAt: UInt64
    }

    /// Slots per bucket.
    static let ways = 8

    private var slots: [Slot]
    private let bucketMask: UInt64
    private let seed: UInt64
    /// How long a flow lives without packets, in nanoseconds.
    let timeout: UInt64

    /// Flows inserted (new keys, not refreshes), and live flows evicted to make room.
    private(set) var inserted: UInt64 = 0
    private(set) var evicted: UInt64 = 0

    /// A table of at least `capacity` slots (rounded up to a power of two,
    /// at least one bucket).
    init(capacity: Int, timeout: UInt64, seed: UInt64) {
        var buckets = 1
        while buckets * FlowTable.ways < capacity { buckets *= 2 }
        let empty = FlowKey(protocolNumber: 0, source: .v4(.unspecified), sourcePort: 0,
                            destination: .v4(.unspecified), destinationPort: 0)
        slots = [Slot](repeating: Slot(key: empty, expiresAt: 0), count: buckets * FlowTable.ways)
        bucketMask = UInt64(buckets - 1)
        self.timeout = timeout
        self.seed = seed
    }

    /// The number of slots.
    var capacity: Int { slots.count }

    /// The number of flows live at `now` (a full scan; for status and tests).
    func liveCount(now: UInt64) -> Int {
        var count = 0
        for slot in slots where now < slot.expiresAt { count += 1 }
        return count
    }

    /// True if `key` is live at `now`; a hit refreshes its expiry.
    mutating func lookup(_ key: FlowKey, now: UInt64) -> Bool {
        let first = firstSlot(of: key)
        let expiresAt = expiry(now)
        return slots.withUnsafeMutableBufferPointer { slots in
            for index in first..<first + FlowTable.ways where slots[index].key == key && now < slots[index].expiresAt {
                slots[index].expiresAt = expiresAt
                return true
            }
            return false
        }
    }

    /// Records `key` as live from `now`, refreshing it if present; otherwise
    /// it takes a free or expired slot of its bucket, or evicts the least
    /// recently refreshed flow with the same remote address, or failing
    /// that the least recently refreshed one. So a remote host that makes
    /// this node answer a spray of ports pushes out mostly its own flows: it
    /// holds at most one slot of a bucket that was full of others'.
    mutating func insert(_ key: FlowKey, now: UInt64) {
        let first = firstSlot(of: key)
        let expiresAt = expiry(now)
        let counts = slots.withUnsafeMutableBufferPointer { slots -> (inserted: UInt64, evicted: UInt64) in
            var victim = first
            var sameRemote: Int? = nil
            for index in first..<first + FlowTable.ways {
                if slots[index].key == key && now < slots[index].expiresAt {
                    slots[index].expiresAt = expiresAt
                    return (0, 0)
                }
                // Dead slots have the smallest expiries of all: they are taken first.
                if slots[index].expiresAt < slots[victim].expiresAt { victim = index }
                if now < slots[index].expiresAt && slots[index].key.sharesRemote(with: key)
                    && (sameRemote.map { slots[index].expiresAt < slots[$0].expiresAt } ?? true) {
                    sameRemote = index
                }
            }
            if now < slots[victim].expiresAt, let sameRemote { victim = sameRemote }
            let wasLive = now < slots[victim].expiresAt
            slots[victim] = Slot(key: key, expiresAt: expiresAt)
            return (1, wasLive ? 1 : 0)
        }
        inserted &+= counts.inserted
        evicted &+= counts.evicted
    }

    /// Forgets every flow.
    mutating func removeAll() {
        for index in slots.indices { slots[index].expiresAt = 0 }
    }

    private func firstSlot(of key: FlowKey) -> Int {
        Int(truncatingIfNeeded: key.hash(seed: seed) & bucketMask) &* FlowTable.ways
    }

    /// `now + timeout`, saturating; never 0 (which marks an unused slot).
    private func expiry(_ now: UInt64) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(timeout)
        return overflow ? UInt64.max : max(sum, 1)
    }
}
