import CTern
import Linux
import Testing

@Suite("SignalSource")
struct SignalSourceTests {
    /// True if `signal` is blocked in the calling thread.
    private func isBlocked(_ signal: Int32) -> Bool {
        var current = sigset_t()
        _ = pthread_sigmask(SIG_BLOCK, nil, &current)
        return sigismember(&current, signal) == 1
    }

    // SIGHUP raised at this thread is read from the signalfd; the mask is restored afterwards.
    @Test func readsRaisedSignal() throws {
        let wasBlocked = isBlocked(SIGHUP)
        do {
            let source = try SignalSource()
            #expect(isBlocked(SIGHUP) && isBlocked(SIGTERM) && isBlocked(SIGINT))
            #expect(try source.next() == nil)
            let loop = try EventLoop()
            try loop.register(source.fileDescriptor, token: 1, interest: .readable)
            #expect(raise(SIGHUP) == 0)
            #expect(try waitFor(1, in: loop))
            #expect(try source.next() == SIGHUP)
            #expect(source.lastSenderProcessID == getpid())
            #expect(try source.next() == nil)
            withExtendedLifetime(source) {}
        }
        #expect(isBlocked(SIGHUP) == wasBlocked)
    }

    // SIGPIPE is ignored once a source exists: writing to a pipe without reader fails with EPIPE.
    @Test func ignoresSIGPIPE() throws {
        let source = try SignalSource(signals: [SIGUSR2])
        var pipe = try FileDescriptor.pipe()
        try pipe.readEnd.close()
        var byte: UInt8 = 0
        let error = systemError { try withUnsafeBytes(of: &byte) { try pipe.writeEnd.write($0) } }
        #expect(error?.errno == EPIPE)
        withExtendedLifetime(source) {}
    }
}
