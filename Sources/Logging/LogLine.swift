/// How much a log line matters. Programs print `info` and above unless
/// started with `--verbose`, which adds `debug`.
public enum LogLevel: Int, Comparable, Sendable {
    /// Detail for whoever is debugging: every retry, every packet class.
    case debug
    /// One line per event a person running the program wants to see.
    case info
    /// Something went wrong and the program carries on.
    case warning
    /// Something went wrong that a person must fix.
    case error

    /// Orders by importance.
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    /// The word printed before warnings and errors ("" for info and debug).
    public var label: String {
        switch self {
        case .debug: return "debug: "
        case .info: return ""
        case .warning: return "warning: "
        case .error: return "error: "
        }
    }
}

/// One event for the log: what the sans-I/O cores return and the shells
/// print (`Log.write` in `Linux`), one line each.
public struct LogLine: Equatable, Sendable, CustomStringConvertible {
    /// How much it matters.
    public var level: LogLevel
    /// What happened, for a person; one line, no trailing newline.
    public var text: String

    /// A line at `level`.
    public init(_ level: LogLevel, _ text: String) {
        self.level = level
        self.text = text
    }

    /// A debug line.
    public static func debug(_ text: String) -> LogLine { LogLine(.debug, text) }
    /// An info line.
    public static func info(_ text: String) -> LogLine { LogLine(.info, text) }
    /// A warning.
    public static func warning(_ text: String) -> LogLine { LogLine(.warning, text) }
    /// An error.
    public static func error(_ text: String) -> LogLine { LogLine(.error, text) }

    /// The level's label and the text.
    public var description: String { level.label + text }
}
