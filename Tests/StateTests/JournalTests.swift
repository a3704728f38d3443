import CTern
import State
import Testing

@Suite("Journal")
struct JournalTests {
    /// A journal at `dir/journal` based at `base`, holding `payloads`; returns the
    /// file's bytes and the offset where each record starts.
    func makeJournal(_ dir: String, base: UInt64 = 0, _ payloads: [[UInt8]]) throws -> (bytes: [UInt8], starts: [Int]) {
        let path = dir + "/journal"
        try Journal.create(path, baseSequence: base)
        let opened = try Journal.open(path)
        var starts: [Int] = []
        for payload in payloads {
            starts.append(Int(opened.journal.size))
            try opened.journal.append(payload)
        }
        try opened.journal.close()
        return (readBytes(path), starts)
    }

    // Records come back in order with their sequence numbers; appends continue after reopening.
    @Test func appendAndReplay() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/journal"
        try Journal.create(path, baseSequence: 41)
        var opened = try Journal.open(path)
        #expect(opened.records.isEmpty && opened.warning == nil)
        #expect(try opened.journal.append(bytes("{\"a\":1}")) == 42)
        #expect(try opened.journal.append([]) == 43)
        try opened.journal.close()
        opened = try Journal.open(path)
        #expect(opened.records == [JournalRecord(sequence: 42, payload: bytes("{\"a\":1}")), JournalRecord(sequence: 43, payload: [])])
        #expect(opened.warning == nil)
        #expect(try opened.journal.append(bytes("c")) == 44)
        #expect(permissions(path) == 0o600)
        try opened.journal.close()
        #expect(try Journal.open(path).records.map(\.sequence) == [42, 43, 44])
    }

    // Every cut of a file inside or after its header: the complete records before the
    // cut survive, the rest is dropped and reported exactly, and appends continue.
    @Test(arguments: [1, 5])
    func tornTailAtEveryByte(recordCount: Int) throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/journal"
        let payloads = (0..<recordCount).map { bytes("{\"record\":" + String($0) + ",\"pad\":\"" + String(repeating: "x", count: $0 * 3) + "\"}") }
        let (full, starts) = try makeJournal(dir, payloads)
        let firstCut = recordCount == 1 ? starts[0] : 0
        for cut in firstCut..<full.count {
            writeBytes(path, Array(full[0..<cut]))
            if cut < FileHeader.size {
                #expect(stateError { () throws(StateError) in try Journal.open(path) }?.problem == .truncated, "cut \(cut)")
                continue
            }
            let ends = zip(starts, payloads).map { $0 + Journal.recordHeaderSize + $1.count }
            let kept = ends.filter { $0 <= cut }.count
            let goodEnd = kept == 0 ? FileHeader.size : ends[kept - 1]
            let opened = try Journal.open(path)
            #expect(opened.records.map(\.payload) == Array(payloads[0..<kept]), "cut \(cut)")
            if cut == goodEnd {
                #expect(opened.warning == nil, "cut \(cut)")
            } else {
                let damage: JournalDamage = cut - goodEnd < Journal.recordHeaderSize ? .truncatedHeader : .truncatedPayload
                #expect(opened.warning == JournalWarning(path: path, offset: Int64(goodEnd), droppedBytes: Int64(cut - goodEnd), damage: damage), "cut \(cut)")
            }
            #expect(readBytes(path).count == goodEnd, "file not truncated at cut \(cut)")
            #expect(try opened.journal.append(bytes("after")) == UInt64(kept + 1))
            try opened.journal.close()
            let again = try Journal.open(path)
            #expect(again.warning == nil)
            #expect(again.records.map(\.payload) == Array(payloads[0..<kept]) + [bytes("after")], "cut \(cut)")
            try again.journal.close()
        }
    }

    // Any flipped byte in a middle record: replay stops there, keeps what came before,
    // cuts the rest and says how much; the records after the hole are never replayed.
    @Test func corruptByteInTheMiddle() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/journal"
        let payloads = [bytes("one"), bytes("two two"), bytes("three"), bytes("four")]
        let (full, starts) = try makeJournal(dir, payloads)
        for position in starts[1]..<starts[2] {
            var damaged = full
            damaged[position] ^= 0x20
            writeBytes(path, damaged)
            let opened = try Journal.open(path)
            #expect(opened.records.map(\.payload) == [bytes("one")], "byte \(position)")
            let warning = try #require(opened.warning)
            #expect(warning.offset == Int64(starts[1]) && warning.droppedBytes == Int64(full.count - starts[1]), "byte \(position)")
            #expect(readBytes(path) == Array(full[0..<starts[1]]))
            try opened.journal.close()
        }
        // A flipped payload byte is a checksum mismatch, and the message says so.
        var damaged = full
        damaged[starts[1] + 17] ^= 1
        writeBytes(path, damaged)
        let warning = try #require(try Journal.open(path).warning)
        #expect(warning.damage == .checksumMismatch)
        #expect(warning.description.contains("dropped \(full.count - starts[1]) bytes at offset \(starts[1]) (checksum mismatch)"))
    }

    // A record with a valid checksum but the wrong sequence number is a gap, not accepted.
    @Test func sequenceGap() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/journal"
        let (full, _) = try makeJournal(dir, [bytes("a")])
        writeBytes(path, full + Journal.encodeRecord(bytes("b"), sequence: 3))
        let opened = try Journal.open(path)
        #expect(opened.records.map(\.sequence) == [1])
        #expect(opened.warning?.damage == .sequenceGap(expected: 2, found: 3))
    }

    // An empty (0-byte) file is refused; a header-only journal is empty and appendable.
    @Test func emptyFiles() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/journal"
        writeBytes(path, [])
        #expect(stateError { () throws(StateError) in try Journal.open(path) }?.problem == .truncated)
        try Journal.create(path, baseSequence: 0)
        #expect(readBytes(path).count == FileHeader.size)
        let opened = try Journal.open(path)
        #expect(opened.records.isEmpty && opened.warning == nil)
        #expect(try opened.journal.append(bytes("x")) == 1)
        // A snapshot is not a journal.
        try AtomicFile.write([], to: dir + "/snap", kind: .snapshot, version: 1)
        #expect(stateError { () throws(StateError) in try Journal.open(dir + "/snap") }?.problem == .wrongKind(expected: .journal, found: .snapshot))
        // A newer journal format is refused clearly.
        try AtomicFile.write([], to: dir + "/future", kind: .journal, version: 2)
        #expect(stateError { () throws(StateError) in try Journal.open(dir + "/future") }?.problem == .unsupportedVersion(found: 2, supported: 1))
    }

    // A huge length field is rejected against the limit before anything is allocated;
    // appends over the limit are refused.
    @Test func hugeLengthField() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/journal"
        let (full, starts) = try makeJournal(dir, [bytes("a"), bytes("b")])
        var damaged = full
        for i in 0..<4 { damaged[starts[1] + i] = 0xFF }
        writeBytes(path, damaged)
        var opened = try Journal.open(path)
        #expect(opened.records.map(\.payload) == [bytes("a")])
        #expect(opened.warning?.damage == .oversizedLength(0xFFFF_FFFF))
        try opened.journal.close()

        // Just over a small limit, with the bytes really present in the file.
        writeBytes(path, full + Journal.encodeRecord([UInt8](repeating: 1, count: 101), sequence: 3))
        opened = try Journal.open(path, maxRecordSize: 100)
        #expect(opened.records.count == 2)
        #expect(opened.warning?.damage == .oversizedLength(101))
        #expect(stateError { () throws(StateError) in try opened.journal.append([UInt8](repeating: 1, count: 101)) }?.problem == .tooLarge(size: 101, limit: 100))
        #expect(try opened.journal.append([UInt8](repeating: 1, count: 100)) == 3)
    }

    // With manual sync the caller batches: records are written at once and synced on demand.
    @Test func manualSync() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/journal"
        try Journal.create(path, baseSequence: 0)
        let opened = try Journal.open(path, syncPolicy: .manual)
        for i in 1...100 { #expect(try opened.journal.append(payload(for: UInt64(i))) == UInt64(i)) }
        try opened.journal.sync()
        let replay = try Journal.open(path)
        #expect(replay.records.map(\.sequence) == Array(1...100))
        #expect(replay.records.allSatisfy { $0.payload == payload(for: $0.sequence) })
    }
}
