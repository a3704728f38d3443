import CTern

/// The kernel's answer to one message of a batch.
struct Acknowledgement {
    /// 0 for success, otherwise the positive errno.
    var errno: Int32
    /// The extended-ACK text, if the kernel sent one.
    var kernelMessage: String?
}

/// A netlink socket (libmnl), bound to the network namespace it was created
/// in, that sends batches of messages and collects the kernel's replies.
///
/// Requests on one socket are sequential; the socket is not for sharing
/// between threads. Replies wait at most `receiveTimeoutSeconds`.
final class NetlinkSocket {
    private let handle: OpaquePointer
    private let fd: Int32
    private var sequence: UInt32
    /// How many datagrams this socket has sent (for tests and statistics).
    private(set) var datagramsSent = 0
    private let receiveBuffer: UnsafeMutableRawBufferPointer

    /// How long a reply may take before `NetlinkError.Code.timedOut`.
    static let receiveTimeoutSeconds = 10
    /// Socket buffer size asked for, so that large batches and their
    /// acknowledgements fit (the kernel may grant less).
    static let socketBufferBytes: Int32 = 4 << 20
    /// The receive buffer: larger than any single datagram the kernel sends
    /// (dump parts are at most 32 KiB).
    static let receiveBufferBytes = 64 << 10

    /// Opens a socket of netlink protocol `bus` (NETLINK_ROUTE,
    /// NETLINK_NETFILTER) inside the network namespace at `namespacePath`
    /// (the caller's when nil). `name` names the socket in error messages.
    init(bus: Int32, namespacePath: String?, name: String) throws(NetlinkError) {
        let opened = try withNetworkNamespace(namespacePath) { () throws(NetlinkError) -> OpaquePointer in
            guard let socket = mnl_socket_open2(bus, Int32(SOCK_CLOEXEC.rawValue)) else {
                throw lastError("opening a " + name + " netlink socket")
            }
            return socket
        }
        guard mnl_socket_bind(opened, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let error = lastError("binding a " + name + " netlink socket")
            mnl_socket_close(opened)
            throw error
        }
        handle = opened
        fd = mnl_socket_get_fd(opened)
        sequence = UInt32(truncatingIfNeeded: tern_monotonic_ns() / 1000)
        receiveBuffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: NetlinkSocket.receiveBufferBytes, alignment: 8)
        configure()
    }

    deinit {
        mnl_socket_close(handle)
        receiveBuffer.deallocate()
    }

    /// Best-effort socket options: extended ACKs with the kernel's error
    /// text, ACKs that do not echo the whole request, large buffers and a
    /// receive timeout. A kernel without one of them still works.
    private func configure() {
        var one: Int32 = 1
        let intSize = socklen_t(MemoryLayout<Int32>.size)
        _ = mnl_socket_setsockopt(handle, NETLINK_EXT_ACK, &one, intSize)
        _ = mnl_socket_setsockopt(handle, NETLINK_CAP_ACK, &one, intSize)
        var bytes = NetlinkSocket.socketBufferBytes
        // The *FORCE variants pass the sysctl limits with CAP_NET_ADMIN.
        if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, intSize) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, intSize)
        }
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, intSize) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, intSize)
        }
        var timeout = timeval()
        timeout.tv_sec = .init(NetlinkSocket.receiveTimeoutSeconds)
        _ = setsockopt(fd, SOL_SOCKET, Int32(TERN_SO_RCVTIMEO), &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A fresh sequence number for the next message.
    func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// Sends `bytes` (whole messages) in one datagram.
    private func send(_ bytes: UnsafeRawBufferPointer, _ operation: String) throws(NetlinkError) {
        while true {
            let sent = mnl_socket_sendto(handle, bytes.baseAddress, bytes.count)
            if sent == bytes.count {
                datagramsSent += 1
                return
            }
            if sent < 0 && tern_errno() == EINTR { continue }
            if sent < 0 { throw lastError(operation) }
            throw NetlinkError(.messageTooLong, operation)
        }
    }

    /// Receives one datagram into the receive buffer; nil when `nonblocking`
    /// and nothing is waiting.
    private func receive(nonblocking: Bool, _ operation: String) throws(NetlinkError) -> UnsafeRawBufferPointer? {
        let flags = MSG_TRUNC | (nonblocking ? MSG_DONTWAIT : 0)
        while true {
            let received = recv(fd, receiveBuffer.baseAddress, receiveBuffer.count, Int32(flags))
            if received >= 0 {
                guard received <= receiveBuffer.count else { throw NetlinkError(.malformedReply, operation) }
                return UnsafeRawBufferPointer(start: receiveBuffer.baseAddress, count: received)
            }
            let errno = tern_errno()
            if errno == EINTR { continue }
            if (errno == EAGAIN || errno == EWOULDBLOCK) && nonblocking { return nil }
            throw NetlinkError(errno: errno, operation)
        }
    }

    /// The socket's granted buffer size for `option` (SO_SNDBUF, SO_RCVBUF).
    private func bufferSize(_ option: Int32) -> Int {
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, option, &value, &size) == 0 else { return 212_992 }
        return Int(value)
    }

    /// Splits `batch` into runs of messages that fit one datagram and whose
    /// acknowledgements fit the receive buffer: the kernel answers a whole
    /// datagram before `sendto` returns and drops ACKs that do not fit
    /// (ENOBUFS). An acknowledgement takes about 1 KiB of receive buffer.
    private func chunks(of batch: MessageBuffer) -> [Range<Int>] {
        let maximumBytes = max(4096, bufferSize(SO_SNDBUF) / 2)
        let maximumMessages = max(64, bufferSize(SO_RCVBUF) / 1024)
        var ranges: [Range<Int>] = []
        var start = 0
        while start < batch.count {
            var end = start + 1
            while end < batch.count && end - start < maximumMessages
                && batch.bytes(of: start..<end + 1).count <= maximumBytes {
                end += 1
            }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    /// Sends `batch` and returns the kernel's acknowledgement of each
    /// message, in order: nil for a message that got none (one sent without
    /// NLM_F_ACK that succeeded, or one never sent or processed).
    ///
    /// The batch goes in one datagram when it fits the socket's buffers (a
    /// routing batch of a few thousand messages does, with CAP_NET_ADMIN);
    /// otherwise, if `splittable`, in several, sent one after another, and
    /// none after a datagram with a failed message. An nfnetlink batch
    /// (BATCH_BEGIN ... BATCH_END) is never splittable.
    ///
    /// Waits until every message sent with NLM_F_ACK is acknowledged; once
    /// an error arrives, takes only the replies already queued (the kernel
    /// answers a datagram while `sendto` runs, so they are all there).
    func exchange(_ batch: MessageBuffer, _ operation: String, splittable: Bool = true) throws(NetlinkError) -> [Acknowledgement?] {
        var results = [Acknowledgement?](repeating: nil, count: batch.count)
        guard batch.count > 0 else { return results }
        for range in splittable ? chunks(of: batch) : [0..<batch.count] {
            var expectsAck = [Bool](repeating: false, count: batch.count)
            var expected = 0
            for index in range where Int32(batch.message(at: index).pointee.nlmsg_flags) & NLM_F_ACK != 0 {
                expectsAck[index] = true
                expected += 1
            }
            try send(batch.bytes(of: range), operation)
            var acknowledged = 0
            var failed = false
            while acknowledged < expected {
                guard let datagram = try receive(nonblocking: failed, operation) else { break }
                try forEachMessage(in: datagram) { (message) throws(NetlinkError) in
                    guard Int32(message.pointee.nlmsg_type) == NLMSG_ERROR else { return }
                    let index = Int(message.pointee.nlmsg_seq &- batch.sequences[0])
                    guard range.contains(index), batch.sequences[index] == message.pointee.nlmsg_seq,
                          results[index] == nil else { return }
                    guard let ack = acknowledgement(in: message) else {
                        throw NetlinkError(.malformedReply, operation)
                    }
                    results[index] = ack
                    if expectsAck[index] { acknowledged += 1 }
                    if ack.errno != 0 { failed = true }
                }
            }
            if failed { break }
        }
        return results
    }

    /// Sends `request` (one message: a dump or a get with NLM_F_ACK) and
    /// passes each reply to `onReply` until the kernel says done. Returns
    /// false if the kernel flagged the dump as interrupted by a concurrent
    /// change (NLM_F_DUMP_INTR): the caller should dump again.
    func request(
        _ request: MessageBuffer, _ operation: String,
        _ onReply: (UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Void
    ) throws(NetlinkError) -> Bool {
        precondition(request.count == 1, "one request at a time")
        let sequence = request.sequences[0]
        try send(request.bytes, operation)
        var consistent = true
        var done = false
        while !done {
            guard let datagram = try receive(nonblocking: false, operation) else { continue }
            try forEachMessage(in: datagram) { (message) throws(NetlinkError) in
                guard !done, message.pointee.nlmsg_seq == sequence else { return }
                switch Int32(message.pointee.nlmsg_type) {
                case NLMSG_DONE:
                    done = true
                    // A dump may end with a negative errno in NLMSG_DONE.
                    if let status = familyHeader(of: message, as: Int32.self), status < 0 {
                        throw NetlinkError(errno: -status, operation)
                    }
                case NLMSG_ERROR:
                    done = true
                    guard let ack = acknowledgement(in: message) else {
                        throw NetlinkError(.malformedReply, operation)
                    }
                    if ack.errno != 0 {
                        throw NetlinkError(errno: ack.errno, operation, detail: ack.kernelMessage)
                    }
                case NLMSG_NOOP, NLMSG_OVERRUN:
                    return
                default:
                    if Int32(message.pointee.nlmsg_flags) & NLM_F_DUMP_INTR != 0 { consistent = false }
                    try onReply(message)
                    // A get without NLM_F_DUMP is answered by one message
                    // (and its ACK, which ends the loop above).
                }
            }
        }
        return consistent
    }
}

/// Reads the NLMSG_ERROR `message`: the errno (0 for an ACK) and, when the
/// kernel appended extended-ACK attributes, its text. Nil if malformed.
func acknowledgement(in message: UnsafePointer<nlmsghdr>) -> Acknowledgement? {
    guard let error = familyHeader(of: message, as: nlmsgerr.self) else { return nil }
    var ack = Acknowledgement(errno: -error.error, kernelMessage: nil)
    let flags = Int32(message.pointee.nlmsg_flags)
    guard flags & NLM_F_ACK_TLVS != 0 else { return ack }
    // The attributes follow the echoed request: only its header when the
    // kernel capped the echo (NETLINK_CAP_ACK), the whole request otherwise.
    var offset = MemoryLayout<nlmsgerr>.size
    if flags & NLM_F_CAPPED == 0 {
        offset += Int(error.msg.nlmsg_len) - MemoryLayout<nlmsghdr>.size
    }
    try? forEachAttribute(in: attributeRegion(of: message, after: offset)) { (type, payload) throws(NetlinkError) in
        if type == Int(NLMSGERR_ATTR_MSG.rawValue) { ack.kernelMessage = payload.string }
    }
    return ack
}
