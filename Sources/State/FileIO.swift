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

    /// Opens `path` with `flags` (O_CLOEXEC is always added) and, with
    /// O_CREAT, `mode`.
    init(path: String, flags: Int32, mode: UInt32 = 0) throws(StateError) {
        do {
            descriptor = try FileDescriptor.open(path, flags: flags, mode: mode)
        } catch {
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

    /// True if something exists at `path` (follows symlinks).
    static func exists(_ path: String) throws(StateError) -> Bool {
        let result = path.withCString { access($0, F_OK) }
        if result == 0 { return true }
        let code = tern_errno()
        if code == ENOENT { return false }
        throw StateError("access", path: path, .system(errno: code))
    }

    /// fsyncs the directory `path`, so renames and creations in it are durable.
    static func syncDirectory(_ path: String) throws(StateError) {
        var directory = try OpenFile(path: path, flags: O_RDONLY | O_DIRECTORY)
        try directory.sync()
        try directory.close()
    }

    /// Creates directory `path` with exactly `mode` if it is missing (its
    /// parent must exist; the parent is synced after a creation). Throws
    /// `.notADirectory` if something else is there.
    static func makeDirectory(_ path: String, mode: UInt32) throws(StateError) {
        let result = SystemError.retryingInterrupts { path.withCString { mkdir($0, mode_t(mode)) } }
        if result == 0 {
            let chmodResult = SystemError.retryingInterrupts { path.withCString { chmod($0, mode_t(mode)) } }
            if chmodResult != 0 { throw StateError.current("chmod", path: path) }
            try syncDirectory(directory(of: path))
            return
        }
        let code = tern_errno()
        guard code == EEXIST else { throw StateError("mkdir", path: path, .system(errno: code)) }
        let kind = path.withCString { tern_is_directory($0) }
        if kind < 0 { throw StateError.current("stat", path: path) }
        if kind == 0 { throw StateError("mkdir", path: path, .notADirectory) }
    }
}
