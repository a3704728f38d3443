import CTern
import IP

/// A growable buffer of netlink messages built with libmnl, sent to the
/// kernel in one `sendto` (a batch).
///
/// Build one message at a time: `begin`, an optional `extraHeader`, any
/// number of attributes (nested with `beginNest`/`endNest`), `end`. The
/// buffer grows as needed; positions are kept as offsets, never pointers, so
/// growing is safe in the middle of a message. Misuse (an attribute outside a
/// message, a second `begin`) is a programmer error and traps.
final class MessageBuffer {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    /// Bytes of finished messages.
    private(set) var length = 0
    /// Offset of the message being built, if any.
    private var current: Int?
    /// The sequence number of each finished message, in order.
    private(set) var sequences: [UInt32] = []
    /// The offset of each finished message, in order.
    private(set) var offsets: [Int] = []

    /// An empty buffer with room for `capacity` bytes before it grows.
    init(capacity: Int = 16384) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
    }

    deinit { storage.deallocate() }

    /// The finished messages.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: length) }

    /// The number of finished messages.
    var count: Int { sequences.count }

    /// The finished message at `index` (its header and payload).
    func message(at index: Int) -> UnsafePointer<nlmsghdr> {
        UnsafePointer(header(at: offsets[index]))
    }

    /// The bytes of the finished messages `range`.
    func bytes(of range: Range<Int>) -> UnsafeRawBufferPointer {
        let start = offsets[range.lowerBound]
        let end = range.upperBound < offsets.count ? offsets[range.upperBound] : length
        return UnsafeRawBufferPointer(start: storage + start, count: end - start)
    }

    /// Starts a message of `type` with `flags` (NLM_F_REQUEST is added) and
    /// `sequence`.
    func begin(type: UInt16, flags: Int32, sequence: UInt32) {
        precondition(current == nil, "a netlink message is already being built")
        reserve(Int(MemoryLayout<nlmsghdr>.size))
        let header = mnl_nlmsg_put_header(storage + length)!
        header.pointee.nlmsg_type = type
        header.pointee.nlmsg_flags = UInt16(truncatingIfNeeded: flags | NLM_F_REQUEST)
        header.pointee.nlmsg_seq = sequence
        current = length
    }

    /// Appends the family header (`ifinfomsg`, `rtmsg`, `nfgenmsg`, ...) of
    /// the message being built.
    func extraHeader<Header>(_ value: Header) {
        let size = MemoryLayout<Header>.size
        reserve(size)
        let pointer = mnl_nlmsg_put_extra_header(open(), size)!
        pointer.storeBytes(of: value, as: Header.self)
    }

    /// Appends an attribute whose payload is `payload`.
    func put(_ type: Int, bytes payload: UnsafeRawBufferPointer) {
        reserve(4 + payload.count)
        mnl_attr_put(open(), UInt16(type), payload.count, payload.baseAddress)
    }

    /// Appends an attribute holding a 32-bit number in host byte order
    /// (rtnetlink's convention).
    func put(_ type: Int, u32 value: UInt32) {
        reserve(8)
        mnl_attr_put_u32(open(), UInt16(type), value)
    }

    /// Appends an attribute holding a 32-bit number in network byte order
    /// (nf_tables' convention).
    func put(_ type: Int, u32BigEndian value: UInt32) {
        put(type, u32: value.bigEndian)
    }

    /// Appends a NUL-terminated string attribute.
    func put(_ type: Int, string: String) {
        var bytes = Array(string.utf8)
        bytes.append(0)
        bytes.withUnsafeBytes { raw in put(type, bytes: raw) }
    }

    /// Appends an attribute holding an IP address in network byte order.
    func put(_ type: Int, address: IPAddressBytes) {
        withUnsafeBytes(of: address.bytes) { raw in
            put(type, bytes: UnsafeRawBufferPointer(rebasing: raw[0..<address.count]))
        }
    }

    /// Starts a nested attribute; pass the result to `endNest`.
    func beginNest(_ type: Int) -> Int {
        reserve(4)
        let attribute = mnl_attr_nest_start(open(), UInt16(type))!
        return UnsafeMutableRawPointer(attribute) - storage
    }

    /// Ends the nested attribute `beginNest` started at `offset`.
    func endNest(_ offset: Int) {
        let attribute = (storage + offset).assumingMemoryBound(to: nlattr.self)
        mnl_attr_nest_end(open(), attribute)
    }

    /// Finishes the message being built.
    func end() {
        let header = open()
        offsets.append(length)
        length += Int(header.pointee.nlmsg_len)
        sequences.append(header.pointee.nlmsg_seq)
        current = nil
    }

    /// The header of the message being built.
    private func open() -> UnsafeMutablePointer<nlmsghdr> {
        guard let current else { preconditionFailure("no netlink message is being built") }
        return header(at: current)
    }

    private func header(at offset: Int) -> UnsafeMutablePointer<nlmsghdr> {
        (storage + offset).assumingMemoryBound(to: nlmsghdr.self)
    }

    /// Makes room for `count` more bytes (plus alignment) after the tail.
    private func reserve(_ count: Int) {
        let tail = current.map { $0 + Int(header(at: $0).pointee.nlmsg_len) } ?? length
        let needed = tail + align4(count) + 8
        guard needed > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        grown.initializeMemory(as: UInt8.self, repeating: 0, count: newCapacity)
        grown.copyMemory(from: storage, byteCount: capacity)
        storage.deallocate()
        storage = grown
        capacity = newCapacity
    }
}

/// `count` rounded up to netlink's 4-byte alignment.
@inline(__always)
func align4(_ count: Int) -> Int { (count + 3) & ~3 }

/// An IP address as 4 or 16 network-order bytes, ready for an attribute or a
/// comparison with nf_tables register contents.
struct IPAddressBytes {
    /// The bytes; only the first `count` are meaningful.
    var bytes: (UInt64, UInt64) = (0, 0)
    /// 4 or 16.
    let count: Int

    init(_ address: IPAddress) {
        count = address.byteCount
        let size = count
        withUnsafeMutableBytes(of: &bytes) { raw in
            address.write(networkOrderBytesTo: UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]))
        }
    }
}
