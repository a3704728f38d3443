import CTern
import IP

/// Tern's one UDP socket: nonblocking, dual-stack (AF_INET6 bound to
/// `[::]:port` with IPV6_V6ONLY off), close-on-exec.
///
/// IPv4 peers appear as IPv4 `Endpoint`s in both directions (see
/// `SocketAddress.swift`). Datagrams move in batches through a
/// `DatagramBatch` (`recvmmsg`/`sendmmsg`, no allocation) or one at a time
/// (`send(_:to:)` for handshakes, `receive(into:)`). EAGAIN is never an
/// error: it comes back as 0 datagrams, `false` or nil.
///
/// Offloads: batch sends coalesce runs of same-size datagrams to one
/// endpoint into one UDP GSO message (`UDP_SEGMENT`) when the kernel
/// supports it (`segmentationOffload`); the kernel (or the NIC) cuts them
/// into ordinary datagrams, so peers see no difference. If the kernel
/// refuses a segmented send, the socket falls back to one datagram per
/// message for good and the next `FlushResult` says so once. Receive
/// offload (UDP GRO) is opt-in, `setReceiveOffload(true)`: then one batch
/// slot may hold several datagrams (`DatagramBatch.segment(_:at:)`).
public final class UDPSocket {
    private var descriptor: FileDescriptor
    /// The local UDP port the socket is bound to (the kernel's choice when 0 was asked).
    public private(set) var port: UInt16
    /// The SO_MARK set by `setFirewallMark(_:)` (0: none); kept across `rebind(port:)`.
    public private(set) var firewallMark: UInt32 = 0
    /// True while batch sends use UDP GSO: the kernel supports UDP_SEGMENT
    /// and has not refused it. Turned off for good by a refusal, or by
    /// `setSegmentationOffload(false)`.
    public private(set) var segmentationOffload: Bool
    /// True when UDP_GRO is on (`setReceiveOffload(_:)`); kept across `rebind(port:)`.
    public private(set) var receiveOffload = false
    /// The buffer sizes asked for with `setBufferSizes`; kept across `rebind(port:)`.
    private var bufferSizes: (receive: Int32, send: Int32, force: Bool)?
    /// True once a segmented send went through: a later EINVAL is then
    /// taken as the destination's (path MTU), not as missing support.
    private var segmentationConfirmed = false
    /// The datagrams the last failed `send(_:from:)` covered (its first message).
    private var failedRun = 1
    /// Why segmentation offload was turned off, until a flush reports it.
    private var pendingNotice: String?

    /// Opens the socket and binds it to `[::]:port` (0: an ephemeral port,
    /// reported in `port`). Throws `SystemError` with errno EADDRINUSE if the
    /// port is taken.
    public init(port: UInt16 = 0) throws(SystemError) {
        let descriptor = try UDPSocket.openBound(port: port, mark: 0, gro: false)
        self.port = try UDPSocket.boundPort(descriptor.rawValue)
        // getsockopt(UDP_SEGMENT) answers (the default size, 0) where the kernel has UDP GSO.
        segmentationOffload = (try? socketOption(descriptor.rawValue, Int32(IPPROTO_UDP), UDP_SEGMENT,
                                                  "getsockopt(UDP_SEGMENT)")) != nil
        self.descriptor = descriptor
    }

    private static func openBound(port: UInt16, mark: UInt32, gro: Bool) throws(SystemError) -> FileDescriptor {
        let type = Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = try SystemError.check("socket") { socket(AF_INET6, type, 0) }
        let descriptor = FileDescriptor(adopting: fd)
        try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(0), "setsockopt(IPV6_V6ONLY)")
        if mark != 0 { try setSocketOption(fd, SOL_SOCKET, SO_MARK, mark, "setsockopt(SO_MARK)") }
        if gro { try setSocketOption(fd, Int32(IPPROTO_UDP), UDP_GRO, Int32(1), "setsockopt(UDP_GRO)") }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        // sin6_addr stays all zero: in6addr_any.
        _ = try SystemError.check("bind") {
            withSocketAddress(&address) { pointer, length in bind(fd, pointer, length) }
        }
        return descriptor
    }

    private static func boundPort(_ fd: Int32) throws(SystemError) -> UInt16 {
        var address = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = try SystemError.check("getsockname") {
            withMutableSocketAddress(&address) { pointer, _ in getsockname(fd, pointer, &length) }
        }
        return UInt16(bigEndian: address.sin6_port)
    }

    /// The socket's descriptor, to register for `.readable` (and `.writable`
    /// while a batch waits for room). It changes on `rebind(port:)`.
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// Receives up to `batch.capacity` waiting datagrams with one
    /// `recvmmsg` into slots 0..<n and returns n (also `batch.count`); 0 if
    /// none is waiting. Earlier contents of the batch are discarded. With
    /// receive offload on, a slot may hold several coalesced datagrams
    /// (`DatagramBatch.segmentCount(at:)`); give slots 64 KiB then, or a
    /// coalesced message is truncated.
    public func receive(into batch: DatagramBatch) throws(SystemError) -> Int {
        batch.prepareForReceive()
        let fd = descriptor.rawValue
        let received = try SystemError.checkUnlessWouldBlock("recvmmsg") {
            tern_recvmmsg(fd, batch.messages, UInt32(batch.capacity), Int32(MSG_DONTWAIT))
        }
        batch.finishReceive(Int(received ?? 0))
        return batch.count
    }

    /// Sends datagrams `start..<batch.count` with one `sendmmsg` and returns
    /// how many the kernel took, from `start` on: fewer than asked when the
    /// socket buffer filled (0 if it was full at once — wait for
    /// `.writable`) or when a datagram failed; that failure is thrown by the
    /// next call that starts at it. With segmentation offload, runs of
    /// same-size datagrams to one endpoint go as one message each and are
    /// taken or refused together. `flush(_:)` wraps this.
    public func send(_ batch: DatagramBatch, from start: Int = 0) throws(SystemError) -> Int {
        precondition(start >= 0 && start <= batch.count, "start outside the batch")
        guard start < batch.count else { return 0 }
        failedRun = 1
        if segmentationOffload {
            let messages = batch.buildSegmentedMessages(from: start)
            // Nothing coalesced: the plain messages do the same with less setup.
            if messages < batch.count - start { return try sendSegmented(batch, from: start, messages: messages) }
        }
        return try sendPlain(batch, from: start, count: batch.count - start)
    }

    /// One `sendmmsg` of the batch's one-datagram messages `start..<start + count`.
    private func sendPlain(_ batch: DatagramBatch, from start: Int, count: Int) throws(SystemError) -> Int {
        let fd = descriptor.rawValue
        let sent = try SystemError.checkUnlessWouldBlock("sendmmsg") {
            tern_sendmmsg(fd, batch.messages + start, UInt32(count), Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }
        return Int(sent ?? 0)
    }

    /// One `sendmmsg` of the segmented messages `batch.buildSegmentedMessages`
    /// made; returns the datagrams they covered. A refused first message of
    /// several datagrams (EIO: the route's device cannot checksum for GSO;
    /// EINVAL: no UDP_SEGMENT support, or a segment over the path MTU) is
    /// sent again as plain datagrams; if those go through and GSO never
    /// worked here (or it was EIO), GSO is turned off for good.
    private func sendSegmented(_ batch: DatagramBatch, from start: Int, messages: Int) throws(SystemError) -> Int {
        let fd = descriptor.rawValue
        let sent: Int32?
        do {
            sent = try SystemError.checkUnlessWouldBlock("sendmmsg") {
                tern_sendmmsg(fd, batch.segmented, UInt32(messages), Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
        } catch {
            let run = batch.segmentedRuns[0]
            guard run > 1, error.errno == EIO || error.errno == EINVAL else {
                failedRun = run
                throw error
            }
            let plain = try sendPlain(batch, from: start, count: run)
            if plain > 0 && (error.errno == EIO || !segmentationConfirmed) {
                segmentationOffload = false
                pendingNotice = "UDP segmentation offload (GSO) refused (" + error.description
                    + "); sending one datagram per message from now on"
            }
            return plain
        }
        let taken = Int(sent ?? 0)
        var datagrams = 0
        for k in 0..<taken {
            let run = batch.segmentedRuns[k]
            if run > 1 { segmentationConfirmed = true }
            datagrams += run
        }
        return datagrams
    }

    /// Sends every datagram of `batch` from `start` on, skipping those the
    /// kernel refuses (unreachable network, EPERM from a firewall, too big),
    /// and stops early only when the socket buffer is full. Never throws:
    /// one bad destination must not hold up the rest. The result carries a
    /// notice, once, when segmentation offload was turned off.
    public func flush(_ batch: DatagramBatch, from start: Int = 0) -> FlushResult {
        var result = FlushResult(next: start, failed: 0, lastError: nil)
        while result.next < batch.count {
            do {
                let sent = try send(batch, from: result.next)
                if sent == 0 { break }
                result.next += sent
            } catch {
                // A refused segmented message takes all its datagrams with it.
                let skipped = min(failedRun, batch.count - result.next)
                result.failed += skipped
                result.lastError = error
                result.next += skipped
            }
        }
        if let notice = pendingNotice {
            result.notice = notice
            pendingNotice = nil
        }
        return result
    }

    /// Turns segmentation offload (UDP GSO) for batch sends off, or back on
    /// if the kernel supports it; returns whether it is on now.
    @discardableResult
    public func setSegmentationOffload(_ enabled: Bool) -> Bool {
        segmentationOffload = enabled
            && (try? socketOption(descriptor.rawValue, Int32(IPPROTO_UDP), UDP_SEGMENT, "getsockopt(UDP_SEGMENT)")) != nil
        return segmentationOffload
    }

    /// Turns receive offload (UDP_GRO, Linux 5.0) on or off, on this socket
    /// and on any socket `rebind(port:)` opens later. While on, the kernel
    /// may hand over several datagrams of one sender as one batch slot (see
    /// `DatagramBatch.segment(_:at:)`); single-datagram `receive(into:)` then
    /// sees them as one. Throws ENOPROTOOPT where the kernel lacks it.
    public func setReceiveOffload(_ enabled: Bool) throws(SystemError) {
        try setSocketOption(descriptor.rawValue, Int32(IPPROTO_UDP), UDP_GRO, Int32(enabled ? 1 : 0),
                            "setsockopt(UDP_GRO)")
        receiveOffload = enabled
    }

    /// Sends one datagram to `endpoint`. Returns false if the socket buffer
    /// is full (EAGAIN): the datagram was not sent.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to endpoint: Endpoint) throws(SystemError) -> Bool {
        var address = sockaddr_in6(endpoint)
        let fd = descriptor.rawValue
        let sent = try SystemError.checkUnlessWouldBlock("sendto") {
            withSocketAddress(&address) { pointer, length in
                sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), pointer, length)
            }
        }
        return sent != nil
    }

    /// Receives one datagram into `buffer` (cut to `buffer.count` bytes if
    /// longer): its length and sender, or nil if none is waiting.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> (length: Int, endpoint: Endpoint)? {
        var address = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let fd = descriptor.rawValue
        let received = try SystemError.checkUnlessWouldBlock("recvfrom") {
            withMutableSocketAddress(&address) { pointer, _ in
                recvfrom(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT), pointer, &length)
            }
        }
        guard let received else { return nil }
        let sender = withUnsafeBytes(of: &address) { raw in
            decodeEndpoint(fromSocketAddress: raw.baseAddress!, length: Int(length))
        } ?? Endpoint(.v6(IPv6Address(high: 0, low: 0)), port: 0)
        return (min(received, buffer.count), sender)
    }

    /// Sets SO_MARK (the fwmark policy routing sees; needs CAP_NET_ADMIN) on
    /// the socket and on any socket `rebind(port:)` opens later; 0 clears it.
    public func setFirewallMark(_ mark: UInt32) throws(SystemError) {
        try setSocketOption(descriptor.rawValue, SOL_SOCKET, SO_MARK, mark, "setsockopt(SO_MARK)")
        firewallMark = mark
    }

    /// Moves the socket to `port` (`wg set ... listen-port`; 0: a new
    /// ephemeral port). A new socket is bound first and replaces the old one
    /// only on success, so a failure (EADDRINUSE, thrown) leaves the socket
    /// as it was. Asking for the current nonzero port does nothing. On
    /// success `fileDescriptor` is a new number: register it with the loop
    /// again (the old one left the epoll set when it was closed).
    public func rebind(port newPort: UInt16) throws(SystemError) {
        if newPort != 0 && newPort == port { return }
        let fresh = try UDPSocket.openBound(port: newPort, mark: firewallMark, gro: receiveOffload)
        let bound = try UDPSocket.boundPort(fresh.rawValue)
        // Assigning closes the old descriptor (its deinit runs).
        descriptor = fresh
        port = bound
        // A new socket starts with the system's default buffers (208 KiB),
        // too small for a burst while the thread is busy elsewhere.
        if let sizes = bufferSizes { try? setBufferSizes(receive: sizes.receive, send: sizes.send, force: sizes.force) }
    }

    /// Sets SO_RCVBUF and SO_SNDBUF (the kernel doubles the values and caps
    /// them at net.core.rmem_max/wmem_max unless `force` uses the
    /// CAP_NET_ADMIN variants SO_RCVBUFFORCE/SO_SNDBUFFORCE); `rebind`
    /// applies them to the new socket too.
    public func setBufferSizes(receive: Int32, send: Int32, force: Bool = false) throws(SystemError) {
        bufferSizes = (receive, send, force)
        let fd = descriptor.rawValue
        try setSocketOption(fd, SOL_SOCKET, force ? SO_RCVBUFFORCE : SO_RCVBUF, receive, "setsockopt(SO_RCVBUF)")
        try setSocketOption(fd, SOL_SOCKET, force ? SO_SNDBUFFORCE : SO_SNDBUF, send, "setsockopt(SO_SNDBUF)")
    }

    /// Closes the socket now (it is closed on release otherwise); later
    /// operations fail with EBADF.
    public func close() {
        try? descriptor.close()
    }
}

/// What `UDPSocket.flush(_:from:)` did.
public struct FlushResult: Equatable {
    /// The first datagram not yet handled: `batch.count` when all were
    /// handled, smaller when the socket buffer filled (wait for `.writable`
    /// and flush again from here).
    public var next: Int
    /// How many datagrams the kernel refused and were skipped.
    public var failed: Int
    /// The error of the last refused datagram, if any.
    public var lastError: SystemError?
    /// A line for the log, set once per socket: segmentation offload was
    /// refused by the kernel and is off from now on (nothing was lost).
    public var notice: String?

    /// A result with these values.
    public init(next: Int, failed: Int, lastError: SystemError?, notice: String? = nil) {
        self.next = next
        self.failed = failed
        self.lastError = lastError
        self.notice = notice
    }
}
