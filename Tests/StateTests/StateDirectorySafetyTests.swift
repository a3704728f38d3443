import CTern
import Foundation
@testable import State
import Testing

/// Links and loose permissions planted in a state directory by another user
/// are refused instead of being written through.
@Suite("State directory safety")
struct StateDirectorySafetyTests {
    /// Creates the symbolic link `path` pointing at `target`.
    func link(_ path: String, to target: String) {
        precondition(symlink(target, path) == 0, "symlink failed")
    }

    /// Sets the permission bits of `path`.
    func setPermissions(_ path: String, _ mode: mode_t) {
        precondition(chmod(path, mode) == 0, "chmod failed")
    }

    // `lock -> victim` is refused and the victim keeps its contents (not truncated, no pid written).
    @Test func plantedLockLinkIsRefused() throws {
        let dir = makeTemporaryDirectory()
        let elsewhere = makeTemporaryDirectory()
        defer { removeTree(dir); removeTree(elsewhere) }
        let victim = elsewhere + "/shadow"
        writeBytes(victim, bytes("root:secret\n"))
        link(dir + "/lock", to: victim)
        let error = stateError { () throws(StateError) in try DirectoryLock(directory: dir) }
        #expect(error == StateError("open", path: dir + "/lock", .symbolicLink))
        #expect(error?.description.contains("is a symbolic link") == true)
        #expect(readBytes(victim) == bytes("root:secret\n"))
        // Through the Store as well.
        #expect(stateError { () throws(StateError) in try Store(directory: dir) }?.problem == .symbolicLink)
        #expect(readBytes(victim) == bytes("root:secret\n"))
    }

    // A dangling `lock` link is not followed to create its target.
    @Test func danglingLockLinkCreatesNothing() throws {
        let dir = makeTemporaryDirectory()
        let elsewhere = makeTemporaryDirectory()
        defer { removeTree(dir); removeTree(elsewhere) }
        link(dir + "/lock", to: elsewhere + "/created")
        #expect(stateError { () throws(StateError) in try DirectoryLock(directory: dir) }?.problem == .symbolicLink)
        #expect(!fileExists(elsewhere + "/created"))
    }

    // A symlinked subdirectory is refused by makeDirectory and the Store; nothing lands in its target.
    @Test func linkedSubdirectoryIsRefused() throws {
        let parent = makeTemporaryDirectory()
        let elsewhere = makeTemporaryDirectory()
        defer { removeTree(parent); removeTree(elsewhere) }
        link(parent + "/registry", to: elsewhere)
        #expect(stateError { () throws(StateError) in try FilePath.makeDirectory(parent + "/registry", mode: 0o700) }
            == StateError("open", path: parent + "/registry", .symbolicLink))
        #expect(stateError { () throws(StateError) in try Store(directory: parent + "/registry") }?.problem == .symbolicLink)
        #expect(stateError { () throws(StateError) in try DirectoryLock(directory: parent + "/registry") }?.problem == .symbolicLink)
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    // A symlinked journal or snapshot is refused on open, and its target is untouched.
    @Test func linkedStateFilesAreRefused() throws {
        let dir = makeTemporaryDirectory()
        let elsewhere = makeTemporaryDirectory()
        defer { removeTree(dir); removeTree(elsewhere) }
        let real = elsewhere + "/journal"
        try Journal.create(real, baseSequence: 0)
        let before = readBytes(real)
        link(dir + "/journal", to: real)
        #expect(stateError { () throws(StateError) in try Journal.open(dir + "/journal") }
            == StateError("open", path: dir + "/journal", .symbolicLink))
        let store = try Store(directory: dir)
        #expect(stateError { () throws(StateError) in try store.load() }?.problem == .symbolicLink)
        try store.close()
        #expect(readBytes(real) == before)

        let snapshot = elsewhere + "/snapshot"
        try AtomicFile.write(bytes("x"), to: snapshot, kind: .snapshot, version: 1)
        link(dir + "/snapshot", to: snapshot)
        #expect(stateError { () throws(StateError) in
            try AtomicFile.read(dir + "/snapshot", kind: .snapshot, supportedVersion: 1)
        }?.problem == .symbolicLink)
        #expect(stateError { () throws(StateError) in
            try AtomicFile.readIfPresent(dir + "/snapshot", kind: .snapshot, supportedVersion: 1)
        }?.problem == .symbolicLink)
        // A planted `.tmp` link is removed (unlink does not follow), never written through.
        link(dir + "/snapshot.tmp", to: elsewhere + "/via-tmp")
        try AtomicFile.write(bytes("y"), to: dir + "/state", kind: .snapshot, version: 1)
        try AtomicFile.write(bytes("y"), to: dir + "/snapshot", kind: .snapshot, version: 1)
        #expect(!fileExists(elsewhere + "/via-tmp"))
        #expect(try AtomicFile.read(snapshot, kind: .snapshot, supportedVersion: 1).payload == bytes("x"))
    }

    // A group- or other-writable state directory is refused, with the fix in the message.
    @Test func writableByOthersIsRefused() throws {
        for mode: mode_t in [0o770, 0o702, 0o777, 0o1777] {
            let dir = makeTemporaryDirectory()
            defer { removeTree(dir) }
            setPermissions(dir, mode)
            let error = stateError { () throws(StateError) in try DirectoryLock(directory: dir) }
            #expect(error == StateError("check state directory", path: dir, .unsafeMode(mode: UInt32(mode))))
            #expect(error?.description.contains("chmod 700") == true)
            #expect(stateError { () throws(StateError) in try Store(directory: dir) }?.problem == .unsafeMode(mode: UInt32(mode)))
            #expect(!fileExists(dir + "/lock"))
        }
    }

    // The normal flows: a fresh directory (0700 whatever the umask), an existing 0700 or 0755 one.
    @Test func normalDirectoriesWork() throws {
        let parent = makeTemporaryDirectory()
        defer { removeTree(parent) }
        let old = umask(0o077)
        try FilePath.makeDirectory(parent + "/strict", mode: 0o750)
        umask(old)
        #expect(permissions(parent + "/strict") == 0o750)
        for mode: mode_t in [0o700, 0o755] {
            let dir = parent + "/state" + String(mode)
            precondition(mkdir(dir, 0o700) == 0)
            setPermissions(dir, mode)
            let store = try Store(directory: dir)
            _ = try store.load()
            try store.append(bytes("a"))
            try store.compact(snapshot: bytes("s"))
            try store.close()
            let again = try Store(directory: dir)
            #expect(try again.load().snapshot == bytes("s"))
            try again.close()
        }
    }

    // A directory owned by another user is refused (needs root to set up).
    @Test(.enabled(if: geteuid() == 0)) func foreignOwnerIsRefused() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        precondition(chown(dir, 65534, 65534) == 0)
        let error = stateError { () throws(StateError) in try DirectoryLock(directory: dir) }
        #expect(error == StateError("check state directory", path: dir, .unsafeOwner(owner: 65534, expected: 0)))
        #expect(error?.description.contains("chown") == true)
        #expect(!fileExists(dir + "/lock"))
    }
}
