import TextFormat

/// Where `tern up --auth-key` finds the key. A key given on the command
/// line is readable by every local user in `/proc/PID/cmdline`, so the key
/// may instead come from a file (`file:PATH`) or from standard input (`-`).
/// Parsing only names the source; the `tern` shell reads it and hands the
/// bytes to `key(from:)`.
public enum AuthKeySource: Equatable {
    /// `--auth-key KEY`: the key itself.
    case literal(String)
    /// `--auth-key file:PATH`: the key is the contents of PATH.
    case file(path: String)
    /// `--auth-key -`: the key is what standard input holds up to its end.
    case standardInput

    /// The most bytes a key file or standard input may hold; pre-auth keys
    /// are tens of bytes, so anything larger is the wrong file.
    public static let maximumBytes = 4096

    /// The source that `value` (the text after `--auth-key`) names. Throws
    /// for `file:` without a path.
    public static func parse(_ value: String) throws(CommandLineError) -> AuthKeySource {
        if value == "-" { return .standardInput }
        if value.hasPrefix("file:") {
            let path = String(value.dropFirst(5))
            guard !path.isEmpty else { throw CommandLineError("--auth-key file: needs a path after 'file:'") }
            return .file(path: path)
        }
        return .literal(value)
    }

    /// Where the key came from, for error messages: "the auth key file PATH", "standard input".
    public var origin: String {
        switch self {
        case .literal: return "--auth-key"
        case .file(let path): return "the auth key file " + path
        case .standardInput: return "standard input"
        }
    }

    /// The key in `bytes`, read from this source: one trailing newline
    /// (`\n` or `\r\n`) is dropped. Throws if `bytes` is longer than
    /// `maximumBytes`, empty after the newline, not UTF-8, or holds another
    /// line break or a control character (a key has none).
    public func key(from bytes: [UInt8]) throws(CommandLineError) -> String {
        guard bytes.count <= AuthKeySource.maximumBytes else {
            throw CommandLineError(origin + " is larger than " + String(AuthKeySource.maximumBytes)
                                   + " bytes; it does not hold an auth key")
        }
        var end = bytes.count
        if end > 0 && bytes[end - 1] == UInt8(ascii: "\n") {
            end -= 1
            if end > 0 && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        }
        let trimmed = bytes[0..<end]
        guard !trimmed.isEmpty else { throw CommandLineError(origin + " holds no auth key (it is empty)") }
        guard !trimmed.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
            throw CommandLineError(origin + " holds more than one line or a control character; put only the key in it")
        }
        // Decoding replaces bad sequences, so a round trip that differs was not UTF-8.
        let text = String(decoding: trimmed, as: UTF8.self)
        guard text.utf8.elementsEqual(trimmed) else { throw CommandLineError(origin + " is not UTF-8 text") }
        return text
    }
}
