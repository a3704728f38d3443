/// The bytes a stream connection has accepted but the kernel has not yet
/// taken: a ring buffer that grows on demand up to a hard `limit`.
///
/// Why grow instead of allocating `limit` bytes up front: a coordination
/// server holds a thousand mostly idle connections, each allowed to queue a
/// few hundred KiB for a push. Almost every write goes straight to the
/// kernel, so storage is allocated only when bytes must wait, doubled as
/// needed, and given back when the queue drains (small buffers are kept, so
/// a connection that queues a little every time does not churn the heap).
struct OutputQueue: ~Copyable {
    /// The most bytes the queue holds; `append` refuses more.
    let limit: Int
    private var storage: UnsafeMutableRawPointer?
    /// Bytes allocated at `storage` (0 when there is none).
    private(set) var allocatedSize = 0
    /// Offset of the oldest byte in `storage`.
    private var head = 0
    /// The bytes waiting.
    private(set) var count = 0

    /// The first allocation.
    static let initialSize = 4 * 1024
    /// Storage up to this size stays allocated when the queue drains.
    static let retainedSize = 16 * 1024

    /// An empty queue that holds at most `limit` bytes (positive).
    init(limit: Int) {
        precondition(limit > 0, "output limit must be positive")
        self.limit = limit
    }

    deinit {
        storage?.deallocate()
    }

    /// How many more bytes `append` takes.
    var space: Int { limit - count }

    /// Appends all of `bytes`, or nothing and returns false if they exceed `space`.
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= space else { return false }
        guard bytes.count > 0 else { return true }
        if count + bytes.count > allocatedSize { grow(toHold: count + bytes.count) }
        let base = storage!
        let tail = (head + count) % allocatedSize
        let first = min(bytes.count, allocatedSize - tail)
        (base + tail).copyMemory(from: bytes.baseAddress!, byteCount: first)
        if first < bytes.count {
            base.copyMemory(from: bytes.baseAddress! + first, byteCount: bytes.count - first)
        }
        count += bytes.count
        return true
    }

    /// The oldest waiting bytes that are contiguous in storage (all of them
    /// unless they wrap around the end); empty when nothing waits. Valid
    /// until the next mutation.
    var front: UnsafeRawBufferPointer {
        guard count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: storage! + head, count: min(count, allocatedSize - head))
    }

    /// Drops the oldest `n` bytes (0...count), as sent.
    mutating func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= count, "removing more than is queued")
        guard n > 0 else { return }
        count -= n
        head = count == 0 ? 0 : (head + n) % allocatedSize
        if count == 0 && allocatedSize > OutputQueue.retainedSize { releaseStorage() }
    }

    /// Drops everything and frees the storage.
    mutating func removeAll() {
        count = 0
        head = 0
        releaseStorage()
    }

    private mutating func releaseStorage() {
        storage?.deallocate()
        storage = nil
        allocatedSize = 0
    }

    /// Reallocates to at least `needed` bytes (at most `limit`), doubling,
    /// and moves the waiting bytes to the front in order.
    private mutating func grow(toHold needed: Int) {
        var size = allocatedSize == 0 ? min(OutputQueue.initialSize, limit) : allocatedSize
        while size < needed {
            // Compared this way round so that doubling cannot overflow a 32-bit Int.
            size = size >= limit - size ? limit : size * 2
        }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 1)
        if let old = storage {
            let first = min(count, allocatedSize - head)
            grown.copyMemory(from: old + head, byteCount: first)
            if first < count { (grown + first).copyMemory(from: old, byteCount: count - first) }
            old.deallocate()
        }
        storage = grown
        allocatedSize = size
        head = 0
    }
}
