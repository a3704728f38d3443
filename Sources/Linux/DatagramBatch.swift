import CTern
import IP

/// A fixed set of datagram slots for `recvmmsg`/`sendmmsg`, allocated once.
///
/// Each slot has a buffer (a pointer and a capacity), a length and a peer
/// address; the `tern_mmsghdr`, `iovec` and `sockaddr_in6` arrays the kernel
/// reads and writes are built at creation and only patched afterwards, so
/// receiving or sending a batch allocates nothing.
///
/// Slot buffers come from one region the batch allocates
/// (`init(slots:bufferSize:)`), or from the caller: `setBuffer(_:forSlot:)`
/// points a slot at caller-owned memory for good (a packet pool with
/// headroom, say), and `append(pointingAt:to:)` sends caller-owned bytes
/// without copying. Caller-owned memory must outlive its use by the batch.
///
/// Receiving: `UDPSocket.receive(into:)` fills slots 0..<count. Sending:
/// write a datagram into `buffer(at: count)` and `append(length:to:)`, then
/// `UDPSocket.send(_:from:)` or `flush(_:)`; `removeAll()` when done.
public final class DatagramBatch {
    /// The number of slots: the most datagrams one call receives or sends.
    public let capacity: Int
    /// The datagrams in the batch: slots 0..<count are filled.
    public internal(set) var count = 0

    let messages: UnsafeMutablePointer<tern_mmsghdr>
    let vectors: UnsafeMutablePointer<iovec>
    let addresses: UnsafeMutablePointer<sockaddr_in6>
    private let bases: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private let sizes: UnsafeMutablePointer<Int>
    private let ownedRegion: UnsafeMutableRawPointer?

    /// A batch of `slots` slots, each with its own `bufferSize`-byte buffer
    /// in one region the batch owns (`bufferSize` 0: no region; every slot
    /// must then get `setBuffer(_:forSlot:)` before use).
    public init(slots: Int, bufferSize: Int) {
        precondition(slots >= 1 && slots <= 1024, "a batch has 1...1024 slots (UIO_MAXIOV)")
        precondition(bufferSize >= 0, "negative buffer size")
        capacity = slots
        messages = .allocate(capacity: slots)
        messages.initialize(repeating: tern_mmsghdr(), count: slots)
        vectors = .allocate(capacity: slots)
        vectors.initialize(repeating: iovec(), count: slots)
        addresses = .allocate(capacity: slots)
        addresses.initialize(repeating: sockaddr_in6(), count: slots)
        bases = .allocate(capacity: slots)
        sizes = .allocate(capacity: slots)
        if bufferSize > 0 {
            let region = UnsafeMutableRawPointer.allocate(byteCount: slots * bufferSize, alignment: 16)
            ownedRegion = region
            for i in 0..<slots { (bases + i).initialize(to: region + i * bufferSize) }
        } else {
            ownedRegion = nil
            // A valid placeholder; a zero-capacity slot receives nothing.
            for i in 0..<slots { (bases + i).initialize(to: UnsafeMutableRawPointer(addresses)) }
        }
        sizes.initialize(repeating: bufferSize, count: slots)
        for i in 0..<slots {
            vectors[i].iov_base = bases[i]
            vectors[i].iov_len = bufferSize
            messages[i].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + i)
            messages[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
            messages[i].msg_hdr.msg_iov = vectors + i
            messages[i].msg_hdr.msg_iovlen = 1
        }
    }

    deinit {
        ownedRegion?.deallocate()
        sizes.deallocate()
        bases.deallocate()
        addresses.deallocate()
        vectors.deallocate()
        messages.deallocate()
    }

    /// True when every slot holds a datagram.
    public var isFull: Bool { count == capacity }

    /// Points slot `index` at caller-owned `buffer` from now on (its
    /// capacity becomes `buffer.count`). The memory must stay valid while
    /// the batch may use it.
    public func setBuffer(_ buffer: UnsafeMutableRawBufferPointer, forSlot index: Int) {
        checkSlot(index)
        guard let base = buffer.baseAddress else { preconditionFailure("empty slot buffer") }
        bases[index] = base
        sizes[index] = buffer.count
    }

    /// The whole buffer of slot `index`: receive space, or where to write a
    /// datagram before `append(length:to:)`.
    public func buffer(at index: Int) -> UnsafeMutableRawBufferPointer {
        checkSlot(index)
        return UnsafeMutableRawBufferPointer(start: bases[index], count: sizes[index])
    }

    /// The bytes of datagram `index` (< count): what was received, or what
    /// will be sent.
    public func datagram(at index: Int) -> UnsafeRawBufferPointer {
        checkDatagram(index)
        return UnsafeRawBufferPointer(start: vectors[index].iov_base, count: length(at: index))
    }

    /// The length of datagram `index` (< count). For a received datagram
    /// that was truncated (`isTruncated(at:)`) this is what fitted.
    public func length(at index: Int) -> Int {
        checkDatagram(index)
        return min(Int(messages[index].msg_len), vectors[index].iov_len)
    }

    /// The peer of datagram `index` (< count): the sender of a received
    /// datagram (IPv4 peers as IPv4), the destination of one to send.
    public func endpoint(at index: Int) -> Endpoint {
        checkDatagram(index)
        return addresses[index].endpoint
    }

    /// True if received datagram `index` was longer than its slot buffer
    /// and cut short (MSG_TRUNC).
    public func isTruncated(at index: Int) -> Bool {
        checkDatagram(index)
        return messages[index].msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0
    }

    /// Adds a datagram already written to `buffer(at: count)[0..<length]`,
    /// to be sent to `endpoint`. Traps if the batch is full or `length`
    /// exceeds the slot's capacity.
    public func append(length: Int, to endpoint: Endpoint) {
        precondition(count < capacity, "datagram batch is full")
        precondition(length >= 0 && length <= sizes[count], "datagram longer than its slot")
        fill(count, base: bases[count], length: length, endpoint: endpoint)
    }

    /// Adds a datagram that is sent straight from caller-owned `bytes` (no
    /// copy); they must stay valid until sent. Traps if the batch is full.
    public func append(pointingAt bytes: UnsafeRawBufferPointer, to endpoint: Endpoint) {
        precondition(count < capacity, "datagram batch is full")
        // sendmmsg only reads through iov_base; the cast never leads to a write.
        let base = UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(addresses))
        fill(count, base: base, length: bytes.count, endpoint: endpoint)
    }

    /// Empties the batch (the slots and their buffers stay).
    public func removeAll() { count = 0 }

    private func fill(_ index: Int, base: UnsafeMutableRawPointer, length: Int, endpoint: Endpoint) {
        vectors[index].iov_base = base
        vectors[index].iov_len = length
        addresses[index] = sockaddr_in6(endpoint)
        messages[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
        messages[index].msg_hdr.msg_flags = 0
        messages[index].msg_len = UInt32(truncatingIfNeeded: length)
        count = index + 1
    }

    /// Resets every slot for a receive: full-capacity iovecs, full-size
    /// address fields, cleared flags. O(capacity) stores, no allocation.
    func prepareForReceive() {
        count = 0
        let nameLength = socklen_t(MemoryLayout<sockaddr_in6>.size)
        for i in 0..<capacity {
            vectors[i].iov_base = bases[i]
            vectors[i].iov_len = sizes[i]
            messages[i].msg_hdr.msg_namelen = nameLength
            messages[i].msg_hdr.msg_flags = 0
            messages[i].msg_len = 0
        }
    }

    /// Records that the kernel filled slots 0..<received; a sender address
    /// of another family than AF_INET6 (impossible on Tern's socket) is
    /// rewritten to AF_INET6 here so that `endpoint(at:)` stays total.
    func finishReceive(_ received: Int) {
        for i in 0..<received where Int32(addresses[i].sin6_family) != AF_INET6 {
            let length = Int(messages[i].msg_hdr.msg_namelen)
            let endpoint = decodeEndpoint(fromSocketAddress: UnsafeRawPointer(addresses + i), length: length)
                ?? Endpoint(.v6(IPv6Address(high: 0, low: 0)), port: 0)
            addresses[i] = sockaddr_in6(endpoint)
        }
        count = received
    }

    private func checkSlot(_ index: Int) {
        precondition(index >= 0 && index < capacity, "slot index out of range")
    }

    private func checkDatagram(_ index: Int) {
        precondition(index >= 0 && index < count, "datagram index out of range")
    }
}
