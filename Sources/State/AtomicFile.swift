import CTern

/// The contents of a State file read back by `AtomicFile.read`.
public struct StoredFile: Equatable, Sendable {
    /// The format version the file was written with (at most the version
    /// the reader supports; older versions are the caller's to migrate).
    public var version: UInt32
    /// The header's sequence field.
    public var sequence: UInt64
    /// The payload, verified against the header's length and checksum.
    public var payload: [UInt8]

    /// A stored file with these fields.
    public init(version: UInt32, sequence: UInt64, payload: [UInt8]) {
        self.version = version
        self.sequence = sequence
        self.payload = payload
    }
}

/// Small files replaced atomically: a reader sees the old contents or the
/// new ones, never a mix, and after `write` returns the new contents
/// survive a crash or power loss.
///
/// `write` does: remove a stale `<path>.tmp` (left by a crash), create
/// `<path>.tmp` with O_CREAT|O_EXCL and exactly `mode`, write header and
/// payload, fsync it, rename it over `path`, fsync the directory. A crash
/// before the rename leaves the old file intact and at most a stale
/// temporary file, which the next write removes; readers never look at it.
/// Writers of one path must not run concurrently (the Store's directory
/// lock ensures that for its files); if they do, one of them fails, and the
/// target is still one writer's whole file.
///
/// Every file starts with a `FileHeader` carrying the payload's length and
/// CRC-32C, so a file damaged at rest is refused instead of half-trusted.
public enum AtomicFile {
    /// The temporary file `write` uses for `path`.
    public static func temporaryPath(for path: String) -> String { path + ".tmp" }

    /// Atomically replaces `path` with a header (`kind`, `version`,
    /// `sequence`) and `payload`, with permission bits exactly `mode`.
    public static func write(
        _ payload: [UInt8], to path: String, kind: FileKind, version: UInt32,
        sequence: UInt64 = 0, mode: UInt32 = 0o600
    ) throws(StateError) {
        try write(payload, to: path, kind: kind, version: version, sequence: sequence, mode: mode, stopBeforeRename: false)
    }

    /// `write`, optionally stopping after the temporary file is written and
    /// synced (to simulate a crash there in tests).
    static func write(
        _ payload: [UInt8], to path: String, kind: FileKind, version: UInt32,
        sequence: UInt64, mode: UInt32, stopBeforeRename: Bool
    ) throws(StateError) {
        // Compared as UInt64: Int(UInt32.max) does not fit a 32-bit Int (armhf).
        guard UInt64(payload.count) <= UInt64(UInt32.max) else {
            throw StateError("write", path: path, .tooLarge(size: Int64(payload.count), limit: Int64(UInt32.max)))
        }
        let header = FileHeader(
            kind: kind, version: version, sequence: sequence,
            payloadLength: UInt32(payload.count), payloadChecksum: CRC32C.checksum(payload))
        let temporary = temporaryPath(for: path)
        try FilePath.remove(temporary)
        var file = try OpenFile(path: temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        do throws(StateError) {
            try file.setMode(mode)
            try file.write(header.encoded, at: 0)
            try file.write(payload, at: Int64(FileHeader.size))
            try file.sync()
            try file.close()
        } catch let error {
            _ = try? FilePath.remove(temporary)
            throw error
        }
        if stopBeforeRename { return }
        try FilePath.rename(temporary, to: path)
        try FilePath.syncDirectory(FilePath.directory(of: path))
    }

    /// Reads `path`: validates the header (`kind`, version at most
    /// `supportedVersion`), refuses files over `limit` bytes of payload
    /// before reading them, and verifies the payload's length and checksum.
    public static func read(
        _ path: String, kind: FileKind, supportedVersion: UInt32, limit: Int = 16 << 20
    ) throws(StateError) -> StoredFile {
        let file = try OpenFile(path: path, flags: O_RDONLY)
        return try read(file, kind: kind, supportedVersion: supportedVersion, limit: limit)
    }

    /// `read`, or nil if `path` does not exist.
    public static func readIfPresent(
        _ path: String, kind: FileKind, supportedVersion: UInt32, limit: Int = 16 << 20
    ) throws(StateError) -> StoredFile? {
        let file: OpenFile
        do throws(StateError) {
            file = try OpenFile(path: path, flags: O_RDONLY)
        } catch let error {
            if error.errno == ENOENT { return nil }
            throw error
        }
        return try read(file, kind: kind, supportedVersion: supportedVersion, limit: limit)
    }

    private static func read(
        _ file: borrowing OpenFile, kind: FileKind, supportedVersion: UInt32, limit: Int
    ) throws(StateError) -> StoredFile {
        let path = file.path
        let size = try file.size()
        guard let headerBytes = try file.read(count: FileHeader.size, at: 0) else {
            throw StateError("read header", path: path, .truncated)
        }
        let header = try FileHeader.decode(headerBytes, kind: kind, supportedVersion: supportedVersion, path: path)
        let length = Int64(header.payloadLength)
        guard length <= Int64(limit) else {
            throw StateError("read", path: path, .tooLarge(size: length, limit: Int64(limit)))
        }
        let expectedSize = Int64(FileHeader.size) + length
        if size < expectedSize { throw StateError("read", path: path, .truncated) }
        if size > expectedSize { throw StateError("read", path: path, .corruptPayload) }
        guard let payload = try file.read(count: Int(length), at: Int64(FileHeader.size)) else {
            throw StateError("read", path: path, .truncated)
        }
        // The file must not have grown while being read: one more byte is an error.
        if let _ = try file.read(count: 1, at: expectedSize) {
            throw StateError("read", path: path, .corruptPayload)
        }
        guard CRC32C.checksum(payload) == header.payloadChecksum else {
            throw StateError("read", path: path, .corruptPayload)
        }
        return StoredFile(version: header.version, sequence: header.sequence, payload: payload)
    }
}
