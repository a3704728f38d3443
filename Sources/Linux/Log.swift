import CTern
import Logging

/// Where every Tern program's log lines go: standard error, one line per
/// event, prefixed with the program's name ("ternd: ..."), so systemd's
/// journal and a terminal read the same. Set `program` (and `minimumLevel`
/// for `--verbose`) once at start, before the loop runs.
public enum Log {
    /// The prefix of every line.
    nonisolated(unsafe) public static var program = "tern"
    /// Lines below this level are not printed (`.debug` with `--verbose`).
    nonisolated(unsafe) public static var minimumLevel = LogLevel.info

    /// Prints `line` if its level is at least `minimumLevel`.
    public static func write(_ line: LogLine) {
        guard line.level >= minimumLevel else { return }
        var text = program + ": " + line.level.label + line.text + "\n"
        text.withUTF8 { raw in
            var done = 0
            while done < raw.count {
                let n = SystemError.retryingInterrupts { CTern.write(2, raw.baseAddress! + done, raw.count - done) }
                if n <= 0 { return }
                done += n
            }
        }
    }

    /// Prints each of `lines`.
    public static func write(_ lines: [LogLine]) {
        for line in lines { write(line) }
    }

    /// A debug line.
    public static func debug(_ text: @autoclosure () -> String) {
        if minimumLevel <= .debug { write(LogLine(.debug, text())) }
    }
    /// An info line.
    public static func info(_ text: String) { write(LogLine(.info, text)) }
    /// A warning.
    public static func warning(_ text: String) { write(LogLine(.warning, text)) }
    /// An error.
    public static func error(_ text: String) { write(LogLine(.error, text)) }
}
