import CTern

/// A failed system call: which operation failed and the `errno` it left.
///
/// This is the one error type of the Linux shell. The operation is a static
/// string ("bind", "recvmmsg", "TUNSETIFF", ...) so that building an error
/// never allocates; context such as a path or an interface name belongs to
/// the caller's log line. Conditions that are not errors on a nonblocking
/// descriptor (EAGAIN) are reported by the wrappers as `nil` or `0`, never
/// thrown, and EINTR is retried inside the wrappers, so neither reaches here
/// from the wrappers of this module.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    /// The name of the failing operation, usually the system call.
    public let operation: StaticString
    /// The `errno` value the operation left (EADDRINUSE, EPERM, ...).
    public let errno: Int32

    /// An error for `operation` with the given `errno` value.
    public init(_ operation: StaticString, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// An error for `operation` with the calling thread's current `errno`.
    public static func current(_ operation: StaticString) -> SystemError {
        SystemError(operation, errno: tern_errno())
    }

    /// "bind: Address already in use (errno 98)": the operation, the C
    /// library's message for the errno value, and the number.
    public var description: String {
        var text = operation.description
        text += ": "
        if let message = strerror(errno) {
            text += String(cString: message)
        } else {
            text += "unknown error"
        }
        text += " (errno "
        text += String(errno)
        text += ")"
        return text
    }

    /// Equal when both the errno value and the operation's text are equal.
    public static func == (a: SystemError, b: SystemError) -> Bool {
        guard a.errno == b.errno else { return false }
        return a.operation.withUTF8Buffer { x in
            b.operation.withUTF8Buffer { y in
                x.count == y.count && (0..<x.count).allSatisfy { x[$0] == y[$0] }
            }
        }
    }

    /// True for EAGAIN/EWOULDBLOCK: the nonblocking operation would have had to wait.
    public var isWouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }

    /// True for EADDRINUSE: the address or port is taken by another socket.
    public var isAddressInUse: Bool { errno == EADDRINUSE }
}

extension SystemError {
    /// Runs `body`, a C call that returns -1 and sets errno on failure, again
    /// for as long as it fails with EINTR; returns its final result unchanged
    /// (errno is still valid when that result is -1).
    @inline(__always)
    public static func retryingInterrupts<Result: FixedWidthInteger & SignedInteger>(
        _ body: () -> Result
    ) -> Result {
        while true {
            let result = body()
            if result == -1 && tern_errno() == EINTR { continue }
            return result
        }
    }

    /// Runs `body` (a C call returning -1 and setting errno on failure),
    /// retrying EINTR, and returns its nonnegative result; any other failure
    /// is thrown as `SystemError(operation, errno:)`.
    @inline(__always)
    public static func check<Result: FixedWidthInteger & SignedInteger>(
        _ operation: StaticString, _ body: () -> Result
    ) throws(SystemError) -> Result {
        let result = retryingInterrupts(body)
        if result == -1 { throw SystemError.current(operation) }
        return result
    }

    /// Like `check(_:_:)` for operations on nonblocking descriptors: returns
    /// nil instead of throwing when the call fails with EAGAIN/EWOULDBLOCK.
    @inline(__always)
    public static func checkUnlessWouldBlock<Result: FixedWidthInteger & SignedInteger>(
        _ operation: StaticString, _ body: () -> Result
    ) throws(SystemError) -> Result? {
        let result = retryingInterrupts(body)
        if result == -1 {
            let code = tern_errno()
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            throw SystemError(operation, errno: code)
        }
        return result
    }

    /// For calls that return an error number instead of setting errno
    /// (pthread_sigmask, posix_spawn): throws unless `result` is 0.
    @inline(__always)
    public static func checkReturnedCode(_ operation: StaticString, _ result: Int32) throws(SystemError) {
        if result != 0 { throw SystemError(operation, errno: result) }
    }
}

/// Copies `text` into a NUL-terminated C string and runs `body` on it and
/// its length in bytes; `capacity` counts the terminator. Throws
/// `SystemError(operation, errno: ENAMETOOLONG)` if the text does not fit
/// and `EINVAL` if it contains a NUL byte. Configuration-time only: it
/// allocates.
func withBoundedCString<Result>(
    _ text: String, capacity: Int, _ operation: StaticString,
    _ body: (UnsafePointer<CChar>, Int) throws(SystemError) -> Result
) throws(SystemError) -> Result {
    var bytes = Array(text.utf8)
    let length = bytes.count
    guard length < capacity else { throw SystemError(operation, errno: ENAMETOOLONG) }
    guard !bytes.contains(0) else { throw SystemError(operation, errno: EINVAL) }
    bytes.append(0)
    let storage = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
    defer { storage.deallocate() }
    for i in 0..<bytes.count { storage[i] = CChar(bitPattern: bytes[i]) }
    return try body(UnsafePointer(storage), length)
}
