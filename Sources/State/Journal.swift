import CTern

/// One record read back from a journal.
public struct JournalRecord: Equatable, Sendable {
    /// The record's sequence number: 1 for a store's first record, then +1
    /// per append, never reused (compaction keeps counting).
    public var sequence: UInt64
    /// The caller's bytes, exactly as appended.
    public var payload: [UInt8]

    /// A record with these fields.
    public init(sequence: UInt64, payload: [UInt8]) {
        self.sequence = sequence
        self.payload = payload
    }
}

/// Why replay stopped before the end of a journal file.
public enum JournalDamage: Equatable, Sendable {
    /// Fewer bytes than a record header remain (a torn append).
    case truncatedHeader
    /// The payload (plus checksum) is cut short (a torn append).
    case truncatedPayload
    /// The length field exceeds the record size limit (garbage, or a torn
    /// header); nothing that large is allocated or read.
    case oversizedLength(UInt32)
    /// The record's checksum does not match its bytes.
    case checksumMismatch
    /// A record that checks out but carries the wrong sequence number.
    case sequenceGap(expected: UInt64, found: UInt64)
}

/// A journal tail that replay dropped: where the first bad record started,
/// how many bytes were cut off from there to the end of the file, and why.
public struct JournalWarning: Equatable, Sendable, CustomStringConvertible {
    /// The journal's path.
    public var path: String
    /// The file offset of the first bad record (the file's new size).
    public var offset: Int64
    /// How many bytes were removed from the end of the file.
    public var droppedBytes: Int64
    /// What was wrong with the record at `offset`.
    public var damage: JournalDamage

    /// A warning with these fields.
    public init(path: String, offset: Int64, droppedBytes: Int64, damage: JournalDamage) {
        self.path = path
        self.offset = offset
        self.droppedBytes = droppedBytes
        self.damage = damage
    }

    /// "journal /x/journal: dropped 17 bytes at offset 96 (checksum mismatch)".
    public var description: String {
        var text = "journal "
        text += path
        text += ": dropped "
        text += String(droppedBytes)
        text += " bytes at offset "
        text += String(offset)
        text += " ("
        switch damage {
        case .truncatedHeader: text += "torn record header"
        case .truncatedPayload: text += "torn record payload"
        case .oversizedLength(let length):
            text += "record length "
            text += String(length)
            text += " over the limit"
        case .checksumMismatch: text += "checksum mismatch"
        case .sequenceGap(let expected, let found):
            text += "expected record "
            text += String(expected)
            text += ", found "
            text += String(found)
        }
        text += ")"
        return text
    }
}

/// When appended records reach the disk.
public enum SyncPolicy: Equatable, Sendable {
    /// `append` returns only after fdatasync: a returned record survives a crash.
    case everyAppend
    /// `append` only writes; the caller batches and calls `sync()`.
    case manual
}

/// An append-only file of checksummed records (opaque byte payloads).
///
/// File layout: a `FileHeader` (kind "JRNL", version 1, `sequence` = the
/// base: the sequence just before the first record), then records:
///
/// ```
/// offset size  field
///      0    4  payload length n (UInt32 LE, at most the record size limit)
///      4    4  CRC-32C of bytes 0..<4, 8..<16 and the payload
///      8    8  sequence (UInt64 LE: base + 1, base + 2, ...)
///     16    n  payload
/// ```
///
/// Opening replays every record in order and stops at the first record that
/// is torn (a partial header or payload), oversized, fails its checksum or
/// breaks the sequence. Everything from there to the end of the file is cut
/// off (ftruncate + fsync) and reported as a `JournalWarning`, so appends
/// continue cleanly after the last good record. This is also the policy for
/// damage in the middle: good-looking records after a bad one are dropped
/// with it, never replayed past a hole; the warning says how many bytes went.
/// A damaged file header is an error (`StateError`), not a warning.
public final class Journal {
    /// The journal file's format version.
    public static let formatVersion: UInt32 = 1
    /// The size of a record's frame header.
    public static let recordHeaderSize = 16

    /// The journal's path.
    public let path: String
    /// The largest payload accepted, by append and by replay.
    public let maxRecordSize: Int
    /// When appends are synced.
    public let syncPolicy: SyncPolicy
    /// The sequence just before the first record (from the file header).
    public let baseSequence: UInt64
    /// The sequence of the last record (`baseSequence` if there is none).
    public private(set) var lastSequence: UInt64
    /// The file's size: where the next record goes.
    public private(set) var size: Int64

    private var file: OpenFile
    private var failed = false

    /// Creates (or atomically replaces) `path` with an empty journal whose
    /// first record will be `baseSequence + 1`.
    public static func create(_ path: String, baseSequence: UInt64, mode: UInt32 = 0o600) throws(StateError) {
        try create(path, baseSequence: baseSequence, mode: mode, stopBeforeRename: false)
    }

    /// `create`, optionally stopping before the rename (crash simulation).
    static func create(_ path: String, baseSequence: UInt64, mode: UInt32, stopBeforeRename: Bool) throws(StateError) {
        try AtomicFile.write(
            [], to: path, kind: .journal, version: formatVersion, sequence: baseSequence, mode: mode,
            stopBeforeRename: stopBeforeRename)
    }

    /// Opens the journal at `path` for appending and replays it (see the
    /// type's discussion): returns the journal, its good records in order,
    /// and a warning if a damaged tail was cut off.
    public static func open(
        _ path: String, maxRecordSize: Int = 1 << 20, syncPolicy: SyncPolicy = .everyAppend
    ) throws(StateError) -> (journal: Journal, records: [JournalRecord], warning: JournalWarning?) {
        precondition(maxRecordSize >= 0 && maxRecordSize <= Int(Int32.max), "record size limit out of range")
        let file = try OpenFile(path: path, flags: O_RDWR)
        let size = try file.size()
        guard let headerBytes = try file.read(count: FileHeader.size, at: 0) else {
            throw StateError("read header", path: path, .truncated)
        }
        let header = try FileHeader.decode(headerBytes, kind: .journal, supportedVersion: formatVersion, path: path)
        var records: [JournalRecord] = []
        var offset = Int64(FileHeader.size)
        var sequence = header.sequence
        var damage: JournalDamage? = nil
        while offset < size {
            let remaining = size - offset
            guard remaining >= Int64(recordHeaderSize),
                let frame = try file.read(count: recordHeaderSize, at: offset)
            else {
                damage = .truncatedHeader
                break
            }
            let length = LittleEndian.uint32(frame, at: 0)
            guard Int64(length) <= Int64(maxRecordSize) else {
                damage = .oversizedLength(length)
                break
            }
            guard remaining - Int64(recordHeaderSize) >= Int64(length),
                let payload = try file.read(count: Int(length), at: offset + Int64(recordHeaderSize))
            else {
                damage = .truncatedPayload
                break
            }
            guard recordChecksum(frame, payload) == LittleEndian.uint32(frame, at: 4) else {
                damage = .checksumMismatch
                break
            }
            let found = LittleEndian.uint64(frame, at: 8)
            guard found == sequence &+ 1 else {
                damage = .sequenceGap(expected: sequence &+ 1, found: found)
                break
            }
            sequence = found
            records.append(JournalRecord(sequence: found, payload: payload))
            offset += Int64(recordHeaderSize) + Int64(length)
        }
        var warning: JournalWarning? = nil
        if let damage {
            warning = JournalWarning(path: path, offset: offset, droppedBytes: size - offset, damage: damage)
            try file.truncate(to: offset)
            try file.sync()
        }
        let journal = Journal(
            file: file, maxRecordSize: maxRecordSize, syncPolicy: syncPolicy,
            baseSequence: header.sequence, lastSequence: sequence, size: offset)
        return (journal, records, warning)
    }

    private init(
        file: consuming OpenFile, maxRecordSize: Int, syncPolicy: SyncPolicy,
        baseSequence: UInt64, lastSequence: UInt64, size: Int64
    ) {
        self.path = file.path
        self.file = file
        self.maxRecordSize = maxRecordSize
        self.syncPolicy = syncPolicy
        self.baseSequence = baseSequence
        self.lastSequence = lastSequence
        self.size = size
    }

    /// The encoded record (frame header and payload) for `payload` as record `sequence`.
    public static func encodeRecord(_ payload: [UInt8], sequence: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(recordHeaderSize + payload.count)
        LittleEndian.append(UInt32(truncatingIfNeeded: payload.count), to: &bytes)
        LittleEndian.append(UInt32(0), to: &bytes)
        LittleEndian.append(sequence, to: &bytes)
        LittleEndian.store(recordChecksum(bytes, payload), into: &bytes, at: 4)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// The checksum of a record: its length and sequence fields and its payload.
    static func recordChecksum(_ frame: [UInt8], _ payload: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        crc.update(frame, range: 0..<4)
        crc.update(frame, range: 8..<16)
        crc.update(payload)
        return crc.value
    }

    /// Appends `payload` as the next record and returns its sequence number.
    /// With `.everyAppend` the record is on disk when this returns. A failed
    /// write is cut back off the file; after any failure (a failed sync in
    /// particular, whose pages the kernel may have dropped) the journal
    /// refuses further appends with `.journalFailed` until reopened.
    @discardableResult
    public func append(_ payload: [UInt8]) throws(StateError) -> UInt64 {
        if failed { throw StateError("append", path: path, .journalFailed) }
        guard payload.count <= maxRecordSize else {
            throw StateError("append", path: path, .tooLarge(size: Int64(payload.count), limit: Int64(maxRecordSize)))
        }
        let sequence = lastSequence + 1
        let record = Journal.encodeRecord(payload, sequence: sequence)
        do throws(StateError) {
            try file.write(record, at: size)
        } catch let error {
            if (try? file.truncate(to: size)) == nil { failed = true }
            throw error
        }
        size += Int64(record.count)
        lastSequence = sequence
        if syncPolicy == .everyAppend { try sync() }
        return sequence
    }

    /// fdatasync: every record appended so far is on disk when this returns.
    public func sync() throws(StateError) {
        if failed { throw StateError("fdatasync", path: path, .journalFailed) }
        do throws(StateError) {
            try file.syncData()
        } catch let error {
            failed = true
            throw error
        }
    }

    /// Closes the file (also done when the journal is destroyed).
    public func close() throws(StateError) {
        try file.close()
    }
}
