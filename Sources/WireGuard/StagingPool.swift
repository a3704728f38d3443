/// Fixed storage for packets waiting for a session (spec digest §7: up to 128
/// per peer), allocated once when the device starts. A slot holds one packet
/// at offset 0; staging and flushing copy into and out of it, and nothing
/// is allocated per packet.
final class StagingPool {
    /// Bytes per slot: the largest packet the device accepts.
    let slotSize: Int
    private let storage: UnsafeMutableRawBufferPointer
    private var lengths: [Int]
    private var freeSlots: [Int]

    /// A pool of `slots` slots of `slotSize` bytes.
    init(slots: Int, slotSize: Int) {
        self.slotSize = slotSize
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: slots * slotSize, alignment: 16)
        lengths = [Int](repeating: 0, count: slots)
        freeSlots = Array((0..<slots).reversed())
    }

    deinit { storage.deallocate() }

    /// Copies `packet` into a free slot; nil when the pool is full.
    func stage(_ packet: UnsafeRawBufferPointer) -> Int? {
        precondition(packet.count <= slotSize, "packet larger than a staging slot")
        guard let slot = freeSlots.popLast() else { return nil }
        UnsafeMutableRawBufferPointer(rebasing: storage[slot * slotSize..<slot * slotSize + packet.count])
            .copyMemory(from: packet)
        lengths[slot] = packet.count
        return slot
    }

    /// The packet in `slot`.
    func packet(_ slot: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[slot * slotSize..<slot * slotSize + lengths[slot]])
    }

    /// Returns `slot` to the pool.
    func release(_ slot: Int) {
        freeSlots.append(slot)
    }

    /// Free slots left.
    var available: Int { freeSlots.count }
}
