import CTern

/// IP forwarding of a network namespace (the sysctls
/// net.ipv4.ip_forward and net.ipv6.conf.all.forwarding), which a subnet
/// router needs on.
///
/// The files under /proc/sys/net belong to the network namespace of the
/// thread that opens them, so with a `namespacePath` they are opened inside
/// that namespace. Writing needs root and CAP_NET_ADMIN in the namespace; on
/// a host whose /proc/sys is read-only (some containers) it fails with
/// `.readOnlyFileSystem`.
///
/// Turning IPv6 forwarding on has a side effect: an interface with
/// accept_ra = 1 stops accepting router advertisements (only accept_ra = 2
/// keeps them), so a host that gets its IPv6 default route from RAs can lose
/// it. Tern never turns forwarding off again: other software (containers,
/// VPNs) may rely on it, and the host's own configuration decides at boot.
public enum Forwarding {
    /// The sysctl file for `family`.
    public static func path(_ family: AddressFamily) -> String {
        switch family {
        case .ipv4: return "/proc/sys/net/ipv4/ip_forward"
        case .ipv6: return "/proc/sys/net/ipv6/conf/all/forwarding"
        }
    }

    /// True if forwarding of `family` is on in the namespace at
    /// `namespacePath` (the calling thread's when nil).
    public static func isEnabled(_ family: AddressFamily, namespacePath: String? = nil) throws(NetlinkError) -> Bool {
        let file = path(family)
        let operation = "reading " + family.name + " forwarding (" + file + ")"
        let fd = try open(file, O_RDONLY, namespacePath, operation)
        defer { close(fd) }
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count == 1 { return byte != UInt8(ascii: "0") }
            if count < 0 && tern_errno() == EINTR { continue }
            if count < 0 { throw lastError(operation) }
            throw NetlinkError(.malformedReply, operation, detail: "the file is empty")
        }
    }

    /// Turns forwarding of `family` on in the namespace at `namespacePath`
    /// (the calling thread's when nil). Returns true if it was off (the
    /// caller should log that it turned it on), false if it was on already
    /// (then nothing is written).
    @discardableResult
    public static func enable(_ family: AddressFamily, namespacePath: String? = nil) throws(NetlinkError) -> Bool {
        if try isEnabled(family, namespacePath: namespacePath) { return false }
        let file = path(family)
        let operation = "enabling " + family.name + " forwarding (" + file + ")"
        let fd = try open(file, O_WRONLY, namespacePath, operation)
        defer { close(fd) }
        var text: (UInt8, UInt8) = (UInt8(ascii: "1"), UInt8(ascii: "\n"))
        while true {
            let count = write(fd, &text, 2)
            if count == 2 { return true }
            if count < 0 && tern_errno() == EINTR { continue }
            if count < 0 { throw lastError(operation) }
            throw NetlinkError(.other(EIO), operation, detail: "short write")
        }
    }

    /// Opens `file` with `flags` inside the namespace at `namespacePath`.
    private static func open(
        _ file: String, _ flags: Int32, _ namespacePath: String?, _ operation: String
    ) throws(NetlinkError) -> Int32 {
        try withNetworkNamespace(namespacePath) { () throws(NetlinkError) -> Int32 in
            let fd = tern_open(file, flags | O_CLOEXEC, 0)
            guard fd >= 0 else { throw lastError(operation) }
            return fd
        }
    }
}
