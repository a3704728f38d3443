import CTern

/// A nonblocking Unix stream socket listening at a filesystem path: the
/// daemon's control socket (`/var/run/wireguard/IFACE.sock` for `wg`).
///
/// Creating it makes the parent directories (mode 0755) if missing,
/// replaces a stale socket file left by a dead daemon, refuses to replace a
/// live one (EADDRINUSE) or anything that is not a socket (EEXIST), and
/// binds with umask 077 so the socket file is mode 0700 (srwx------, as
/// wireguard-go's): only its owner, root, may connect to the daemon. The
/// umask is process-wide for that moment: create listeners before starting
/// other threads.
///
/// Closing the listener (or releasing it) unlinks the path, unless another
/// process has since put its own socket there.
public final class UnixListener {
    private var descriptor: FileDescriptor
    /// The socket's filesystem path.
    public let path: String
    private var device: UInt64 = 0
    private var inode: UInt64 = 0
    private var unlinked = false

    /// Creates, binds and listens at `path` (at most 107 bytes).
    public init(path: String, backlog: Int32 = 16) throws(SystemError) {
        var address = try unixSocketAddress(path, "bind")
        try makeParentDirectories(path)
        try UnixListener.removeStaleSocket(path)
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = try SystemError.check("socket") { socket(AF_UNIX, type, 0) }
        let descriptor = FileDescriptor(adopting: fd)
        let previousMask = umask(0o077)
        let bound = withSocketAddress(&address) { pointer, length in bind(fd, pointer, length) }
        let bindError = tern_errno()
        _ = umask(previousMask)
        if bound != 0 { throw SystemError("bind", errno: bindError) }
        let identity = try? fileIdentity(path)
        if listen(fd, backlog) != 0 {
            let error = SystemError.current("listen")
            _ = withPath(path) { unlink($0) }
            throw error
        }
        self.descriptor = descriptor
        self.path = path
        device = identity?.device ?? 0
        inode = identity?.inode ?? 0
    }

    deinit {
        removeSocketFile()
    }

    /// The listening descriptor, to register for `.readable`.
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// Accepts one pending connection (nonblocking, close-on-exec, with an
    /// output buffer of `outputCapacity` bytes), or returns nil if none is
    /// waiting. Call until nil when the descriptor is readable.
    public func accept(outputCapacity: Int = 64 * 1024) throws(SystemError) -> UnixConnection? {
        let fd = descriptor.rawValue
        // accept4 is a GNU extension CTern does not declare; the connection
        // sets O_NONBLOCK and FD_CLOEXEC itself (nothing execs in between).
        let accepted = try SystemError.checkUnlessWouldBlock("accept") { CTern.accept(fd, nil, nil) }
        guard let accepted else { return nil }
        return try UnixConnection(adopting: accepted, outputCapacity: outputCapacity)
    }

    /// Closes the socket and unlinks its path (if the file there is still
    /// ours). Later calls do nothing; `accept` fails with EBADF afterwards.
    public func close() {
        try? descriptor.close()
        removeSocketFile()
    }

    private func removeSocketFile() {
        guard !unlinked else { return }
        unlinked = true
        // Only remove the file this listener bound: a newer daemon may own the path now.
        guard let now = try? fileIdentity(path), now.device == device, now.inode == inode else { return }
        _ = withPath(path) { unlink($0) }
    }

    /// Removes a socket file at `path` that nobody listens on any more.
    private static func removeStaleSocket(_ path: String) throws(SystemError) {
        guard let identity = try fileIdentity(path) else { return }
        guard identity.isSocket else { throw SystemError("bind", errno: EEXIST) }
        let alive: Bool
        do {
            _ = try UnixConnection.connectedSocket(path)
            alive = true
        } catch {
            // ECONNREFUSED: nobody listens; EAGAIN: a full backlog, so somebody does.
            alive = error.isWouldBlock
        }
        if alive { throw SystemError("bind", errno: EADDRINUSE) }
        if withPath(path, { unlink($0) }) != 0 && tern_errno() != ENOENT {
            throw SystemError.current("unlink")
        }
    }
}

/// Device, inode and type of the file at `path` (not following a final
/// symlink), or nil if there is none.
func fileIdentity(_ path: String) throws(SystemError) -> (device: UInt64, inode: UInt64, isSocket: Bool)? {
    var status = stat()
    let result = withPath(path) { lstat($0, &status) }
    if result != 0 {
        if tern_errno() == ENOENT { return nil }
        throw SystemError.current("lstat")
    }
    let isSocket = UInt32(status.st_mode) & UInt32(S_IFMT) == UInt32(S_IFSOCK)
    return (UInt64(status.st_dev), UInt64(status.st_ino), isSocket)
}

/// Creates every missing directory above the last "/" of `path` with mode
/// 0755 (less the umask), like `mkdir -p "$(dirname path)"`.
func makeParentDirectories(_ path: String) throws(SystemError) {
    var bytes = Array(path.utf8)
    var end = bytes.count
    while end > 0 && bytes[end - 1] != UInt8(ascii: "/") { end -= 1 }
    guard end > 1 else { return }  // relative file name, or directly under "/"
    bytes.append(0)
    for i in 1..<end where bytes[i] == UInt8(ascii: "/") {
        bytes[i] = 0
        let result = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { mkdir($0.baseAddress!, 0o755) }
        }
        bytes[i] = UInt8(ascii: "/")
        if result != 0 && tern_errno() != EEXIST { throw SystemError.current("mkdir") }
    }
}

/// Runs `body` with `path` as a C string (a path with a NUL byte is cut there).
func withPath<Result>(_ path: String, _ body: (UnsafePointer<CChar>) -> Result) -> Result {
    var bytes = Array(path.utf8)
    bytes.append(0)
    return bytes.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
}
