import CTern
import IP
import Linux
import Testing

@Suite("UDPSocket")
struct UDPSocketTests {
    static let loopback4 = IPAddress.v4(IPv4Address(127, 0, 0, 1))
    static let loopback6 = IPAddress.v6(IPv6Address(0, 0, 0, 0, 0, 0, 0, 1))

    // Single datagrams over 127.0.0.1 and [::1]; the IPv4 sender is seen as IPv4, not v4-mapped.
    @Test(arguments: [loopback4, loopback6])
    func exchangeSingle(address: IPAddress) throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        let loop = try EventLoop()
        try loop.register(b.fileDescriptor, token: 2, interest: .readable)
        let message = pattern(count: 300, seed: 9)
        let sent = try message.withUnsafeBytes { try a.send($0, to: Endpoint(address, port: b.port)) }
        #expect(sent)
        #expect(try waitFor(2, in: loop))
        var buffer = [UInt8](repeating: 0, count: 2048)
        let received = try buffer.withUnsafeMutableBytes { try b.receive(into: $0) }
        let datagram = try #require(received)
        #expect(datagram.length == 300)
        #expect(Array(buffer[0..<300]) == message)
        #expect(datagram.endpoint == Endpoint(address, port: a.port))
        #expect(datagram.endpoint.address.isIPv4 == address.isIPv4)
        // And back, to the endpoint we saw.
        _ = try message.withUnsafeBytes { try b.send($0, to: datagram.endpoint) }
        try loop.register(a.fileDescriptor, token: 1, interest: .readable)
        #expect(try waitFor(1, in: loop))
        let back = try buffer.withUnsafeMutableBytes { try a.receive(into: $0) }
        #expect(back?.endpoint == Endpoint(address, port: b.port))
    }

    // 32 datagrams of different sizes, half to IPv4 and half to IPv6, go out in one sendmmsg
    // and come back in a few recvmmsg calls with their lengths, bytes and senders.
    @Test func batchOf32() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        let out = DatagramBatch(slots: 32, bufferSize: 1500)
        for i in 0..<32 {
            let bytes = pattern(count: 100 + 37 * i, seed: i)
            let slot = out.buffer(at: i)
            slot.copyBytes(from: bytes)
            let address = i % 2 == 0 ? Self.loopback4 : Self.loopback6
            out.append(length: bytes.count, to: Endpoint(address, port: b.port))
        }
        #expect(out.isFull)
        #expect(try a.send(out) == 32)

        let loop = try EventLoop()
        try loop.register(b.fileDescriptor, token: 1, interest: .readable)
        let inbound = DatagramBatch(slots: 32, bufferSize: 2048)
        var seen = [Int: (Int, Endpoint)]()
        var calls = 0
        while seen.count < 32 && calls < 10 {
            #expect(try waitFor(1, in: loop))
            let count = try b.receive(into: inbound)
            calls += 1
            #expect(count == inbound.count)
            for i in 0..<count {
                let bytes = Array(inbound.datagram(at: i))
                let index = (bytes.count - 100) / 37
                #expect(bytes == pattern(count: 100 + 37 * index, seed: index))
                #expect(!inbound.isTruncated(at: i))
                seen[index] = (inbound.length(at: i), inbound.endpoint(at: i))
            }
        }
        #expect(seen.count == 32)
        #expect(calls <= 3)
        for (index, (length, endpoint)) in seen {
            #expect(length == 100 + 37 * index)
            let address = index % 2 == 0 ? Self.loopback4 : Self.loopback6
            #expect(endpoint == Endpoint(address, port: a.port))
        }
        out.removeAll()
        #expect(out.count == 0)
    }

    // Caller-owned slot buffers and zero-copy appends work like the batch's own buffers.
    @Test func callerOwnedBuffers() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        let pool = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 * 1024, alignment: 16)
        defer { pool.deallocate() }
        let batch = DatagramBatch(slots: 4, bufferSize: 0)
        for i in 0..<4 {
            // Slot i starts 16 bytes into its kilobyte, like a packet pool with headroom.
            batch.setBuffer(UnsafeMutableRawBufferPointer(rebasing: pool[(i * 1024 + 16)..<((i + 1) * 1024)]), forSlot: i)
        }
        let first = pattern(count: 64, seed: 1)
        let second = pattern(count: 65, seed: 2)
        batch.buffer(at: 0).copyBytes(from: first)
        batch.append(length: first.count, to: Endpoint(Self.loopback4, port: b.port))
        second.withUnsafeBytes { batch.append(pointingAt: $0, to: Endpoint(Self.loopback6, port: b.port)) }
        #expect(Array(batch.datagram(at: 1)) == second)
        #expect(a.flush(batch) == FlushResult(next: 2, failed: 0, lastError: nil))

        let loop = try EventLoop()
        try loop.register(b.fileDescriptor, token: 1, interest: .readable)
        var got: [[UInt8]] = []
        while got.count < 2 {
            #expect(try waitFor(1, in: loop))
            let count = try b.receive(into: batch)
            for i in 0..<count {
                #expect(batch.buffer(at: i).baseAddress == pool.baseAddress! + i * 1024 + 16)
                got.append(Array(batch.datagram(at: i)))
            }
        }
        #expect(Set(got) == Set([first, second]))
    }

    // A datagram longer than its slot is cut short and flagged.
    @Test func truncation() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        let message = pattern(count: 200, seed: 3)
        _ = try message.withUnsafeBytes { try a.send($0, to: Endpoint(Self.loopback4, port: b.port)) }
        let loop = try EventLoop()
        try loop.register(b.fileDescriptor, token: 1, interest: .readable)
        #expect(try waitFor(1, in: loop))
        let batch = DatagramBatch(slots: 2, bufferSize: 50)
        #expect(try b.receive(into: batch) == 1)
        #expect(batch.isTruncated(at: 0))
        #expect(batch.length(at: 0) == 50)
        #expect(Array(batch.datagram(at: 0)) == Array(message[0..<50]))
    }

    // One refused datagram (port 0: EINVAL) is skipped by flush; the others go out.
    @Test func flushSkipsRefusedDatagrams() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        let batch = DatagramBatch(slots: 3, bufferSize: 64)
        for (i, port) in [b.port, 0, b.port].enumerated() {
            batch.buffer(at: i).copyBytes(from: [UInt8(i)])
            batch.append(length: 1, to: Endpoint(Self.loopback4, port: port))
        }
        let result = a.flush(batch)
        #expect(result.next == 3)
        #expect(result.failed == 1)
        #expect(result.lastError?.errno == EINVAL)
        let loop = try EventLoop()
        try loop.register(b.fileDescriptor, token: 1, interest: .readable)
        var bytes: [UInt8] = []
        while bytes.count < 2 {
            #expect(try waitFor(1, in: loop))
            let count = try b.receive(into: batch)
            for i in 0..<count { bytes.append(batch.datagram(at: i)[0]) }
        }
        #expect(bytes.sorted() == [0, 2])
    }

    // An empty socket receives 0 datagrams, not an error.
    @Test func emptyReceive() throws {
        let socket = try UDPSocket()
        let batch = DatagramBatch(slots: 8, bufferSize: 1500)
        #expect(try socket.receive(into: batch) == 0)
        #expect(batch.count == 0)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) } == nil)
    }

    // The ephemeral port is reported; a taken port fails with a typed EADDRINUSE.
    @Test func portsAndAddressInUse() throws {
        let first = try UDPSocket(port: 0)
        #expect(first.port != 0)
        var address = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutableBytes(of: &address) {
            getsockname(first.fileDescriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
        }
        #expect(UInt16(bigEndian: address.sin6_port) == first.port)
        #expect(socketIntOption(first.fileDescriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY) == 0)

        let error = systemError { try UDPSocket(port: first.port) }
        #expect(error?.errno == EADDRINUSE)
        #expect(error?.isAddressInUse == true)
        #expect(error?.description == "bind: Address already in use (errno 98)")
        // A fixed free port binds as asked.
        let port = first.port
        first.close()
        let again = try UDPSocket(port: port)
        #expect(again.port == port)
    }

    // rebind moves to a new port and frees the old one; a taken port leaves the socket as it was.
    @Test func rebind() throws {
        let socket = try UDPSocket()
        let other = try UDPSocket()
        let oldPort = socket.port
        let error = systemError { try socket.rebind(port: other.port) }
        #expect(error?.errno == EADDRINUSE)
        #expect(socket.port == oldPort)
        try socket.rebind(port: oldPort)  // The current port: nothing to do.
        #expect(socket.port == oldPort)

        try socket.rebind(port: 0)
        #expect(socket.port != oldPort && socket.port != 0)
        let reuse = try UDPSocket(port: oldPort)  // The old port is free again.
        #expect(reuse.port == oldPort)

        // The rebound socket works.
        let message: [UInt8] = [1, 2, 3]
        _ = try message.withUnsafeBytes { try other.send($0, to: Endpoint(Self.loopback4, port: socket.port)) }
        let loop = try EventLoop()
        try loop.register(socket.fileDescriptor, token: 1, interest: .readable)
        #expect(try waitFor(1, in: loop))
        var buffer = [UInt8](repeating: 0, count: 8)
        let got = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) }
        #expect(got?.length == 3)
    }

    // SO_MARK is set on the socket and kept across rebind.
    @Test func firewallMark() throws {
        let socket = try UDPSocket()
        try socket.setFirewallMark(0x5445)
        #expect(socketIntOption(socket.fileDescriptor, SOL_SOCKET, SO_MARK) == 0x5445)
        try socket.rebind(port: 0)
        #expect(socket.firewallMark == 0x5445)
        #expect(socketIntOption(socket.fileDescriptor, SOL_SOCKET, SO_MARK) == 0x5445)
        try socket.setBufferSizes(receive: 1 << 20, send: 1 << 20, force: true)
        #expect(socketIntOption(socket.fileDescriptor, SOL_SOCKET, SO_RCVBUF) >= 1 << 20)
    }

    // An endpoint written as an IPv4-mapped IPv6 address reaches the IPv4 peer, and the
    // answer comes from the plain IPv4 endpoint.
    @Test func mappedEndpointsAreIPv4() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        let mapped = IPAddress.v6(IPv6Address(ipv4Mapped: IPv4Address(127, 0, 0, 1)))
        let message: [UInt8] = [7, 7, 7]
        #expect(try message.withUnsafeBytes { try a.send($0, to: Endpoint(mapped, port: b.port)) })
        let loop = try EventLoop()
        try loop.register(b.fileDescriptor, token: 1, interest: .readable)
        #expect(try waitFor(1, in: loop))
        var buffer = [UInt8](repeating: 0, count: 8)
        let got = try buffer.withUnsafeMutableBytes { try b.receive(into: $0) }
        #expect(got?.endpoint == Endpoint(Self.loopback4, port: a.port))
    }
}

/// An integer socket option's value, or -1.
func socketIntOption(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32 {
    var value: Int32 = -1
    var size = socklen_t(4)
    guard getsockopt(fd, level, name, &value, &size) == 0 else { return -1 }
    return value
}
