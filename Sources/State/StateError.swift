import CTern

/// What went wrong in a `StateError`: a failed system call, or a file whose
/// contents Tern refuses to trust.
public enum StateProblem: Equatable, Sendable {
    /// A system call failed with this `errno` value.
    case system(errno: Int32)
    /// The file does not start with the "TERN" magic: not a Tern state file.
    case badMagic
    /// The file is a Tern state file of another kind (a journal where a snapshot was expected, ...).
    case wrongKind(expected: FileKind, found: FileKind)
    /// The file was written by a newer format version than this build supports.
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// The header's checksum does not match: the header is damaged.
    case corruptHeader
    /// The payload's length or checksum does not match its header.
    case corruptPayload
    /// The file ends before its header or its declared payload does.
    case truncated
    /// The file (or a record) is larger than the caller's limit.
    case tooLarge(size: Int64, limit: Int64)
    /// The snapshot and the journal do not fit together (a sequence gap).
    case inconsistent(snapshotSequence: UInt64, journalBaseSequence: UInt64)
    /// Another open file (usually another process) holds the directory lock.
    case locked(holderPID: Int32?)
    /// The path exists but is not a directory.
    case notADirectory
    /// The path is a symbolic link; nothing in a state directory is followed.
    case symbolicLink
    /// The state directory belongs to another user than the one running.
    case unsafeOwner(owner: UInt32, expected: UInt32)
    /// The state directory is writable by its group or by others.
    case unsafeMode(mode: UInt32)
    /// The journal saw a failed write or sync and refuses further appends:
    /// reopen it (the kernel may have dropped the unsynced pages).
    case journalFailed
}

/// The one error type of the State module: the operation that failed, the
/// path it was working on, and the problem (an errno value or a format
/// problem), with a message a person can act on.
public struct StateError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The failed operation: a system call ("open", "fsync", "rename") or a
    /// step ("read header", "replay journal", "load store").
    public let operation: StaticString
    /// The file or directory the operation was working on.
    public let path: String
    /// What went wrong.
    public let problem: StateProblem

    /// An error for `operation` on `path`.
    public init(_ operation: StaticString, path: String, _ problem: StateProblem) {
        self.operation = operation
        self.path = path
        self.problem = problem
    }

    /// An error for `operation` on `path` with the calling thread's current `errno`.
    public static func current(_ operation: StaticString, path: String) -> StateError {
        StateError(operation, path: path, .system(errno: tern_errno()))
    }

    /// The `errno` value if the problem is a failed system call, else nil.
    public var errno: Int32? {
        if case .system(let code) = problem { return code }
        return nil
    }

    /// "open /var/lib/tern/journal: Permission denied (errno 13)", or
    /// "read header /x/snapshot: written by format version 3, this build reads up to 1".
    public var description: String {
        var text = operation.description
        text += " "
        text += path
        text += ": "
        switch problem {
        case .system(let code):
            if let message = strerror(code) {
                text += String(cString: message)
            } else {
                text += "unknown error"
            }
            text += " (errno "
            text += String(code)
            text += ")"
        case .badMagic:
            text += "not a Tern state file (no TERN magic)"
        case .wrongKind(let expected, let found):
            text += "expected a "
            text += expected.description
            text += " file, found a "
            text += found.description
            text += " file"
        case .unsupportedVersion(let found, let supported):
            text += "written by format version "
            text += String(found)
            text += ", this build reads up to "
            text += String(supported)
            text += " (upgrade Tern, or restore a backup)"
        case .corruptHeader:
            text += "header checksum mismatch (damaged file)"
        case .corruptPayload:
            text += "payload length or checksum mismatch (damaged file)"
        case .truncated:
            text += "file is truncated"
        case .tooLarge(let size, let limit):
            text += "size "
            text += String(size)
            text += " bytes exceeds the limit of "
            text += String(limit)
        case .inconsistent(let snapshotSequence, let journalBaseSequence):
            text += "journal starts after record "
            text += String(journalBaseSequence)
            text += " but the snapshot covers only up to "
            text += String(snapshotSequence)
            text += ": records in between are missing"
        case .locked(let holder):
            text += "state directory is in use by another process"
            if let holder {
                text += " (pid "
                text += String(holder)
                text += ")"
            }
        case .notADirectory:
            text += "not a directory"
        case .symbolicLink:
            text += "is a symbolic link (refused: state files and directories are never followed)"
        case .unsafeOwner(let owner, let expected):
            text += "owned by uid "
            text += String(owner)
            text += ", not by uid "
            text += String(expected)
            text += " which runs Tern (chown it to that user, or run as its owner)"
        case .unsafeMode(let mode):
            text += "mode "
            text += octal(mode)
            text += " lets group or others write it (chmod 700 it)"
        case .journalFailed:
            text += "an earlier write or sync failed; reopen the journal"
        }
        return text
    }

    /// `mode` in octal digits ("755").
    private func octal(_ mode: UInt32) -> String {
        var digits: [UInt8] = []
        var rest = mode
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest & 7))
            rest >>= 3
        } while rest != 0
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// Equal when operation text, path and problem are equal.
    public static func == (a: StateError, b: StateError) -> Bool {
        guard a.path == b.path, a.problem == b.problem else { return false }
        return a.operation.withUTF8Buffer { x in
            b.operation.withUTF8Buffer { y in
                x.count == y.count && (0..<x.count).allSatisfy { x[$0] == y[$0] }
            }
        }
    }
}
