import CTern

/// Termination and reload signals delivered as readable events instead of
/// asynchronous handlers: the signals are blocked and read from a signalfd
/// that sits in the `EventLoop` like any other descriptor.
///
/// Creating a source blocks its signals in the calling thread's mask and
/// sets SIGPIPE to ignored (a write to a closed socket then fails with EPIPE
/// instead of killing the daemon; that stays so). Releasing the source
/// closes the signalfd and restores the thread's previous mask, so it must
/// be released on the thread that created it — the daemon's only thread.
/// Create it before starting other threads, which inherit the mask, or a
/// process-directed signal may be delivered to one that does not block it.
public final class SignalSource {
    /// SIGTERM, SIGINT and SIGHUP: stop, stop, reload.
    public static var defaultSignals: [Int32] { [SIGTERM, SIGINT, SIGHUP] }

    private var descriptor: FileDescriptor
    private var previousMask = sigset_t()
    private var info = signalfd_siginfo()

    /// Blocks `signals` in this thread, ignores SIGPIPE, and opens a
    /// nonblocking, close-on-exec signalfd for them.
    public init(signals: [Int32] = SignalSource.defaultSignals) throws(SystemError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals {
            if sigaddset(&set, signal) != 0 { throw SystemError.current("sigaddset") }
        }
        if tern_signal_ignore(SIGPIPE) != 0 { throw SystemError.current("sigaction(SIGPIPE)") }
        var previous = sigset_t()
        try SystemError.checkReturnedCode("pthread_sigmask", pthread_sigmask(SIG_BLOCK, &set, &previous))
        let fd = retryingSignalfd(&set)
        if fd < 0 {
            let error = SystemError.current("signalfd")
            _ = pthread_sigmask(SIG_SETMASK, &previous, nil)
            throw error
        }
        descriptor = FileDescriptor(adopting: fd)
        previousMask = previous
    }

    deinit {
        _ = pthread_sigmask(SIG_SETMASK, &previousMask, nil)
    }

    /// The signalfd, to register for `.readable`.
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// Takes one pending signal: its number (SIGTERM, ...), or nil if none
    /// is pending. Call it until nil when the descriptor is readable.
    public func next() throws(SystemError) -> Int32? {
        let fd = descriptor.rawValue
        let size = MemoryLayout<signalfd_siginfo>.size
        let count = try withUnsafeMutableBytes(of: &info) { (raw) throws(SystemError) -> Int? in
            try SystemError.checkUnlessWouldBlock("read(signalfd)") { CTern.read(fd, raw.baseAddress, size) }
        }
        guard let count else { return nil }
        // The kernel hands out whole records only.
        guard count == size else { throw SystemError("read(signalfd)", errno: EIO) }
        return Int32(bitPattern: info.ssi_signo)
    }

    /// The process ID of the sender of the signal last returned by `next()`
    /// (0 for a signal raised by the kernel).
    public var lastSenderProcessID: Int32 { Int32(bitPattern: info.ssi_pid) }
}

private func retryingSignalfd(_ set: inout sigset_t) -> Int32 {
    SystemError.retryingInterrupts { signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
}
