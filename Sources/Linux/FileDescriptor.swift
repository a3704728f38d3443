import CTern

/// Sole owner of one open file descriptor: the descriptor is closed exactly
/// once, by `close()` or else when the owner is destroyed.
///
/// Why a noncopyable struct rather than a class: ownership of a descriptor
/// is exactly a move-only value. A copy would be a second owner and a double
/// close — which on a busy process closes somebody else's freshly reused
/// descriptor — so the compiler refuses copies; transfers are explicit
/// (`consume`, `release()`), and there is no heap object or reference count
/// per descriptor. The shell's resources (`UDPSocket`, `TunDevice`, ...)
/// are final classes that hold one of these: they are few, long-lived and
/// shared by reference with the engine, while the descriptor inside them
/// stays single-owned.
///
/// After `close()` the value holds -1, so a stray later use fails with
/// EBADF instead of touching a recycled descriptor number.
public struct FileDescriptor: ~Copyable {
    /// The descriptor number, or -1 once closed or released.
    public private(set) var rawValue: Int32

    /// Takes ownership of `rawValue`, an open descriptor (traps if negative).
    public init(adopting rawValue: Int32) {
        precondition(rawValue >= 0, "not an open file descriptor")
        self.rawValue = rawValue
    }

    deinit {
        if rawValue >= 0 { _ = CTern.close(rawValue) }
    }

    /// True until `close()` or `release()`.
    public var isOpen: Bool { rawValue >= 0 }

    /// Closes the descriptor now; later calls do nothing. EINTR is not
    /// retried and not reported: Linux has released the descriptor by then,
    /// and closing again could close a reused number. Other errors (EIO from
    /// a deferred write) are thrown, with the descriptor closed all the same.
    public mutating func close() throws(SystemError) {
        guard rawValue >= 0 else { return }
        let fd = rawValue
        rawValue = -1
        if CTern.close(fd) == -1 && tern_errno() != EINTR { throw SystemError.current("close") }
    }

    /// Gives up ownership without closing and returns the number; the
    /// caller must close it.
    public consuming func release() -> Int32 {
        let fd = rawValue
        rawValue = -1  // The deinit that runs now closes nothing.
        return fd
    }

    /// Opens `path` with `flags` (`O_CLOEXEC` is always added) and, when
    /// `O_CREAT` is among them, `mode`.
    public static func open(_ path: String, flags: Int32, mode: UInt32 = 0) throws(SystemError) -> FileDescriptor {
        let fd = try withBoundedCString(path, capacity: Int(PATH_MAX), "open") { (cPath, _) throws(SystemError) in
            try SystemError.check("open") { tern_open(cPath, flags | O_CLOEXEC, mode_t(mode)) }
        }
        return FileDescriptor(adopting: fd)
    }

    /// A pipe whose two ends are close-on-exec (and nonblocking if asked).
    public static func pipe(nonBlocking: Bool = false) throws(SystemError) -> Pipe {
        // pipe2 is a GNU extension CTern does not declare; the daemon is
        // single-threaded, so setting the flags afterwards races with no exec.
        var fds: (Int32, Int32) = (-1, -1)
        _ = try withUnsafeMutableBytes(of: &fds) { (raw) throws(SystemError) in
            try SystemError.check("pipe") { CTern.pipe(raw.baseAddress!.assumingMemoryBound(to: Int32.self)) }
        }
        let ends = Pipe(readEnd: FileDescriptor(adopting: fds.0), writeEnd: FileDescriptor(adopting: fds.1))
        try ends.readEnd.setCloseOnExec()
        try ends.writeEnd.setCloseOnExec()
        if nonBlocking {
            try ends.readEnd.setNonBlocking()
            try ends.writeEnd.setNonBlocking()
        }
        return ends
    }

    /// Turns O_NONBLOCK on or off.
    public func setNonBlocking(_ enabled: Bool = true) throws(SystemError) {
        let fd = rawValue
        let flags = try SystemError.check("fcntl(F_GETFL)") { tern_fcntl_int(fd, F_GETFL, 0) }
        let wanted = enabled ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags {
            _ = try SystemError.check("fcntl(F_SETFL)") { tern_fcntl_int(fd, F_SETFL, wanted) }
        }
    }

    /// True if O_NONBLOCK is set.
    public func isNonBlocking() throws(SystemError) -> Bool {
        let fd = rawValue
        let flags = try SystemError.check("fcntl(F_GETFL)") { tern_fcntl_int(fd, F_GETFL, 0) }
        return flags & O_NONBLOCK != 0
    }

    /// Turns FD_CLOEXEC on or off (every descriptor this module creates has it on).
    public func setCloseOnExec(_ enabled: Bool = true) throws(SystemError) {
        let fd = rawValue
        let flags = try SystemError.check("fcntl(F_GETFD)") { tern_fcntl_int(fd, F_GETFD, 0) }
        let wanted = enabled ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        if wanted != flags {
            _ = try SystemError.check("fcntl(F_SETFD)") { tern_fcntl_int(fd, F_SETFD, wanted) }
        }
    }

    /// Reads at most `buffer.count` bytes. Returns the number read (0 at end
    /// of file), or nil if the descriptor is nonblocking and nothing is ready.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        let fd = rawValue
        return try SystemError.checkUnlessWouldBlock("read") { CTern.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Writes at most `bytes.count` bytes once (a short count is possible on
    /// pipes and sockets). Returns the number written, or nil if the
    /// descriptor is nonblocking and nothing could be written.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        let fd = rawValue
        return try SystemError.checkUnlessWouldBlock("write") { CTern.write(fd, bytes.baseAddress, bytes.count) }
    }

    /// Writes all of `bytes`, looping over short writes; for blocking
    /// descriptors (a nonblocking one that fills up throws EAGAIN).
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            guard let n = try write(UnsafeRawBufferPointer(rebasing: bytes[done...])) else {
                throw SystemError("write", errno: EAGAIN)
            }
            done += n
        }
    }

    /// Makes `target` (0, 1 or 2, say) a copy of this descriptor, closing
    /// what `target` was; `target` is not close-on-exec afterwards.
    public func duplicate(onto target: Int32) throws(SystemError) {
        let fd = rawValue
        _ = try SystemError.check("dup2") { dup2(fd, target) }
    }
}

/// The two ends of a pipe, each owned. Frozen so that users in other
/// modules can move one end out and keep the other (partial consumption).
@frozen
public struct Pipe: ~Copyable {
    /// The end to read from.
    public var readEnd: FileDescriptor
    /// The end to write to.
    public var writeEnd: FileDescriptor

    /// Pairs two owned descriptors.
    public init(readEnd: consuming FileDescriptor, writeEnd: consuming FileDescriptor) {
        self.readEnd = readEnd
        self.writeEnd = writeEnd
    }
}
