import CTern
import IP

/// One nonblocking TCP connection: a node's control connection to the
/// coordination server, or one of the server's accepted connections.
/// Reading, buffered writing, the output limit and completing a connect are
/// `StreamConnection`'s.
///
/// Every connection has TCP_NODELAY, and (unless asked otherwise)
/// keepalive probes and a user timeout as `TCPKeepalive` describes, so a
/// dead peer fails the connection (ETIMEDOUT on the next read or write)
/// within about a minute.
///
/// Connecting is nonblocking: `connect(to:)` returns at once with
/// `isConnecting` usually true. Register `interest` (it includes
/// `.writable` while connecting); when the loop reports the descriptor,
/// call `flush()` or `finishConnect()`, which throw the connect's failure
/// as `SystemError("connect", errno:)`. Bytes written meanwhile are queued
/// and sent once connected. A connect nobody answers fails only after the
/// kernel's SYN retries (about two minutes): give it a deadline in the loop.
public final class TCPConnection: StreamConnection {
    /// The remote endpoint: the one connected to, or the client's for an
    /// accepted connection (IPv4 clients of a `[::]` listener as IPv4).
    public let peer: Endpoint

    /// The default output limit (1 MiB): room for a full network-map push
    /// to a peer that is a little behind. Memory is used only while bytes wait.
    public static let defaultOutputCapacity = 1024 * 1024

    init(descriptor: consuming FileDescriptor, peer: Endpoint, outputCapacity: Int, connecting: Bool) {
        self.peer = peer
        super.init(descriptor: descriptor, outputCapacity: outputCapacity, connecting: connecting)
    }

    /// Starts connecting to `endpoint` (IPv4 or IPv6). Failures the kernel
    /// knows at once (ENETUNREACH, EADDRNOTAVAIL, sometimes ECONNREFUSED on
    /// loopback) are thrown here; the rest come from `finishConnect()` or
    /// `flush()`. At most `outputCapacity` bytes (1...`maximumOutputCapacity`)
    /// can wait; `keepalive` nil turns keepalive off. `source`, if given, is
    /// the local address to connect from (of the endpoint's family; any port).
    public static func connect(
        to endpoint: Endpoint, from source: IPAddress? = nil, outputCapacity: Int = defaultOutputCapacity,
        keepalive: TCPKeepalive? = TCPKeepalive()
    ) throws(SystemError) -> TCPConnection {
        let descriptor = try TCPSocket.open(for: endpoint)
        let fd = descriptor.rawValue
        try TCPSocket.configure(fd, keepalive: keepalive)
        if let source {
            let bound = TCPSocket.withAddress(of: Endpoint(source, port: 0)) { pointer, length in bind(fd, pointer, length) }
            if bound != 0 { throw SystemError("bind", errno: tern_errno()) }
        }
        let result = SystemError.retryingInterrupts {
            TCPSocket.withAddress(of: endpoint) { pointer, length in CTern.connect(fd, pointer, length) }
        }
        var connecting = false
        if result != 0 {
            // EINPROGRESS is the normal answer of a nonblocking connect. A
            // retry after EINTR sees the same connect under way (EALREADY)
            // or already done (EISCONN).
            let code = tern_errno()
            switch code {
            case EINPROGRESS, EALREADY: connecting = true
            case EISCONN: break
            default: throw SystemError("connect", errno: code)
            }
        }
        return TCPConnection(descriptor: descriptor, peer: endpoint, outputCapacity: outputCapacity,
                             connecting: connecting)
    }

    /// The local endpoint of the connection (its address and port on this side).
    public func localEndpoint() throws(SystemError) -> Endpoint {
        try TCPSocket.endpoint(of: fileDescriptor, peer: false)
    }
}
