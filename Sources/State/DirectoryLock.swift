import CTern
import Linux

/// An exclusive lock on a state directory, so two processes never write the
/// same state: `flock(LOCK_EX | LOCK_NB)` on the file `lock` inside it.
///
/// The lock belongs to the open file, so it is released when the holder
/// calls `unlock()`, is destroyed, or dies (even by `kill -9`): a crash
/// never leaves a stale lock behind. The holder's pid is written into the
/// lock file for the error message of the next contender; it is advisory
/// text only, never trusted for the locking itself. Two `DirectoryLock`s on
/// one directory conflict even inside one process.
public final class DirectoryLock {
    /// The name of the lock file inside the directory.
    public static let fileName = "lock"

    /// The locked directory.
    public let directory: String
    private var file: OpenFile

    /// Takes the lock on `directory` (which must exist), creating the lock
    /// file (mode 0600) if needed. Throws `.locked(holderPID:)` at once if
    /// another open file holds it; never waits. Refuses a `directory` that
    /// is a symbolic link, is not owned by the effective uid or is writable
    /// by group or others, and a `lock` that is a symbolic link (so a link
    /// planted there never makes this process truncate another file).
    public init(directory: String) throws(StateError) {
        try FilePath.checkStateDirectory(directory)
        let path = FilePath.join(directory, DirectoryLock.fileName)
        let file = try OpenFile(path: path, flags: O_RDWR | O_CREAT, mode: 0o600)
        let number = file.fd
        if SystemError.retryingInterrupts({ tern_flock_exclusive_nonblocking(number) }) != 0 {
            let code = tern_errno()
            if code == EWOULDBLOCK || code == EAGAIN {
                throw StateError("lock", path: directory, .locked(holderPID: DirectoryLock.readPID(file)))
            }
            throw StateError("flock", path: path, .system(errno: code))
        }
        // Best effort: the pid is only for other processes' error messages.
        var text = Array(String(getpid()).utf8)
        text.append(UInt8(ascii: "\n"))
        if (try? file.truncate(to: 0)) != nil {
            _ = try? file.write(text, at: 0)
        }
        self.directory = directory
        self.file = file
    }

    /// Releases the lock now (closing the lock file); later calls do nothing.
    public func unlock() {
        guard file.fd >= 0 else { return }
        _ = tern_flock_unlock(file.fd)
        _ = try? file.close()
    }

    deinit {
        unlock()
    }

    /// The decimal pid at the start of the lock file, if there is one.
    private static func readPID(_ file: borrowing OpenFile) -> Int32? {
        var buffer: (UInt64, UInt64) = (0, 0)
        let count = withUnsafeMutableBytes(of: &buffer) { raw -> Int in
            (try? file.read(into: raw, at: 0)) ?? 0
        }
        var value: Int32 = 0
        var digits = 0
        withUnsafeBytes(of: &buffer) { raw in
            for byte in raw[0..<count] {
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"), digits < 9 else { break }
                value = value * 10 + Int32(byte - UInt8(ascii: "0"))
                digits += 1
            }
        }
        return digits > 0 && value > 0 ? value : nil
    }
}
