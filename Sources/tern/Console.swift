import CTern

/// The CLI's only ways out to the terminal and in from the environment.
enum Console {
    /// Writes `text` and a newline to standard output.
    static func line(_ text: String) {
        writeAll(1, text + "\n")
    }

    /// Writes each of `lines` to standard output.
    static func lines(_ lines: [String]) {
        var text = ""
        for line in lines { text += line + "\n" }
        writeAll(1, text)
    }

    /// Writes `text` and a newline to standard error.
    static func error(_ text: String) {
        writeAll(2, text + "\n")
    }

    /// The environment variable `name`, or nil if unset.
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// The wall-clock time in whole Unix seconds (for "12s ago").
    static func unixTime() -> Int64 {
        var seconds: Int64 = 0
        var nanoseconds: Int32 = 0
        tern_realtime(&seconds, &nanoseconds)
        return seconds
    }

    /// Writes all of `text` to `fd`, going on after short writes and signals.
    private static func writeAll(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if tern_errno() == EINTR { continue }
                    return  // a closed pipe: nothing more to say
                }
                offset += written
            }
        }
    }
}
