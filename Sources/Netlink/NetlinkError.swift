import CTern

/// Why a netlink request (or a /proc/sys write) failed: what was being done,
/// the kernel's answer as a named code, and the kernel's own explanation when
/// it sent one (netlink extended ACK) or a note from this side.
///
/// `description` is one line for people, such as
/// "adding route 10.1.0.0/16 via dev tern0: no such device".
public struct NetlinkError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kernel's errno as a named case. Cases without an errno describe
    /// failures found on this side of the socket.
    public enum Code: Equatable, Sendable {
        /// EEXIST: the address, route or object is already there.
        case exists
        /// ENODEV: no interface with that index or name.
        case noDevice
        /// EPERM: the process lacks CAP_NET_ADMIN in the namespace's user
        /// namespace (or CAP_SYS_ADMIN to enter a namespace).
        case notPermitted
        /// EACCES: the file or object may not be accessed.
        case accessDenied
        /// EINVAL: the kernel refused the request's contents.
        case invalidArgument
        /// ENOENT: the object (nftables table, IPv6 route, file) does not exist.
        case notFound
        /// ESRCH: no matching entry (an IPv4 route being removed, for one).
        case noSuchEntry
        /// EADDRNOTAVAIL: the address is not configured on the interface.
        case addressNotAvailable
        /// ENETUNREACH: the gateway is not reachable through any route.
        case networkUnreachable
        /// ENETDOWN: the interface is down.
        case networkDown
        /// EBUSY: the object is in use.
        case busy
        /// ENOBUFS: the kernel ran out of buffer space (or dropped replies).
        case noBufferSpace
        /// EMSGSIZE: a message is too large for the socket.
        case messageTooLong
        /// EOPNOTSUPP: the kernel does not support the operation.
        case notSupported
        /// EPROTONOSUPPORT or EAFNOSUPPORT: the kernel lacks the protocol
        /// (nf_tables, IPv6) or a module for it.
        case protocolNotSupported
        /// EROFS: the file system (often /proc/sys in a container) is read-only.
        case readOnlyFileSystem
        /// No reply arrived within the socket's receive timeout.
        case timedOut
        /// The kernel's reply could not be understood.
        case malformedReply
        /// Any other errno.
        case other(Int32)

        /// The code for `errno` (a positive number).
        public init(errno: Int32) {
            switch errno {
            case EEXIST: self = .exists
            case ENODEV: self = .noDevice
            case EPERM: self = .notPermitted
            case EACCES: self = .accessDenied
            case EINVAL: self = .invalidArgument
            case ENOENT: self = .notFound
            case ESRCH: self = .noSuchEntry
            case EADDRNOTAVAIL: self = .addressNotAvailable
            case ENETUNREACH: self = .networkUnreachable
            case ENETDOWN: self = .networkDown
            case EBUSY: self = .busy
            case ENOBUFS: self = .noBufferSpace
            case EMSGSIZE: self = .messageTooLong
            case EOPNOTSUPP: self = .notSupported
            case EPROTONOSUPPORT, EAFNOSUPPORT: self = .protocolNotSupported
            case EROFS: self = .readOnlyFileSystem
            case EAGAIN: self = .timedOut
            default: self = .other(errno)
            }
        }

        /// A short lowercase phrase for people.
        public var message: String {
            switch self {
            case .exists: return "already exists"
            case .noDevice: return "no such device"
            case .notPermitted: return "operation not permitted (CAP_NET_ADMIN is required)"
            case .accessDenied: return "permission denied"
            case .invalidArgument: return "invalid argument"
            case .notFound: return "not found"
            case .noSuchEntry: return "no such entry"
            case .addressNotAvailable: return "address not available"
            case .networkUnreachable: return "network unreachable"
            case .networkDown: return "network is down"
            case .busy: return "device or resource busy"
            case .noBufferSpace: return "no buffer space available"
            case .messageTooLong: return "message too long"
            case .notSupported: return "operation not supported by this kernel"
            case .protocolNotSupported: return "protocol not supported by this kernel"
            case .readOnlyFileSystem: return "read-only file system"
            case .timedOut: return "timed out waiting for the kernel's reply"
            case .malformedReply: return "malformed reply from the kernel"
            case .other(let errno): return "error " + String(errno)
            }
        }
    }

    /// What happened to the other changes of a batch that failed.
    public enum Rollback: Equatable, Sendable {
        /// The changes that had succeeded (this many; 0 when none had) were
        /// undone: nothing of the batch is applied.
        case undone(Int)
        /// Undoing failed: this many of the other changes could not be
        /// undone and are still applied.
        case failed(Int)
    }

    /// The named error.
    public let code: Code
    /// What was being done, such as "adding route 10.1.0.0/16 via dev tern0".
    public let operation: String
    /// The kernel's extended-ACK text when it sent one, or a note from this
    /// side for requests refused before sending.
    public let detail: String?
    /// For a failed batch (`RTNetlink.apply`): what became of the changes
    /// that had succeeded; nil otherwise.
    public let rollback: Rollback?

    /// An error of `code` while doing `operation`.
    public init(_ code: Code, _ operation: String, detail: String? = nil, rollback: Rollback? = nil) {
        self.code = code
        self.operation = operation
        self.detail = detail
        self.rollback = rollback
    }

    /// An error for the positive `errno` while doing `operation`.
    public init(errno: Int32, _ operation: String, detail: String? = nil) {
        self.init(Code(errno: errno), operation, detail: detail)
    }

    /// This error with `rollback` recorded.
    func with(rollback: Rollback) -> NetlinkError {
        NetlinkError(code, operation, detail: detail, rollback: rollback)
    }

    /// "operation: message", then the detail in parentheses and the batch
    /// outcome, when there are any.
    public var description: String {
        var text = operation + ": " + code.message
        if let detail, !detail.isEmpty { text += " (" + detail + ")" }
        switch rollback {
        case .undone(let count)? where count > 0:
            text += "; the batch was rolled back (" + String(count) + (count == 1 ? " other change" : " other changes")
                + " undone)"
        case .failed(let count)?:
            text += "; rolling back the batch FAILED: " + String(count)
                + (count == 1 ? " other change is" : " other changes are") + " still applied"
        case .undone?, nil:
            break
        }
        return text
    }
}

/// The calling thread's errno as an error while doing `operation`.
@inline(never)
func lastError(_ operation: String) -> NetlinkError {
    NetlinkError(errno: tern_errno(), operation)
}
