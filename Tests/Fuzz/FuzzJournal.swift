import CTern
import State

/// libFuzzer entry point for journal replay. The input becomes a journal
/// file: by the first byte modulo 3, raw bytes after a valid header, raw
/// bytes as they are, or valid records made from the input and then damaged
/// (cut short and one byte flipped at input-chosen places);
/// replay must not trap, must return only records that re-encode to exactly
/// the bytes in the file (so their checksums verify) with consecutive
/// sequences, and must cut the file to the end of the last good record.
/// Then one record is appended and a second replay must end with it, with
/// no warning.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournal(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var file: [UInt8]
    let mode = (input.first ?? 0) % 3
    let withHeader = mode != 1
    let base = UInt64(input.count > 1 ? input[1] : 0)
    if mode == 0 {
        file = FileHeader(kind: .journal, version: Journal.formatVersion, sequence: base).encoded
        file.append(contentsOf: input.dropFirst(min(2, input.count)))
    } else if mode == 1 {
        file = input
    } else {
        file = damagedJournal(input, base: base)
    }
    let path = fuzzPath
    writeWhole(path, file)

    let opened: (journal: Journal, records: [JournalRecord], warning: JournalWarning?)
    do {
        opened = try Journal.open(path, maxRecordSize: 4096)
    } catch {
        precondition(!withHeader, "a journal with a valid header must open")
        return 0
    }
    // Every record is exactly what encodeRecord makes of it, back to back after the header.
    var offset = FileHeader.size
    var expected = opened.journal.baseSequence
    for record in opened.records {
        expected += 1
        precondition(record.sequence == expected, "sequences must be consecutive")
        let encoded = Journal.encodeRecord(record.payload, sequence: record.sequence)
        precondition(offset + encoded.count <= file.count, "record beyond the file")
        precondition(Array(file[offset..<offset + encoded.count]) == encoded, "record does not verify")
        offset += encoded.count
    }
    precondition(opened.journal.size == Int64(offset), "journal size is not the end of the last record")
    if let warning = opened.warning {
        precondition(warning.offset == Int64(offset) && warning.droppedBytes == Int64(file.count - offset), "warning mismatch")
    } else {
        precondition(offset == file.count, "bytes left over without a warning")
    }

    let tail: [UInt8] = [0x7B, 0x7D]  // "{}"
    let sequence: UInt64
    do {
        sequence = try opened.journal.append(tail)
        try opened.journal.close()
    } catch {
        preconditionFailure("append after replay failed")
    }
    guard let again = try? Journal.open(path, maxRecordSize: 4096) else { preconditionFailure("reopen failed") }
    precondition(again.warning == nil, "a warning after a clean append")
    precondition(again.records.count == opened.records.count + 1, "record count changed")
    precondition(again.records.last == JournalRecord(sequence: sequence, payload: tail), "the appended record is not last")
    return 0
}

/// A header based at `base` and valid records cut from `input[4...]` (each
/// chunk's first byte gives its length), then cut at `input[2]`/255 of the
/// length and, if `input[3]` is nonzero, with the byte at that position flipped.
func damagedJournal(_ input: [UInt8], base: UInt64) -> [UInt8] {
    var file = FileHeader(kind: .journal, version: Journal.formatVersion, sequence: base).encoded
    var rest = input.count > 4 ? Array(input[4...]) : []
    var sequence = base
    while let length = rest.first {
        let chunk = Array(rest.dropFirst().prefix(Int(length % 64)))
        rest = Array(rest.dropFirst(1 + chunk.count))
        sequence += 1
        file.append(contentsOf: Journal.encodeRecord(chunk, sequence: sequence))
    }
    if input.count > 2 {
        let keep = FileHeader.size + (file.count - FileHeader.size) * Int(input[2]) / 255
        file.removeLast(file.count - keep)
    }
    if input.count > 3, input[3] != 0, FileHeader.size + Int(input[3]) < file.count {
        file[FileHeader.size + Int(input[3])] ^= 0x5A
    }
    return file
}

/// One journal path in a private temporary directory, reused by every run.
let fuzzPath: String = {
    // tmpfs when available: the journal fsyncs on every run.
    let shm = access("/dev/shm", W_OK) == 0
    var template = Array((shm ? "/dev/shm/tern-fuzz-journal.XXXXXX" : "/tmp/tern-fuzz-journal.XXXXXX").utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(result != nil, "mkdtemp failed")
    let directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return directory + "/journal"
}()

/// Replaces `path` with `bytes` (truncate and write).
func writeWhole(_ path: String, _ bytes: [UInt8]) {
    let fd = tern_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "open failed")
    bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            precondition(n > 0, "write failed")
            done += n
        }
    }
    close(fd)
}
