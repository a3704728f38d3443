import CTern

/// One nonblocking stream socket with a bounded output queue: what Unix
/// (`UnixConnection`) and TCP (`TCPConnection`) connections share.
///
/// `write(_:)` takes all of the bytes or none: what the socket does not
/// take at once waits in the output queue and goes out with `flush()` when
/// the descriptor becomes writable (register `interest`, which includes
/// `.writable` exactly while that is needed). The queue holds at most
/// `outputCapacity` bytes — the hard limit that keeps a slow or stalled
/// peer from growing memory without bound: a write that does not fit in
/// `outputSpace` returns false and takes nothing. A writer of a large
/// stream writes it in pieces that fit and continues after a flush; a
/// server that pushes whole messages treats false as "this peer is too
/// slow" and closes it. Memory for the queue is allocated only while bytes
/// wait, so the capacity costs nothing for a peer that keeps up.
///
/// A socket whose connect is still under way (`isConnecting`, TCP only)
/// queues writes; `flush()`, `read(into:)` or `finishConnect()` completes
/// the connect once the loop reports the descriptor, and throws the
/// connect's failure (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ...).
///
/// SIGPIPE is never raised: a closed peer shows up as EPIPE or ECONNRESET.
public class StreamConnection {
    private var descriptor: FileDescriptor
    private var output: OutputQueue
    /// True from a nonblocking connect until `finishConnect()` sees it end.
    public private(set) var isConnecting: Bool

    /// The largest `outputCapacity` a connection accepts (64 MiB); larger
    /// values are a programming error and trap.
    public static let maximumOutputCapacity = 64 * 1024 * 1024

    /// Takes ownership of `descriptor`, a nonblocking, close-on-exec stream socket.
    init(descriptor: consuming FileDescriptor, outputCapacity: Int, connecting: Bool) {
        precondition(outputCapacity > 0 && outputCapacity <= StreamConnection.maximumOutputCapacity,
                     "output capacity out of range")
        self.descriptor = descriptor
        output = OutputQueue(limit: outputCapacity)
        isConnecting = connecting
    }

    /// The descriptor, to register with an `EventLoop` (see `interest`).
    public final var fileDescriptor: Int32 { descriptor.rawValue }

    /// What to register the descriptor for now: `.readable`, plus
    /// `.writable` while connecting or while output is pending.
    public final var interest: Interest {
        isConnecting || hasPendingOutput ? [.readable, .writable] : .readable
    }

    /// True if bytes (or the peer's close) wait to be read. A server busy
    /// with other connections asks before calling this one silent: its
    /// data may have come in time and only not been read yet.
    public final var hasPendingInput: Bool {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(truncatingIfNeeded: POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    /// Reads what has arrived into `buffer`: the byte count, 0 when the
    /// peer has closed its end (or `buffer` is empty), or nil if nothing is
    /// waiting. A pending connect is completed first (`finishConnect()`:
    /// nil while it is under way, its failure thrown). Throws ECONNRESET,
    /// ETIMEDOUT (keepalive) and the like.
    public final func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        // Reading first would consume a failed connect's error as recv's.
        if isConnecting {
            guard try finishConnect() else { return nil }
        }
        let fd = descriptor.rawValue
        return try SystemError.checkUnlessWouldBlock("recv") {
            recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
        }
    }

    /// The most bytes that can wait in the output queue.
    public final var outputCapacity: Int { output.limit }

    /// The bytes waiting in the output queue.
    public final var pendingOutputCount: Int { output.count }

    /// True while bytes wait in the output queue for `flush()`.
    public final var hasPendingOutput: Bool { output.count > 0 }

    /// How many bytes `write(_:)` accepts now for certain.
    public final var outputSpace: Int { output.space }

    /// Sends `bytes`, queueing what the socket does not take at once.
    /// Returns false, having taken nothing, if `bytes.count > outputSpace`.
    /// Throws on a broken connection (EPIPE, ECONNRESET).
    public final func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Bool {
        guard bytes.count <= outputSpace else { return false }
        guard bytes.count > 0 else { return true }
        var sent = 0
        // Queued bytes go first; a connecting socket cannot send yet.
        if !hasPendingOutput && !isConnecting {
            sent = try sendNow(bytes)
        }
        if sent < bytes.count {
            let queued = output.append(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
            assert(queued, "the space check above guarantees room")
        }
        return true
    }

    /// `write(_:)` for an array (whose `withUnsafeBytes` cannot pass a typed error through).
    public final func write(_ bytes: [UInt8]) throws(SystemError) -> Bool {
        try write(bytes[...])
    }

    /// `write(_:)` for a slice of an array.
    public final func write(_ bytes: ArraySlice<UInt8>) throws(SystemError) -> Bool {
        var failure: SystemError?
        let taken = bytes.withUnsafeBytes { raw -> Bool in
            do throws(SystemError) {
                return try write(raw)
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return taken
    }

    /// Completes a pending connect (see `finishConnect()`), then sends as
    /// much of the output queue as the socket takes; true when the queue
    /// is empty afterwards (false too while the connect is under way).
    @discardableResult
    public final func flush() throws(SystemError) -> Bool {
        if isConnecting {
            guard try finishConnect() else { return false }
        }
        while hasPendingOutput {
            let front = output.front
            let sent = try sendNow(front)
            output.removeFirst(sent)
            // A short send means the socket buffer is full: wait for `.writable`.
            if sent < front.count { return false }
        }
        return true
    }

    /// For a connect under way: true once it has succeeded, false while it
    /// is still in progress; its failure is thrown as
    /// `SystemError("connect", errno:)` (ECONNREFUSED, ETIMEDOUT, ...), after
    /// which the connection is dead and should be closed. Call it when the
    /// loop reports the descriptor writable (or with an error). True at once
    /// for a connection that is not connecting.
    public final func finishConnect() throws(SystemError) -> Bool {
        guard isConnecting else { return true }
        let fd = descriptor.rawValue
        let failure = try socketOption(fd, SOL_SOCKET, SO_ERROR, "getsockopt(SO_ERROR)")
        if failure != 0 {
            // SO_ERROR is cleared by reading it: remember the outcome instead.
            isConnecting = false
            throw SystemError("connect", errno: failure)
        }
        // No error yet: the connect is done exactly when there is a peer.
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withMutableSocketAddress(&address) { pointer, _ in getpeername(fd, pointer, &length) }
        if result != 0 {
            let code = tern_errno()
            if code == ENOTCONN { return false }
            isConnecting = false
            throw SystemError("getpeername", errno: code)
        }
        isConnecting = false
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
    /// the bytes already sent, and can still send to us. Pending output is
    /// not flushed first (flush until `hasPendingOutput` is false, then shut down).
    public final func shutdownOutput() throws(SystemError) {
        let fd = descriptor.rawValue
        _ = try SystemError.check("shutdown") { shutdown(fd, Int32(SHUT_WR)) }
    }

    /// Closes the connection now, dropping pending output and its memory
    /// (it is closed on release otherwise); later operations fail with EBADF.
    public final func close() {
        output.removeAll()
        isConnecting = false
        try? descriptor.close()
    }
}
