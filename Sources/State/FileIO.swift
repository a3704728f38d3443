import CTern
import Linux

/// An open file (owned by the shell's `FileDescriptor`) plus the path it was
/// opened at, for error messages. Every call retries EINTR; failures become
/// `StateError`s naming the operation and the path. Offsets are `Int64`
/// everywhere, also on armhf where `Int` is 32 bits.
struct OpenFile: ~Copyable {
    private var descriptor: FileDescriptor
    /// The path the file was opened at.
    let path: String

    /// The descriptor number, or -1 once closed.
    var fd: Int32 { descriptor.rawValue }

    /// Opens `path` with `flags` (O_CLOEXEC and O_NOFOLLOW are always added)
    /// and, with O_CREAT, `mode`. A symbolic link at `path` is refused with
    /// `.symbolicLink`: a link planted in a state directory must never send a
    /// write (or a truncation) somewhere else.
    init(path: String, flags: Int32, mode: UInt32 = 0) throws(StateError) {
        do {
            descriptor = try FileDescriptor.open(path, flags: flags | O_NOFOLLOW, mode: mode)
        } catch {
            if error.errno == ELOOP { throw StateError("open", path: path, .symbolicLink) }
            throw StateError("open", path: path, .system(errno: error.errno))
        }
        self.path = path
    }

    /// Closes now (errors other than EINTR are thrown; the descriptor is gone either way).
    mutating func close() throws(StateError) {
        do { try descriptor.close() } catch { throw StateError("close", path: path, .system(errno: error.errno)) }
    }

    /// The current size of the file in bytes.
    func size() throws(StateError) -> Int64 {
        let number = fd
        let result = tern_file_size(number)
        if result < 0 { throw StateError.current("fstat", path: path) }
        return result
    }

    /// The permission bits of the file (st_mode & 0o7777).
    func mode() throws(StateError) -> UInt32 {
        let number = fd
        let result = tern_file_mode(number)
        if result < 0 { throw StateError.current("fstat", path: path) }
        return UInt32(result)
    }

    /// Sets the permission bits exactly (independent of the umask).
    func setMode(_ mode: UInt32) throws(StateError) {
        let number = fd
        if SystemError.retryingInterrupts({ fchmod(number, mode_t(mode)) }) != 0 { throw StateError.current("fchmod", path: path) }
    }

    /// Reads up to `buffer.count` bytes at `offset`, looping over short
    /// reads; returns how many were read (fewer only at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StateError) -> Int {
        var done = 0
        let number = fd
        while done < buffer.count {
            let result = SystemError.retryingInterrupts {
                tern_pread(number, buffer.baseAddress! + done, UInt(buffer.count - done), offset + Int64(done))
            }
            if result < 0 { throw StateError.current("pread", path: path) }
            if result == 0 { break }
            done += Int(result)
        }
        return done
    }

    /// Reads exactly `count` bytes at `offset` into a new array, or nil if
    /// the file ends first.
    func read(count: Int, at offset: Int64) throws(StateError) -> [UInt8]? {
        if count == 0 { return [] }
        var error: StateError? = nil
        var got = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(StateError) {
                got = try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            } catch let failure {
                error = failure
            }
            // Bytes past `got` are zeroed so the array is fully initialized.
            for i in got..<count { buffer[i] = 0 }
            initialized = count
        }
        if let error { throw error }
        return got == count ? bytes : nil
    }

    /// Writes all of `bytes` at `offset` (looping over short writes).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StateError) {
        var done = 0
        let number = fd
        while done < bytes.count {
            let result = SystemError.retryingInterrupts {
                tern_pwrite(number, bytes.baseAddress! + done, UInt(bytes.count - done), offset + Int64(done))
            }
            if result < 0 { throw StateError.current("pwrite", path: path) }
            if result == 0 { throw StateError("pwrite", path: path, .system(errno: EIO)) }
            done += Int(result)
        }
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int64) throws(StateError) {
        var error: StateError? = nil
        bytes.withUnsafeBytes { raw in
            do throws(StateError) { try write(raw, at: offset) } catch let failure { error = failure }
        }
        if let error { throw error }
    }

    /// fsync: data and metadata are on disk when this returns.
    func sync() throws(StateError) {
        let number = fd
        if SystemError.retryingInterrupts({ fsync(number) }) != 0 { throw StateError.current("fsync", path: path) }
    }

    /// fdatasync: data (and the size, if it changed) is on disk when this returns.
    func syncData() throws(StateError) {
        let number = fd
        if SystemError.retryingInterrupts({ fdatasync(number) }) != 0 { throw StateError.current("fdatasync", path: path) }
    }

    /// Cuts the file to `length` bytes.
    func truncate(to length: Int64) throws(StateError) {
        let number = fd
        if SystemError.retryingInterrupts({ tern_ftruncate(number, length) }) != 0 {
            throw StateError.current("ftruncate", path: path)
        }
    }
}

/// Path helpers and whole-path system calls.
enum FilePath {
    /// The directory part of `path` ("." when it has none, "/" for top-level files).
    static func directory(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        if slash == 0 { return "/" }
        return String(decoding: bytes[0..<slash], as: UTF8.self)
    }

    /// `directory` + "/" + `name`.
    static func join(_ directory: String, _ name: String) -> String {
        if directory.utf8.last == UInt8(ascii: "/") { return directory + name }
        return directory + "/" + name
    }

    /// rename(2): atomically replaces `to` with `from`.
    static func rename(_ from: String, to: String) throws(StateError) {
        let result = SystemError.retryingInterrupts {
            from.withCString { a in to.withCString { b in CTern.rename(a, b) } }
        }
        if result != 0 { throw StateError.current("rename", path: to) }
    }

    /// unlink(2); returns false (no error) if `path` did not exist.
    @discardableResult
    static func remove(_ path: String) throws(StateError) -> Bool {
        let result = SystemError.retryingInterrupts { path.withCString { unlink($0) } }
        if result == 0 { return true }
        if tern_errno() == ENOENT { return false }
        throw StateError.current("unlink", path: path)
    }

    /// True if something exists at `path` (follows symlinks; callers then
    /// open it through `OpenFile`, which refuses a link).
    static func exists(_ path: String) throws(StateError) -> Bool {
        let result = path.withCString { access($0, F_OK) }
        if result == 0 { return true }
        let code = tern_errno()
        if code == ENOENT { return false }
        throw StateError("access", path: path, .system(errno: code))
    }

    /// fsyncs the directory `path`, so renames and creations in it are durable.
    static func syncDirectory(_ path: String) throws(StateError) {
        var directory = try openDirectory(path)
        try directory.sync()
        try directory.close()
    }

    /// Opens the directory `path` itself (never a symbolic link to one).
    static func openDirectory(_ path: String) throws(StateError) -> OpenFile {
        do {
            return try OpenFile(path: path, flags: O_RDONLY | O_DIRECTORY)
        } catch let error {
            // O_DIRECTORY|O_NOFOLLOW reports a link to a directory as ENOTDIR.
            if error.errno == ENOTDIR {
                let link = path.withCString { tern_is_symbolic_link($0) }
                throw StateError("open", path: path, link == 1 ? .symbolicLink : .notADirectory)
            }
            throw error
        }
    }

    /// Refuses the existing state directory `path` unless it is a real
    /// directory (not a symbolic link), owned by the effective uid and not
    /// writable by group or others: otherwise another user could plant
    /// links or files in it that this process would then write through.
    static func checkStateDirectory(_ path: String) throws(StateError) {
        var directory = try openDirectory(path)
        defer { _ = try? directory.close() }
        try checkOwnerAndMode(directory)
    }

    private static func checkOwnerAndMode(_ directory: borrowing OpenFile) throws(StateError) {
        var owner: UInt32 = 0
        let number = directory.fd
        if tern_file_owner(number, &owner) != 0 { throw StateError.current("fstat", path: directory.path) }
        let expected = UInt32(geteuid())
        if owner != expected {
            throw StateError("check state directory", path: directory.path, .unsafeOwner(owner: owner, expected: expected))
        }
        let mode = try directory.mode()
        if mode & 0o022 != 0 {
            throw StateError("check state directory", path: directory.path, .unsafeMode(mode: mode))
        }
    }

    /// Creates the state directory `path` with exactly `mode` if it is
    /// missing (its parent must exist; the parent is synced after a
    /// creation). An existing `path` must pass `checkStateDirectory`:
    /// `.notADirectory` if it is something else, `.symbolicLink` if it is a
    /// link (never followed), `.unsafeOwner` / `.unsafeMode` if another user
    /// could write into it.
    static func makeDirectory(_ path: String, mode: UInt32) throws(StateError) {
        let result = SystemError.retryingInterrupts { path.withCString { mkdir($0, mode_t(mode)) } }
        if result == 0 {
            // fchmod on the opened directory: the umask may have cleared bits of `mode`.
            var created = try openDirectory(path)
            defer { _ = try? created.close() }
            try created.setMode(mode)
            try syncDirectory(directory(of: path))
            return
        }
        let code = tern_errno()
        guard code == EEXIST else { throw StateError("mkdir", path: path, .system(errno: code)) }
        try checkStateDirectory(path)
    }
}
