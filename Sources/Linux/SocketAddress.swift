import CTern
import IP

/// Conversions between `Endpoint` and the socket addresses of Tern's
/// dual-stack sockets.
///
/// Tern's UDP socket is one AF_INET6 socket with IPV6_V6ONLY off, so the
/// kernel speaks to IPv4 peers through IPv4-mapped addresses
/// (`::ffff:a.b.c.d`). Above this file nobody sees those: an IPv4 endpoint
/// goes out as its mapped address and a mapped address comes back as an
/// IPv4 endpoint. Scope IDs are not carried (link-local peers are out of
/// scope for now).
///
/// These stay internal on purpose: C struct types seen through CTern and
/// through Glibc (which Foundation brings into test targets) are distinct
/// Swift types, so public API in terms of them breaks such clients.
extension sockaddr_in6 {
    /// The socket address for `endpoint`, IPv4 endpoints as IPv4-mapped.
    init(_ endpoint: Endpoint) {
        self.init()
        sin6_family = sa_family_t(AF_INET6)
        sin6_port = endpoint.port.bigEndian
        let address: IPv6Address
        switch endpoint.address {
        case .v4(let v4): address = IPv6Address(ipv4Mapped: v4)
        case .v6(let v6): address = v6
        }
        withUnsafeMutableBytes(of: &sin6_addr) { raw in
            address.write(networkOrderBytesTo: UnsafeMutableRawBufferPointer(rebasing: raw[0..<16]))
        }
    }

    /// The endpoint this address names, IPv4-mapped addresses as IPv4.
    var endpoint: Endpoint {
        var copy = sin6_addr
        let address = withUnsafeBytes(of: &copy) { raw in
            IPv6Address(networkOrderBytes: UnsafeRawBufferPointer(rebasing: raw[0..<16]))
        }
        let port = UInt16(bigEndian: sin6_port)
        if let v4 = address.ipv4Mapped { return Endpoint(.v4(v4), port: port) }
        return Endpoint(.v6(address), port: port)
    }
}

extension sockaddr_in {
    /// The AF_INET socket address for an IPv4 `address` and `port`.
    init(_ address: IPv4Address, port: UInt16) {
        self.init()
        sin_family = sa_family_t(AF_INET)
        sin_port = port.bigEndian
        sin_addr.s_addr = address.value.bigEndian
    }

    /// The IPv4 endpoint this address names.
    var endpoint: Endpoint {
        Endpoint(.v4(IPv4Address(UInt32(bigEndian: sin_addr.s_addr))), port: UInt16(bigEndian: sin_port))
    }
}

/// Reads an endpoint from a socket address of `length` bytes the kernel
/// wrote at `address` (AF_INET6 or AF_INET); nil for other families or a
/// short length.
func decodeEndpoint(fromSocketAddress address: UnsafeRawPointer, length: Int) -> Endpoint? {
    guard length >= MemoryLayout<sa_family_t>.size else { return nil }
    let family = Int32(address.loadUnaligned(as: sa_family_t.self))
    if family == AF_INET6 && length >= MemoryLayout<sockaddr_in6>.size {
        return address.loadUnaligned(as: sockaddr_in6.self).endpoint
    }
    if family == AF_INET && length >= MemoryLayout<sockaddr_in>.size {
        return address.loadUnaligned(as: sockaddr_in.self).endpoint
    }
    return nil
}

/// Runs `body` with a pointer to `address` as a generic `sockaddr` and its length.
@inline(__always)
func withSocketAddress<Result, Address>(
    _ address: inout Address, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
) -> Result {
    withUnsafeBytes(of: &address) { raw in
        body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
    }
}

/// Runs `body` with a mutable `sockaddr` pointer to `address` and its length.
@inline(__always)
func withMutableSocketAddress<Result, Address>(
    _ address: inout Address, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> Result
) -> Result {
    withUnsafeMutableBytes(of: &address) { raw in
        body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
    }
}

/// `setsockopt(fd, level, name, &value, sizeof value)` for an integer option.
func setSocketOption<Value: FixedWidthInteger>(
    _ fd: Int32, _ level: Int32, _ name: Int32, _ value: Value, _ operation: StaticString
) throws(SystemError) {
    var value = value
    let size = socklen_t(MemoryLayout<Value>.size)
    _ = try SystemError.check(operation) { setsockopt(fd, level, name, &value, size) }
}

/// `getsockopt(fd, level, name)` for a 32-bit integer option.
func socketOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ operation: StaticString) throws(SystemError) -> Int32 {
    var value: Int32 = 0
    var size = socklen_t(MemoryLayout<Int32>.size)
    _ = try SystemError.check(operation) { getsockopt(fd, level, name, &value, &size) }
    return value
}
