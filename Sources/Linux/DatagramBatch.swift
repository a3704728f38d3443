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
/// Receiving: `UDPSocket.receive(into:)` fills slots 0..<count. On a socket
/// with receive offload (`UDPSocket.setReceiveOffload(_:)`, UDP GRO) one slot
/// may hold several datagrams from one sender coalesced by the kernel:
/// `segmentCount(at:)` says how many and `segment(_:at:)` gives each one's
/// bytes in place. Sending: write a datagram into `buffer(at: count)` and
/// `append(length:to:)`, then `UDPSocket.send(_:from:)` or `flush(_:)`;
/// `removeAll()` when done. With segmentation offload (UDP GSO) the socket
/// sends runs of same-size datagrams to one endpoint as one message whose
/// iovecs are the slot buffers themselves (nothing is copied).
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
    /// One control buffer of `controlStride` bytes per slot (UDP_GRO on
    /// receive) and per segmented message (UDP_SEGMENT on send).
    private let controls: UnsafeMutableRawPointer
    private let controlStride: Int
    /// The GRO segment size of each received slot (0: one datagram).
    private let segmentSizes: UnsafeMutablePointer<Int>
    /// Segmented send: the messages `buildSegmentedMessages(from:)` made,
    /// message k covering `segmentedRuns[k]` consecutive slots (its iovecs
    /// are theirs).
    let segmented: UnsafeMutablePointer<tern_mmsghdr>
    let segmentedRuns: UnsafeMutablePointer<Int>

    /// The most datagrams one segmented send carries (the kernel's
    /// UDP_MAX_SEGMENTS, 64 on every kernel with UDP GSO; newer ones allow more).
    static let maxSegments = 64
    /// The most payload bytes one segmented send carries (an IPv4 UDP
    /// datagram's limit, 65,535 - 20 - 8).
    static let maxSegmentedBytes = 65_507

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
        controlStride = tern_udp_control_space()
        controls = .allocate(byteCount: slots * controlStride, alignment: 16)
        controls.initializeMemory(as: UInt8.self, repeating: 0, count: slots * controlStride)
        segmentSizes = .allocate(capacity: slots)
        segmentSizes.initialize(repeating: 0, count: slots)
        segmented = .allocate(capacity: slots)
        segmented.initialize(repeating: tern_mmsghdr(), count: slots)
        segmentedRuns = .allocate(capacity: slots)
        segmentedRuns.initialize(repeating: 0, count: slots)
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
        segmentedRuns.deallocate()
        segmented.deallocate()
        segmentSizes.deallocate()
        controls.deallocate()
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
    /// that was truncated (`isTruncated(at:)`) this is what fitted; for a
    /// slot holding several coalesced datagrams, their total.
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

    /// The GRO segment size of received slot `index` (< count): the length
    /// of each datagram the kernel coalesced into it (the last may be
    /// shorter), or 0 when the slot holds one datagram as sent.
    public func segmentSize(at index: Int) -> Int {
        checkDatagram(index)
        return segmentSizes[index]
    }

    /// How many datagrams received slot `index` (< count) holds: 1 unless
    /// the kernel coalesced several (receive offload).
    public func segmentCount(at index: Int) -> Int {
        let size = segmentSize(at: index)
        let total = length(at: index)
        guard size > 0, total > size else { return 1 }
        return (total + size - 1) / size
    }

    /// Datagram `segment` (< `segmentCount(at: index)`) of received slot
    /// `index`, in place in the slot buffer: bytes
    /// `segment * segmentSize ..< min((segment + 1) * segmentSize, length)`
    /// (the whole datagram when the slot holds one). All come from
    /// `endpoint(at: index)`.
    public func segment(_ segment: Int, at index: Int) -> UnsafeMutableRawBufferPointer {
        let size = segmentSize(at: index)
        let total = length(at: index)
        let base = vectors[index].iov_base ?? bases[index]
        guard size > 0, total > size else {
            precondition(segment == 0, "segment index out of range")
            return UnsafeMutableRawBufferPointer(start: base, count: total)
        }
        let start = segment * size
        precondition(segment >= 0 && start < total, "segment index out of range")
        return UnsafeMutableRawBufferPointer(start: base + start, count: min(size, total - start))
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
        tern_mmsghdr_set_control(messages + index, nil, 0)
        segmentSizes[index] = 0
        messages[index].msg_hdr.msg_flags = 0
        messages[index].msg_len = UInt32(truncatingIfNeeded: length)
        count = index + 1
    }

    /// Resets every slot for a receive: full-capacity iovecs, full-size
    /// address fields and control buffers, cleared flags. O(capacity)
    /// stores, no allocation.
    func prepareForReceive() {
        count = 0
        let nameLength = socklen_t(MemoryLayout<sockaddr_in6>.size)
        for i in 0..<capacity {
            vectors[i].iov_base = bases[i]
            vectors[i].iov_len = sizes[i]
            messages[i].msg_hdr.msg_namelen = nameLength
            tern_mmsghdr_set_control(messages + i, controls + i * controlStride, controlStride)
            messages[i].msg_hdr.msg_flags = 0
            messages[i].msg_len = 0
        }
    }

    /// Records that the kernel filled slots 0..<received; a sender address
    /// of another family than AF_INET6 (impossible on Tern's socket) is
    /// rewritten to AF_INET6 here so that `endpoint(at:)` stays total.
    func finishReceive(_ received: Int) {
        for i in 0..<received {
            segmentSizes[i] = Int(tern_mmsghdr_udp_gro_size(messages + i))
        }
        for i in 0..<received where Int32(addresses[i].sin6_family) != AF_INET6 {
            let length = Int(messages[i].msg_hdr.msg_namelen)
            let endpoint = decodeEndpoint(fromSocketAddress: UnsafeRawPointer(addresses + i), length: length)
                ?? Endpoint(.v6(IPv6Address(high: 0, low: 0)), port: 0)
            addresses[i] = sockaddr_in6(endpoint)
        }
        count = received
    }

    /// Groups datagrams `start..<count` into the messages of a segmented
    /// send (`segmented[0..<n]`, returned n): each message is a run of
    /// consecutive datagrams to one endpoint, all as long as the first
    /// except perhaps a shorter last one, at most `maxSegments` of them and
    /// `maxSegmentedBytes` in all; a run of more than one carries a
    /// UDP_SEGMENT control message with the first one's length. Its iovecs
    /// are the slots' own, so nothing is copied.
    func buildSegmentedMessages(from start: Int) -> Int {
        var k = 0
        var i = start
        let nameLength = socklen_t(MemoryLayout<sockaddr_in6>.size)
        while i < count {
            let first = i
            let size = vectors[i].iov_len
            var total = size
            i += 1
            if size > 0 && size <= Int(UInt16.max) {
                while i < count && i - first < Self.maxSegments {
                    let length = vectors[i].iov_len
                    if length == 0 || length > size || total + length > Self.maxSegmentedBytes { break }
                    if tern_sockaddr_in6_same(addresses + i, addresses + first) == 0 { break }
                    total += length
                    i += 1
                    if length < size { break }
                }
            }
            let run = i - first
            let message = segmented + k
            message.pointee.msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + first)
            message.pointee.msg_hdr.msg_namelen = nameLength
            message.pointee.msg_hdr.msg_iov = vectors + first
            message.pointee.msg_hdr.msg_iovlen = run
            message.pointee.msg_hdr.msg_flags = 0
            message.pointee.msg_len = 0
            if run > 1 {
                _ = tern_mmsghdr_set_udp_segment(message, controls + k * controlStride, controlStride,
                                                  UInt16(truncatingIfNeeded: size))
            } else {
                tern_mmsghdr_set_control(message, nil, 0)
            }
            segmentedRuns[k] = run
            k += 1
        }
        return k
    }

    private func checkSlot(_ index: Int) {
        precondition(index >= 0 && index < capacity, "slot index out of range")
    }

    private func checkDatagram(_ index: Int) {
        precondition(index >= 0 && index < count, "datagram index out of range")
    }
}
