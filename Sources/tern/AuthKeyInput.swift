import CTern
import LocalAPI
import TernCLI
import TextFormat

/// Reads the auth key from where `tern up --auth-key` said it is: the
/// file or standard input, at most `AuthKeySource.maximumBytes` bytes.
enum AuthKeyInput {
    /// The key from `source`, or a `CommandLineError` saying why there is
    /// none (unreadable, too large, empty, more than one line).
    static func read(_ source: AuthKeySource) throws(CommandLineError) -> String {
        switch source {
        case .literal(let key):
            return key
        case .file(let path):
            let fd = tern_open(path, O_RDONLY | O_CLOEXEC, 0)
            guard fd >= 0 else { throw failure("cannot open " + source.origin) }
            defer { close(fd) }
            return try source.key(from: readBounded(fd, source))
        case .standardInput:
            return try source.key(from: readBounded(0, source))
        }
    }

    /// Everything `fd` holds up to its end, or one byte more than the limit
    /// (so that the caller sees it is too large without reading it all).
    private static func readBounded(_ fd: Int32, _ source: AuthKeySource) throws(CommandLineError) -> [UInt8] {
        let limit = AuthKeySource.maximumBytes + 1
        var bytes = [UInt8](repeating: 0, count: limit)
        var count = 0
        while count < limit {
            let result = bytes.withUnsafeMutableBytes { buffer in
                CTern.read(fd, buffer.baseAddress! + count, limit - count)
            }
            if result < 0 {
                if tern_errno() == EINTR { continue }
                throw failure("cannot read " + source.origin)
            }
            if result == 0 { break }
            count += result
        }
        return Array(bytes[0..<count])
    }

    /// `what` and the C library's reason for the current errno.
    private static func failure(_ what: String) -> CommandLineError {
        let reason = strerror(tern_errno()).map { String(cString: $0) } ?? "unknown error"
        return CommandLineError(what + ": " + reason)
    }
}
