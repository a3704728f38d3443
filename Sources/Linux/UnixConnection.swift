import CTern

/// One nonblocking Unix stream connection (a `wg` or `tern` client on the
/// daemon's control socket, or the client side of one). Reading, buffered
/// writing and the output limit are `StreamConnection`'s; the default
/// limit (64 KiB) suits the control socket, where a writer that produces
/// more — a `get` on a large device — writes in pieces of at most
/// `outputSpace` bytes and continues after a flush.
public final class UnixConnection: StreamConnection {
    /// Takes ownership of `fd`, a connected AF_UNIX stream socket, and makes
    /// it nonblocking and close-on-exec (if that fails, `fd` is closed). At
    /// most `outputCapacity` bytes (1...`maximumOutputCapacity`) can wait.
    public init(adopting fd: Int32, outputCapacity: Int = 64 * 1024) throws(SystemError) {
        let descriptor = FileDescriptor(adopting: fd)
        try descriptor.setNonBlocking()
        try descriptor.setCloseOnExec()
        super.init(descriptor: descriptor, outputCapacity: outputCapacity, connecting: false)
    }

    /// Connects to the listening socket at `path` (ENOENT: nothing there,
    /// ECONNREFUSED: nobody listening, EAGAIN: the listener's backlog is full).
    public static func connect(to path: String, outputCapacity: Int = 64 * 1024) throws(SystemError) -> UnixConnection {
        let descriptor = try connectedSocket(path)
        return try UnixConnection(adopting: descriptor.release(), outputCapacity: outputCapacity)
    }

    /// A nonblocking AF_UNIX stream socket connected to `path`.
    static func connectedSocket(_ path: String) throws(SystemError) -> FileDescriptor {
        var address = try unixSocketAddress(path, "connect")
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = try SystemError.check("socket") { socket(AF_UNIX, type, 0) }
        let descriptor = FileDescriptor(adopting: fd)
        // A Unix stream connect never completes later: it succeeds, or fails
        // (EAGAIN when the backlog is full) at once.
        _ = try SystemError.check("connect") {
            withSocketAddress(&address) { pointer, length in CTern.connect(fd, pointer, length) }
        }
        return descriptor
    }
}

/// The `sockaddr_un` for `path`; ENAMETOOLONG if it does not fit `sun_path`
/// with its NUL (107 bytes on Linux).
func unixSocketAddress(_ path: String, _ operation: StaticString) throws(SystemError) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    try withBoundedCString(path, capacity: capacity, operation) { (cPath, length) throws(SystemError) in
        if length == 0 { throw SystemError(operation, errno: ENOENT) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: cPath, count: length + 1))
        }
    }
    return address
}
