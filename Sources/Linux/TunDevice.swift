import CTern

/// A layer-3 TUN interface: IP packets in and out, without the packet
/// information header (IFF_TUN | IFF_NO_PI), on a nonblocking descriptor.
///
/// The interface is not persistent: it exists exactly as long as the
/// descriptor is open, so closing the device — or the daemon dying for any
/// reason — removes it, with its addresses and routes.
///
/// Reads and writes move one packet per call; read until nil (EAGAIN) when
/// the descriptor is readable. Packets are read at an offset into the
/// caller's buffer, so the WireGuard core can seal them in place with its
/// 16-byte header in front.
public final class TunDevice {
    private var descriptor: FileDescriptor
    /// The interface name the kernel chose ("tern0", or a "tern%d" pattern filled in).
    public let name: String
    /// The interface index (`if_nametoindex`), for netlink and routing.
    public let index: UInt32

    /// Creates the interface `name` (at most 15 bytes; a "%d" in it is
    /// replaced by the kernel with the first free number) by opening
    /// /dev/net/tun and issuing TUNSETIFF. Needs CAP_NET_ADMIN. Throws
    /// EBUSY if an interface of that name exists and is in use, EPERM
    /// without the capability, ENAMETOOLONG for a long name.
    public init(name requested: String) throws(SystemError) {
        var request = try NetworkInterface.makeRequest(requested, "TUNSETIFF")
        request.ifr_ifru.ifru_flags = Int16(IFF_TUN | IFF_NO_PI)
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open("/dev/net/tun", flags: O_RDWR | O_NONBLOCK)
        } catch {
            // Name the device: EACCES here means its mode, not a capability.
            throw SystemError("open /dev/net/tun", errno: error.errno)
        }
        let fd = descriptor.rawValue
        _ = try withUnsafeMutableBytes(of: &request) { (raw) throws(SystemError) in
            try SystemError.check("TUNSETIFF") { tern_ioctl_ptr(fd, tern_tunsetiff(), raw.baseAddress) }
        }
        let actual = NetworkInterface.name(in: &request)
        self.index = try NetworkInterface.index(of: actual)
        self.name = actual
        self.descriptor = descriptor
    }

    /// The TUN descriptor, to register for `.readable`.
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// Reads one packet into `buffer[offset...]` and returns its length, or
    /// nil if no packet is waiting. A packet longer than
    /// `buffer.count - offset` is cut short by the kernel (size buffers for
    /// the MTU). The buffer before `offset` is left untouched.
    public func read(into buffer: UnsafeMutableRawBufferPointer, offset: Int = 0) throws(SystemError) -> Int? {
        precondition(offset >= 0 && offset < buffer.count, "offset outside the buffer")
        let fd = descriptor.rawValue
        let start = buffer.baseAddress! + offset
        let space = buffer.count - offset
        return try SystemError.checkUnlessWouldBlock("read(tun)") { CTern.read(fd, start, space) }
    }

    /// Writes one IP packet (IPv4 or IPv6, told apart by its version
    /// nibble) for the kernel to receive on this interface. Returns false
    /// if the device could not take it now (EAGAIN). A malformed packet
    /// fails with EINVAL.
    @discardableResult
    public func write(_ packet: UnsafeRawBufferPointer) throws(SystemError) -> Bool {
        let fd = descriptor.rawValue
        let written = try SystemError.checkUnlessWouldBlock("write(tun)") {
            CTern.write(fd, packet.baseAddress, packet.count)
        }
        return written != nil
    }

    /// The interface's MTU.
    public func mtu() throws(SystemError) -> Int {
        try NetworkInterface.mtu(of: name)
    }

    /// Sets the interface's MTU (WireGuard's usual is 1420).
    public func setMTU(_ mtu: Int) throws(SystemError) {
        try NetworkInterface.setMTU(mtu, of: name)
    }

    /// Brings the link up (or down).
    public func setUp(_ up: Bool = true) throws(SystemError) {
        try NetworkInterface.setUp(up, name)
    }

    /// Closes the descriptor now, which removes the interface (it is closed
    /// on release otherwise); later operations fail with EBADF.
    public func close() {
        try? descriptor.close()
    }
}

/// Link settings of a network interface by name, through the classic
/// `ioctl`s on an AF_INET datagram socket: the MTU and the up flag. That is
/// all the TUN device needs today; addresses and routes belong to the
/// netlink module.
///
/// Every call opens and closes its own short-lived control socket; these
/// are configuration-time operations, never on the packet path. Changing
/// settings needs CAP_NET_ADMIN.
public enum NetworkInterface {
    /// The interface's index (`if_nametoindex`); ENODEV if there is none by that name.
    public static func index(of name: String) throws(SystemError) -> UInt32 {
        try withBoundedCString(name, capacity: Int(IFNAMSIZ), "if_nametoindex") { (cName, _) throws(SystemError) in
            let index = if_nametoindex(cName)
            if index == 0 { throw SystemError.current("if_nametoindex") }
            return index
        }
    }

    /// The interface's MTU (SIOCGIFMTU).
    public static func mtu(of name: String) throws(SystemError) -> Int {
        var request = try makeRequest(name, "SIOCGIFMTU")
        try control(UInt(SIOCGIFMTU), &request, "SIOCGIFMTU")
        return Int(request.ifr_ifru.ifru_mtu)
    }

    /// Sets the interface's MTU (SIOCSIFMTU); EINVAL if the driver refuses
    /// the value (TUN accepts 68...65535).
    public static func setMTU(_ mtu: Int, of name: String) throws(SystemError) {
        guard mtu > 0 && mtu <= Int(Int32.max) else { throw SystemError("SIOCSIFMTU", errno: EINVAL) }
        var request = try makeRequest(name, "SIOCSIFMTU")
        request.ifr_ifru.ifru_mtu = Int32(mtu)
        try control(UInt(SIOCSIFMTU), &request, "SIOCSIFMTU")
    }

    /// The interface flags (IFF_UP, IFF_RUNNING, ...; SIOCGIFFLAGS), as the
    /// unsigned 16 bits the ioctl carries.
    public static func flags(of name: String) throws(SystemError) -> UInt16 {
        var request = try makeRequest(name, "SIOCGIFFLAGS")
        try control(UInt(SIOCGIFFLAGS), &request, "SIOCGIFFLAGS")
        return UInt16(bitPattern: request.ifr_ifru.ifru_flags)
    }

    /// True if the administrative up flag (IFF_UP) is set.
    public static func isUp(_ name: String) throws(SystemError) -> Bool {
        try flags(of: name) & UInt16(IFF_UP) != 0
    }

    /// Sets or clears IFF_UP (`ip link set NAME up|down`), keeping the other flags.
    public static func setUp(_ up: Bool, _ name: String) throws(SystemError) {
        var request = try makeRequest(name, "SIOCGIFFLAGS")
        try control(UInt(SIOCGIFFLAGS), &request, "SIOCGIFFLAGS")
        let current = UInt16(bitPattern: request.ifr_ifru.ifru_flags)
        let wanted = up ? current | UInt16(IFF_UP) : current & ~UInt16(IFF_UP)
        guard wanted != current else { return }
        request.ifr_ifru.ifru_flags = Int16(bitPattern: wanted)
        try control(UInt(SIOCSIFFLAGS), &request, "SIOCSIFFLAGS")
    }

    /// An `ifreq` naming `name`; ENAMETOOLONG past IFNAMSIZ - 1 bytes.
    static func makeRequest(_ name: String, _ operation: StaticString) throws(SystemError) -> ifreq {
        var request = ifreq()
        try withBoundedCString(name, capacity: Int(IFNAMSIZ), operation) { (cName, length) throws(SystemError) in
            withUnsafeMutableBytes(of: &request.ifr_ifrn) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(start: cName, count: length + 1))
            }
        }
        return request
    }

    /// The interface name in `request` (up to its NUL).
    static func name(in request: inout ifreq) -> String {
        withUnsafeBytes(of: &request.ifr_ifrn) { raw in
            var end = 0
            while end < raw.count && raw[end] != 0 { end += 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<end]), as: UTF8.self)
        }
    }

    /// `ioctl(request, &ifreq)` on a fresh AF_INET datagram socket.
    private static func control(_ code: UInt, _ request: inout ifreq, _ operation: StaticString) throws(SystemError) {
        let type = Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = try SystemError.check("socket") { socket(AF_INET, type, 0) }
        let controlSocket = FileDescriptor(adopting: fd)
        _ = try withUnsafeMutableBytes(of: &request) { (raw) throws(SystemError) in
            try SystemError.check(operation) { tern_ioctl_ptr(controlSocket.rawValue, code, raw.baseAddress) }
        }
    }
}
