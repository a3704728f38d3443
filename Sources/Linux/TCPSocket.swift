import CTern
import IP

/// The socket-level pieces `TCPListener` and `TCPConnection` share:
/// opening a socket of an endpoint's family, its socket address, and the
/// per-connection options.
///
/// IPv4 endpoints use AF_INET sockets and IPv6 endpoints AF_INET6 ones, so
/// addresses are what they say; only a listener on `[::]` also accepts IPv4
/// clients, whose IPv4-mapped addresses come back as IPv4 endpoints.
enum TCPSocket {
    // From <netinet/tcp.h>, which CTern does not include; Linux ABI values,
    // the same on every architecture.
    static let noDelay: Int32 = 1        // TCP_NODELAY
    static let keepIdle: Int32 = 4       // TCP_KEEPIDLE
    static let keepInterval: Int32 = 5   // TCP_KEEPINTVL
    static let keepCount: Int32 = 6      // TCP_KEEPCNT
    static let userTimeout: Int32 = 18   // TCP_USER_TIMEOUT

    /// A nonblocking, close-on-exec stream socket of `endpoint`'s family.
    static func open(for endpoint: Endpoint) throws(SystemError) -> FileDescriptor {
        let family = endpoint.address.isIPv4 ? AF_INET : AF_INET6
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = try SystemError.check("socket") { socket(family, type, 0) }
        return FileDescriptor(adopting: fd)
    }

    /// Runs `body` with `endpoint` as a `sockaddr_in` or `sockaddr_in6` (matching `open(for:)`).
    static func withAddress<Result>(
        of endpoint: Endpoint, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) -> Result {
        switch endpoint.address {
        case .v4(let v4):
            var address = sockaddr_in(v4, port: endpoint.port)
            return withSocketAddress(&address, body)
        case .v6:
            var address = sockaddr_in6(endpoint)
            return withSocketAddress(&address, body)
        }
    }

    /// The endpoint `getsockname` (local) or `getpeername` (peer) reports for `fd`.
    static func endpoint(of fd: Int32, peer: Bool) throws(SystemError) -> Endpoint {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        if peer {
            _ = try SystemError.check("getpeername") {
                withMutableSocketAddress(&address) { pointer, _ in getpeername(fd, pointer, &length) }
            }
        } else {
            _ = try SystemError.check("getsockname") {
                withMutableSocketAddress(&address) { pointer, _ in getsockname(fd, pointer, &length) }
            }
        }
        return try decode(&address, length: length, peer ? "getpeername" : "getsockname")
    }

    /// The endpoint in a socket address the kernel filled in; EAFNOSUPPORT
    /// for a family other than AF_INET and AF_INET6.
    static func decode(
        _ address: inout sockaddr_storage, length: socklen_t, _ operation: StaticString
    ) throws(SystemError) -> Endpoint {
        let endpoint = withUnsafeBytes(of: &address) { raw in
            decodeEndpoint(fromSocketAddress: raw.baseAddress!, length: min(Int(length), raw.count))
        }
        guard let endpoint else { throw SystemError(operation, errno: EAFNOSUPPORT) }
        return endpoint
    }

    /// Sets what every Tern TCP connection wants: TCP_NODELAY (messages are
    /// written whole, so Nagle's algorithm only adds latency) and, unless
    /// `keepalive` is nil, keepalive probes and the user timeout.
    static func configure(_ fd: Int32, keepalive: TCPKeepalive?) throws(SystemError) {
        let tcp = Int32(IPPROTO_TCP)
        try setSocketOption(fd, tcp, noDelay, Int32(1), "setsockopt(TCP_NODELAY)")
        guard let keepalive else { return }
        try setSocketOption(fd, SOL_SOCKET, SO_KEEPALIVE, Int32(1), "setsockopt(SO_KEEPALIVE)")
        try setSocketOption(fd, tcp, keepIdle, keepalive.idleSeconds, "setsockopt(TCP_KEEPIDLE)")
        try setSocketOption(fd, tcp, keepInterval, keepalive.intervalSeconds, "setsockopt(TCP_KEEPINTVL)")
        try setSocketOption(fd, tcp, keepCount, keepalive.probeCount, "setsockopt(TCP_KEEPCNT)")
        if keepalive.userTimeoutSeconds > 0 {
            let milliseconds = UInt32(clamping: Int64(keepalive.userTimeoutSeconds) * 1000)
            try setSocketOption(fd, tcp, userTimeout, milliseconds, "setsockopt(TCP_USER_TIMEOUT)")
        }
    }
}
