import CTern

/// One nonblocking Unix stream connection (a `wg` or `tern` client on the
/// daemon's control socket, or the client side of one) with a small,
/// bounded output buffer allocated once.
///
/// `write(_:)` takes all of the bytes or none: what the socket does not
/// take at once is kept in the output buffer and sent by `flush()` when the
/// descriptor becomes writable (register `.writable` while
/// `hasPendingOutput`). A writer that produces more than `outputCapacity`
/// bytes — a `get` on a large device — writes in pieces of at most
/// `outputSpace` bytes and continues after a flush. SIGPIPE is never raised:
/// a closed peer shows up as EPIPE.
public final class UnixConnection {
    private var descriptor: FileDescriptor
    private let output: UnsafeMutableRawPointer
    /// The size of the output buffer: the most bytes that can be waiting.
    public let outputCapacity: Int
    private var head = 0
    private var tail = 0

    /// Takes ownership of `fd`, a connected AF_UNIX stream socket, and makes
    /// it nonblocking and close-on-exec (if that fails, `fd` is closed).
    public init(adopting fd: Int32, outputCapacity: Int = 64 * 1024) throws(SystemError) {
        precondition(outputCapacity > 0, "output buffer capacity must be positive")
        let descriptor = FileDescriptor(adopting: fd)
        try descriptor.setNonBlocking()
        try descriptor.setCloseOnExec()
        self.descriptor = descriptor
        self.outputCapacity = outputCapacity
        output = .allocate(byteCount: outputCapacity, alignment: 1)
    }

    deinit {
        output.deallocate()
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

    /// The descriptor, to register for `.readable` (and `.writable` while
    /// output is pending).
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// Reads what has arrived into `buffer`: the byte count, 0 when the
    /// peer has closed its end, or nil if nothing is waiting.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        let fd = descriptor.rawValue
        return try SystemError.checkUnlessWouldBlock("recv") {
            recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
        }
    }

    /// The bytes waiting in the output buffer.
    public var pendingOutputCount: Int { tail - head }

    /// True while bytes wait in the output buffer for `flush()`.
    public var hasPendingOutput: Bool { tail > head }

    /// How many bytes `write(_:)` accepts now for certain.
    public var outputSpace: Int { outputCapacity - pendingOutputCount }

    /// Sends `bytes`, queueing what the socket does not take at once.
    /// Returns false, having taken nothing, if `bytes.count > outputSpace`.
    /// Throws on a broken connection (EPIPE, ECONNRESET).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Bool {
        guard bytes.count <= outputSpace else { return false }
        guard bytes.count > 0 else { return true }
        var sent = 0
        if !hasPendingOutput {
            sent = try sendNow(bytes)
        }
        let rest = bytes.count - sent
        if rest > 0 {
            if tail + rest > outputCapacity {
                // Move the pending bytes to the front to make room at the end.
                let pending = tail - head
                (output).copyMemory(from: output + head, byteCount: pending)
                head = 0
                tail = pending
            }
            (output + tail).copyMemory(from: bytes.baseAddress! + sent, byteCount: rest)
            tail += rest
        }
        return true
    }

    /// Sends as much of the output buffer as the socket takes; true when
    /// the buffer is empty afterwards.
    @discardableResult
    public func flush() throws(SystemError) -> Bool {
        while hasPendingOutput {
            let sent = try sendNow(UnsafeRawBufferPointer(start: output + head, count: tail - head))
            if sent == 0 { return false }
            head += sent
        }
        head = 0
        tail = 0
        return true
    }

    /// One nonblocking `send`: the bytes the socket took (0 if it was full).
    private func sendNow(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        let fd = descriptor.rawValue
        let sent = try SystemError.checkUnlessWouldBlock("send") {
            send(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }
        return sent ?? 0
    }

    /// Shuts down the sending direction: the peer reads end of stream after
    /// the bytes already sent. Pending output is not flushed first.
    public func shutdownOutput() throws(SystemError) {
        let fd = descriptor.rawValue
        _ = try SystemError.check("shutdown") { shutdown(fd, Int32(SHUT_WR)) }
    }

    /// Closes the connection now, dropping pending output (it is closed on
    /// release otherwise); later operations fail with EBADF.
    public func close() {
        head = 0
        tail = 0
        try? descriptor.close()
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
