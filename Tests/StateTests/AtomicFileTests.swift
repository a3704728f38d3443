import CTern
import Foundation
import State
import Testing

@Suite("AtomicFile and FileHeader")
struct AtomicFileTests {
    let node = FileKind("NODE")

    // Written content reads back, with the exact mode regardless of the umask.
    @Test func contentAndMode() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/node.state"
        let old = umask(0)
        defer { umask(old) }
        try AtomicFile.write(bytes("{\"key\":1}"), to: path, kind: node, version: 2, sequence: 9, mode: 0o600)
        #expect(permissions(path) == 0o600)
        let stored = try AtomicFile.read(path, kind: node, supportedVersion: 2)
        #expect(stored == StoredFile(version: 2, sequence: 9, payload: bytes("{\"key\":1}")))
        try AtomicFile.write(bytes("second"), to: path, kind: node, version: 1, mode: 0o640)
        #expect(permissions(path) == 0o640)
        #expect(try AtomicFile.read(path, kind: node, supportedVersion: 2).payload == bytes("second"))
        #expect(!fileExists(AtomicFile.temporaryPath(for: path)))
        // Header: magic, kind, version in the first 12 bytes, 32 in all.
        let raw = readBytes(path)
        #expect(Array(raw[0..<8]) == bytes("TERNNODE"))
        #expect(raw.count == FileHeader.size + 6)
    }

    // A crash after the temporary file was written (simulated: a stale,
    // half-written temp file) leaves the target intact; the next write cleans it.
    @Test func staleTemporaryFileIgnoredAndCleaned() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/node.state"
        try AtomicFile.write(bytes("good"), to: path, kind: node, version: 1)
        writeBytes(AtomicFile.temporaryPath(for: path), Array(readBytes(path).prefix(20)))
        #expect(try AtomicFile.read(path, kind: node, supportedVersion: 1).payload == bytes("good"))
        try AtomicFile.write(bytes("better"), to: path, kind: node, version: 1)
        #expect(try AtomicFile.read(path, kind: node, supportedVersion: 1).payload == bytes("better"))
        #expect(!fileExists(AtomicFile.temporaryPath(for: path)))
    }

    // Missing files: read throws ENOENT, readIfPresent returns nil.
    @Test func missing() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        #expect(try AtomicFile.readIfPresent(dir + "/none", kind: node, supportedVersion: 1) == nil)
        #expect(stateError { () throws(StateError) in try AtomicFile.read(dir + "/none", kind: node, supportedVersion: 1) }?.errno == ENOENT)
    }

    // Wrong magic, wrong kind, newer version, damaged header or payload: typed errors.
    @Test func refusesBadHeaders() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/f"
        try AtomicFile.write(bytes("payload"), to: path, kind: node, version: 3)
        let good = readBytes(path)

        var bad = good
        bad[0] = UInt8(ascii: "X")
        writeBytes(path, bad)
        #expect(stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 3) }?.problem == .badMagic)

        writeBytes(path, good)
        let wrongKind = stateError { () throws(StateError) in try AtomicFile.read(path, kind: .snapshot, supportedVersion: 3) }
        #expect(wrongKind?.problem == .wrongKind(expected: .snapshot, found: node))

        let newer = stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 2) }
        #expect(newer?.problem == .unsupportedVersion(found: 3, supported: 2))
        #expect(newer?.description.contains("format version 3, this build reads up to 2") == true)
        #expect(newer?.path == path)

        bad = good
        bad[17] ^= 1  // sequence field
        writeBytes(path, bad)
        #expect(stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 3) }?.problem == .corruptHeader)

        bad = good
        bad[FileHeader.size + 2] ^= 0x40
        writeBytes(path, bad)
        #expect(stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 3) }?.problem == .corruptPayload)

        writeBytes(path, Array(good.dropLast()))
        #expect(stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 3) }?.problem == .truncated)
        writeBytes(path, good + [0])
        #expect(stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 3) }?.problem == .corruptPayload)
        writeBytes(path, Array(good.prefix(10)))
        #expect(stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 3) }?.problem == .truncated)
        writeBytes(path, [])
        #expect(stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 3) }?.problem == .truncated)
    }

    // The size limit is applied from the header, before reading the payload.
    @Test func sizeLimit() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let path = dir + "/f"
        try AtomicFile.write([UInt8](repeating: 7, count: 1000), to: path, kind: node, version: 1)
        #expect(try AtomicFile.read(path, kind: node, supportedVersion: 1, limit: 1000).payload.count == 1000)
        let error = stateError { () throws(StateError) in try AtomicFile.read(path, kind: node, supportedVersion: 1, limit: 999) }
        #expect(error?.problem == .tooLarge(size: 1000, limit: 999))
    }

    // Header encoding round-trips; the kind prints as its four letters.
    @Test func headerRoundTrip() throws {
        let header = FileHeader(kind: .journal, version: 1, sequence: 0x0102_0304_0506_0708, payloadLength: 5, payloadChecksum: 77)
        let encoded = header.encoded
        #expect(encoded.count == 32)
        #expect(try FileHeader.decode(encoded, kind: .journal, supportedVersion: 1, path: "x") == header)
        #expect(FileKind.journal.description == "JRNL")
        #expect(FileKind(rawValue: 0x0000_4142).description == "BA??")
    }
}
