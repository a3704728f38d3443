import CTern
import IP

/// A nonblocking TCP socket listening on an `Endpoint`: the coordination
/// server's port (or a test's ephemeral one).
///
/// The socket has SO_REUSEADDR, so a restarted server binds again while its
/// old connections sit in TIME_WAIT (a second live listener on the same
/// port is still refused, EADDRINUSE). Binding `[::]` listens on IPv6 and,
/// whatever the system's `bindv6only`, IPv4 as well; `0.0.0.0` on IPv4
/// only. Register `fileDescriptor` for `.readable` and call `accept` until
/// it returns nil.
public final class TCPListener {
    private var descriptor: FileDescriptor
    /// The address and port actually bound (the kernel's port when 0 was asked).
    public let endpoint: Endpoint

    /// The bound port (never 0).
    public var port: UInt16 { endpoint.port }

    /// Binds to `endpoint` (port 0: an ephemeral port) and listens, with
    /// room for `backlog` connections waiting to be accepted (the kernel
    /// caps it at `net.core.somaxconn`). Throws EADDRINUSE if the port is
    /// taken, EADDRNOTAVAIL for an address that is not local.
    public init(endpoint: Endpoint, backlog: Int32 = 1024) throws(SystemError) {
        let descriptor = try TCPSocket.open(for: endpoint)
        let fd = descriptor.rawValue
        try setSocketOption(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1), "setsockopt(SO_REUSEADDR)")
        if endpoint.address == .v6(.unspecified) {
            try setSocketOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, Int32(0), "setsockopt(IPV6_V6ONLY)")
        }
        _ = try SystemError.check("bind") {
            TCPSocket.withAddress(of: endpoint) { pointer, length in bind(fd, pointer, length) }
        }
        _ = try SystemError.check("listen") { listen(fd, backlog) }
        self.endpoint = try TCPSocket.endpoint(of: fd, peer: false)
        self.descriptor = descriptor
    }

    /// The listening descriptor, to register for `.readable`.
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// Accepts one waiting connection — nonblocking, close-on-exec, with
    /// TCP_NODELAY, `keepalive` (nil: none) and an output limit of
    /// `outputCapacity` bytes; its `peer` is the client's endpoint — or
    /// returns nil if none is waiting. Connections that were reset before
    /// being accepted are skipped. Throws EMFILE/ENFILE when out of
    /// descriptors: the connection stays queued and the descriptor stays
    /// readable, so a level-triggered loop should stop watching the
    /// listener for a while instead of spinning.
    public func accept(
        outputCapacity: Int = TCPConnection.defaultOutputCapacity, keepalive: TCPKeepalive? = TCPKeepalive()
    ) throws(SystemError) -> TCPConnection? {
        let fd = descriptor.rawValue
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            // accept4 is a GNU extension CTern does not declare; the flags are
            // set right after (nothing execs in between on the loop's thread).
            let accepted = SystemError.retryingInterrupts {
                withMutableSocketAddress(&address) { pointer, _ in CTern.accept(fd, pointer, &length) }
            }
            if accepted < 0 {
                let code = tern_errno()
                if code == EAGAIN || code == EWOULDBLOCK { return nil }
                if code == ECONNABORTED { continue }
                throw SystemError("accept", errno: code)
            }
            let connection = FileDescriptor(adopting: accepted)
            try connection.setNonBlocking()
            try connection.setCloseOnExec()
            try TCPSocket.configure(accepted, keepalive: keepalive)
            let peer = try TCPSocket.decode(&address, length: length, "accept")
            return TCPConnection(descriptor: connection, peer: peer, outputCapacity: outputCapacity,
                                 connecting: false)
        }
    }

    /// Stops listening and closes the socket; waiting connections are
    /// reset. Later calls do nothing; `accept` fails with EBADF afterwards.
    public func close() {
        try? descriptor.close()
    }
}
