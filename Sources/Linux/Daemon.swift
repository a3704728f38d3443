import CTern

/// Going to the background the way `wireguard-go IFACE` does: the command
/// returns only once the daemon is really up — its interface and socket
/// exist — and fails with the daemon's own error message otherwise.
///
/// ```
/// var readiness = try Daemon.detach()       // the parent never returns
/// do { ... create TUN, UDP socket, control socket ... }
/// catch { readiness.fail(error.description); exit(1) }
/// try readiness.succeed()                   // the parent exits 0 now
/// ```
///
/// Call `detach()` early, while the process has one thread (a fork copies
/// only the calling thread), and before creating a `SignalSource` or
/// anything else that must belong to the daemon.
public enum Daemon {
    /// Forks. The parent waits on a pipe for the child's verdict and exits:
    /// 0 once the child calls `succeed()`, 1 — printing the child's message
    /// on its standard error — once it calls `fail(_:)` or exits first. The
    /// child (the only one this returns in) starts a new session with no
    /// controlling terminal (`setsid`), moves to "/", and gets the handle to
    /// report through. Throws, in the original process, if the pipe or the
    /// fork fails.
    public static func detach() throws(SystemError) -> DaemonReadiness {
        // Buffered stdio output would otherwise be written by both processes.
        _ = fflush(nil)
        var pipe = try FileDescriptor.pipe()
        let pid = fork()
        if pid < 0 { throw SystemError.current("fork") }
        if pid > 0 {
            try? pipe.writeEnd.close()
            exitReporting(awaitReadiness(from: pipe.readEnd))
        }
        try? pipe.readEnd.close()
        let readiness = DaemonReadiness(writeEnd: pipe.writeEnd)
        if setsid() < 0 {
            let error = SystemError.current("setsid")
            readiness.fail(error.description)
            throw error
        }
        _ = chdir("/")
        return readiness
    }

    /// The parent's side: reads the pipe until the child reports or every
    /// write end is closed. Blocks.
    public static func awaitReadiness(from readEnd: borrowing FileDescriptor) -> DaemonOutcome {
        var message: [UInt8] = []
        var kind: UInt8? = nil
        var chunk: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        while message.count < maximumMessage {
            let count = withUnsafeMutableBytes(of: &chunk) { raw -> Int? in
                (try? readEnd.read(into: raw)) ?? 0
            }
            guard let count, count > 0 else { break }
            withUnsafeBytes(of: &chunk) { raw in
                for byte in raw[0..<count] {
                    if kind == nil { kind = byte } else { message.append(byte) }
                }
            }
            if kind == DaemonReadiness.readyByte { return .ready }
        }
        guard kind == DaemonReadiness.failedByte else { return .exitedEarly }
        return .failed(String(decoding: message, as: UTF8.self))
    }

    private static let maximumMessage = 4096

    private static func exitReporting(_ outcome: DaemonOutcome) -> Never {
        switch outcome {
        case .ready:
            exit(0)
        case .failed(let message):
            writeToStandardError(message)
            exit(1)
        case .exitedEarly:
            writeToStandardError("the background process exited before it was ready")
            exit(1)
        }
    }

    private static func writeToStandardError(_ text: String) {
        var line = Array(text.utf8)
        if line.last != UInt8(ascii: "\n") { line.append(UInt8(ascii: "\n")) }
        line.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = SystemError.retryingInterrupts { CTern.write(2, raw.baseAddress! + done, raw.count - done) }
                if n <= 0 { return }
                done += n
            }
        }
    }
}

/// How the background process ended its start, as its parent saw it.
public enum DaemonOutcome: Equatable {
    /// The daemon is up.
    case ready
    /// The daemon gave up, with this message.
    case failed(String)
    /// The pipe closed without a verdict: the daemon died or forgot to report.
    case exitedEarly
}

/// The daemon's handle on its waiting parent: report exactly once with
/// `succeed(keeping:)` or `fail(_:)`. Dropping it without reporting closes
/// the pipe, which the parent reports as `exitedEarly`.
public struct DaemonReadiness: ~Copyable {
    static let readyByte = UInt8(ascii: "R")
    static let failedByte = UInt8(ascii: "E")

    private var writeEnd: FileDescriptor

    /// A handle that reports through `writeEnd`, the write end of a pipe
    /// whose read end a parent passes to `Daemon.awaitReadiness(from:)`.
    public init(writeEnd: consuming FileDescriptor) {
        self.writeEnd = writeEnd
    }

    /// Points standard input, output and error at /dev/null — all but
    /// `logDescriptor` if it is one of 0, 1, 2 (a log file on a higher
    /// number is not touched either) — then tells the parent to exit 0.
    /// Throws if /dev/null cannot be opened or the parent cannot be told;
    /// the parent then exits 1.
    public consuming func succeed(keeping logDescriptor: Int32? = nil) throws(SystemError) {
        let null = try FileDescriptor.open("/dev/null", flags: O_RDWR)
        for standard in Int32(0)...2 where standard != logDescriptor && standard != null.rawValue {
            try null.duplicate(onto: standard)
        }
        if null.rawValue <= 2 {
            _ = null.release()  // It is itself a standard stream now.
        }
        var byte = DaemonReadiness.readyByte
        _ = try withUnsafeBytes(of: &byte) { (raw) throws(SystemError) in try writeEnd.writeAll(raw) }
        try writeEnd.close()
    }

    /// Tells the parent to print `message` (at most 4 KiB of it) and exit 1.
    public consuming func fail(_ message: String) {
        var bytes = [DaemonReadiness.failedByte]
        bytes.append(contentsOf: message.utf8)
        _ = bytes.withUnsafeBytes { raw in try? writeEnd.writeAll(raw) }
        try? writeEnd.close()
    }
}
