import CTern
import Foundation
import IP
import Linux
import Testing

/// The two loopback addresses; tests never use any other.
private let loopbacks: [IPAddress] = [.v4(IPv4Address(127, 0, 0, 1)), .v6(IPv6Address(0, 0, 0, 0, 0, 0, 0, 1))]
private let loopbackV4 = loopbacks[0]

/// Runs `loop` for at most `seconds`, handing every ready event to `handle`,
/// until `done()`; true if it got there in time.
private func drive(
    _ loop: EventLoop, seconds: UInt64 = 5, until done: () -> Bool, _ handle: (ReadyEvent) throws -> Void
) throws -> Bool {
    let deadline = Clock.monotonicNanoseconds() + seconds * 1_000_000_000
    while !done() {
        if Clock.monotonicNanoseconds() >= deadline { return false }
        try loop.wait(until: deadline)
        for event in loop.readyEvents { try handle(event) }
    }
    return true
}

/// A listener on `address` port 0 and a connected client/server pair.
private func connectedPair(
    _ address: IPAddress, clientCapacity: Int = TCPConnection.defaultOutputCapacity,
    serverCapacity: Int = TCPConnection.defaultOutputCapacity
) throws -> (listener: TCPListener, client: TCPConnection, server: TCPConnection) {
    let listener = try TCPListener(endpoint: Endpoint(address, port: 0))
    let loop = try EventLoop()
    try loop.register(listener.fileDescriptor, token: 1, interest: .readable)
    let client = try TCPConnection.connect(to: listener.endpoint, outputCapacity: clientCapacity)
    try loop.register(client.fileDescriptor, token: 2, interest: client.interest)
    var server: TCPConnection?
    let done = try drive(loop, until: { server != nil && !client.isConnecting }) { event in
        if event.token == 1, server == nil { server = try listener.accept(outputCapacity: serverCapacity) }
        if event.token == 2 {
            _ = try client.finishConnect()
            try loop.modify(client.fileDescriptor, token: 2, interest: client.interest)
        }
    }
    try #require(done, "connection not established in time")
    return (listener, client, try #require(server))
}

/// An integer socket option of `fd`.
private func option(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32 {
    var value: Int32 = -1
    var size = socklen_t(4)
    #expect(getsockopt(fd, level, name, &value, &size) == 0)
    return value
}

private let ipprotoTCP: Int32 = 6   // IPPROTO_TCP; the TCP option numbers are Linux's.

@Suite("TCPListener and TCPConnection", .serialized)
struct TCPSocketTests {
    // Listener on an ephemeral port; the client writes before the connect completes (the
    // bytes are queued), the server echoes, and both ends name each other correctly.
    @Test(arguments: loopbacks) func echoRoundTrip(address: IPAddress) throws {
        let listener = try TCPListener(endpoint: Endpoint(address, port: 0))
        #expect(listener.port != 0)
        #expect(listener.endpoint == Endpoint(address, port: listener.port))
        let loop = try EventLoop()
        try loop.register(listener.fileDescriptor, token: 1, interest: .readable)
        #expect(try listener.accept() == nil)

        let client = try TCPConnection.connect(to: listener.endpoint)
        #expect(client.peer == listener.endpoint)
        let request = Array("hello, tern".utf8)
        #expect(try client.write(request))
        try loop.register(client.fileDescriptor, token: 2, interest: client.interest)

        var server: TCPConnection?
        var echoed: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        let done = try drive(loop, until: { echoed.count >= request.count }) { event in
            switch event.token {
            case 1:
                while let accepted = try listener.accept() {
                    #expect(server == nil)
                    server = accepted
                    try loop.register(accepted.fileDescriptor, token: 3, interest: accepted.interest)
                }
            case 2:
                if event.isWritable { try client.flush() }
                if let n = try buffer.withUnsafeMutableBytes({ try client.read(into: $0) }) {
                    #expect(n > 0, "unexpected end of stream")
                    echoed += buffer[0..<n]
                }
                try loop.modify(client.fileDescriptor, token: 2, interest: client.interest)
            case 3:
                let server = try #require(server)
                if let n = try buffer.withUnsafeMutableBytes({ try server.read(into: $0) }), n > 0 {
                    #expect(try server.write(Array(buffer[0..<n])))
                }
                try loop.modify(server.fileDescriptor, token: 3, interest: server.interest)
            default:
                Issue.record("unexpected token \(event.token)")
            }
        }
        #expect(done, "no echo within the time limit")
        #expect(echoed == request)
        #expect(!client.isConnecting && !client.hasPendingOutput)
        let accepted = try #require(server)
        #expect(accepted.peer == (try client.localEndpoint()))
        #expect(try accepted.localEndpoint() == listener.endpoint)
        #expect(accepted.peer.address == address)
    }

    // 1 MiB through a reader that takes 4 KiB per wake-up: the writer meets a full socket,
    // its queue fills to the limit (a write that does not fit is refused whole) and
    // drains on writable; every byte arrives in order.
    @Test func largeTransferThroughSlowReader() throws {
        let capacity = 256 * 1024
        let (listener, client, server) = try connectedPair(loopbackV4, serverCapacity: capacity)
        defer { listener.close() }
        var small: Int32 = 8192
        #expect(setsockopt(server.fileDescriptor, SOL_SOCKET, SO_SNDBUF, &small, 4) == 0)

        let payload = pattern(count: 1024 * 1024, seed: 9)
        let chunk = 64 * 1024
        var offset = 0
        var refused = 0
        var flushes = 0
        var sawPending = false
        var maximumPending = 0
        var received: [UInt8] = []
        received.reserveCapacity(payload.count)
        var buffer = [UInt8](repeating: 0, count: 4096)

        let loop = try EventLoop()
        try loop.register(client.fileDescriptor, token: 2, interest: .readable)
        try loop.register(server.fileDescriptor, token: 3, interest: .writable)
        let done = try drive(loop, seconds: 20, until: { received.count >= payload.count }) { event in
            if event.token == 3 {
                if server.hasPendingOutput {
                    flushes += 1
                    try server.flush()
                }
                // Write until the queue refuses or the payload is out.
                while offset < payload.count {
                    let end = min(offset + chunk, payload.count)
                    let taken = try payload.withUnsafeBytes { try server.write(UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }
                    guard taken else {
                        refused += 1
                        break
                    }
                    offset = end
                }
                sawPending = sawPending || server.hasPendingOutput
                maximumPending = max(maximumPending, server.pendingOutputCount)
                let wanted: Interest = offset < payload.count || server.hasPendingOutput ? .writable : .readable
                try loop.modify(server.fileDescriptor, token: 3, interest: wanted)
            }
            if event.token == 2, let n = try buffer.withUnsafeMutableBytes({ try client.read(into: $0) }) {
                #expect(n > 0, "unexpected end of stream")
                received += buffer[0..<n]
            }
        }
        #expect(done, "transfer incomplete: \(received.count) of \(payload.count) bytes")
        #expect(received == payload)
        #expect(sawPending)
        #expect(refused > 0)
        #expect(flushes > 0)
        #expect(maximumPending <= capacity)
        #expect(!server.hasPendingOutput)
    }

    // A port that is bound but not listening refuses: ECONNREFUSED as a SystemError,
    // from connect itself or, once the socket reports, from flush (IPv4) or read (IPv6).
    @Test(arguments: loopbacks) func connectionRefused(address: IPAddress) throws {
        // Holding the port bound (without listening) keeps anyone else from taking it.
        let family = address.isIPv4 ? AF_INET : AF_INET6
        let holder = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        try #require(holder >= 0)
        defer { close(holder) }
        var storage = sockaddr_storage()
        var length: socklen_t
        if case .v4 = address {
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            withUnsafeBytes(of: &v4) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else {
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &v6.sin6_addr) { $0[15] = 1 }
            withUnsafeBytes(of: &v6) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        let bound = withUnsafeMutableBytes(of: &storage) { raw in
            bind(holder, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
        try #require(bound == 0)
        var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutableBytes(of: &storage) { raw in
            getsockname(holder, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &boundLength)
        }
        // sin_port and sin6_port sit at the same offset.
        let port = withUnsafeBytes(of: &storage) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
        try #require(port != 0)

        var failure: SystemError?
        do {
            let client = try TCPConnection.connect(to: Endpoint(address, port: port))
            let loop = try EventLoop()
            try loop.register(client.fileDescriptor, token: 1, interest: client.interest)
            _ = try drive(loop, until: { failure != nil || !client.isConnecting }) { _ in
                do {
                    if address.isIPv4 {
                        _ = try client.flush()
                    } else {
                        var byte: UInt8 = 0
                        #expect(try withUnsafeMutableBytes(of: &byte) { try client.read(into: $0) } == nil)
                    }
                } catch let error as SystemError {
                    failure = error
                }
            }
            #expect(!client.isConnecting)
        } catch let error as SystemError {
            failure = error
        }
        let error = try #require(failure, "connecting to a closed port did not fail")
        #expect(error.errno == ECONNREFUSED)
        #expect(error == SystemError("connect", errno: ECONNREFUSED))
        #expect(error.description == "connect: Connection refused (errno \(ECONNREFUSED))")
    }

    // A write that would take the queue over its limit is refused whole; exactly the free
    // space is accepted; once the peer reads, everything accepted arrives in order.
    @Test func outputLimitIsEnforced() throws {
        let capacity = 64 * 1024
        let (listener, client, server) = try connectedPair(loopbackV4, clientCapacity: capacity)
        defer { listener.close() }
        var small: Int32 = 4096
        #expect(setsockopt(client.fileDescriptor, SOL_SOCKET, SO_SNDBUF, &small, 4) == 0)
        #expect(client.outputCapacity == capacity)

        // The server does not read: kernel buffers (a few hundred KiB at most with the
        // small send buffer) fill, then the queue.
        let maximumWrites = 128
        let piece = 16 * 1024
        let stream = pattern(count: (maximumWrites + 1) * piece + capacity, seed: 3)
        var accepted = 0
        var writes = 0
        while writes < maximumWrites {
            writes += 1
            let taken = try stream.withUnsafeBytes {
                try client.write(UnsafeRawBufferPointer(rebasing: $0[accepted..<accepted + piece]))
            }
            if !taken { break }
            accepted += piece
        }
        #expect(writes < maximumWrites, "the output limit never refused a write")
        #expect(client.hasPendingOutput)
        #expect(client.pendingOutputCount + client.outputSpace == capacity)
        let space = client.outputSpace
        #expect(try stream.withUnsafeBytes {
            try client.write(UnsafeRawBufferPointer(rebasing: $0[accepted..<accepted + space]))
        })
        accepted += space
        #expect(client.outputSpace == 0 && client.pendingOutputCount == capacity)
        let pending = client.pendingOutputCount
        #expect(try !client.write([0x55]))
        #expect(client.pendingOutputCount == pending)
        #expect(try client.write([]))

        // Now the server reads; the client flushes on writable.
        let loop = try EventLoop()
        try loop.register(client.fileDescriptor, token: 2, interest: client.interest)
        try loop.register(server.fileDescriptor, token: 3, interest: .readable)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let done = try drive(loop, seconds: 10, until: { received.count >= accepted }) { event in
            if event.token == 2 {
                try client.flush()
                try loop.modify(client.fileDescriptor, token: 2, interest: client.interest)
            }
            if event.token == 3, let n = try buffer.withUnsafeMutableBytes({ try server.read(into: $0) }) {
                #expect(n > 0)
                received += buffer[0..<n]
            }
        }
        #expect(done, "drained \(received.count) of \(accepted) bytes")
        #expect(received == Array(stream[0..<accepted]))
        #expect(!client.hasPendingOutput)
    }

    // Half-close: the server reads the request then end of stream and can still answer;
    // the client reads the answer then end of stream when the server closes.
    // Unread bytes are visible without reading them (a busy server's liveness check).
    @Test func pendingInputIsVisibleBeforeARead() throws {
        let (listener, client, server) = try connectedPair(loopbackV4)
        defer { listener.close() }
        #expect(!server.hasPendingInput)
        #expect(try client.write([1, 2, 3]))
        let deadline = Clock.monotonicNanoseconds() + 2_000_000_000
        while !server.hasPendingInput && Clock.monotonicNanoseconds() < deadline {}
        #expect(server.hasPendingInput)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try buffer.withUnsafeMutableBytes { try server.read(into: $0) } == 3)
        #expect(!server.hasPendingInput)
    }

    @Test func endOfStream() throws {
        let (listener, client, server) = try connectedPair(loopbackV4)
        defer { listener.close() }
        #expect(try client.write(Array("request".utf8)))
        try client.shutdownOutput()
        #expect(systemError { try client.write([1]) }?.errno == EPIPE)

        let loop = try EventLoop()
        try loop.register(server.fileDescriptor, token: 3, interest: .readable)
        try loop.register(client.fileDescriptor, token: 2, interest: .readable)
        var buffer = [UInt8](repeating: 0, count: 256)
        var request: [UInt8] = []
        var serverSawEnd = false
        #expect(try drive(loop, until: { serverSawEnd }) { event in
            guard event.token == 3 else { return }
            while let n = try buffer.withUnsafeMutableBytes({ try server.read(into: $0) }) {
                if n == 0 { serverSawEnd = true; break }
                request += buffer[0..<n]
            }
        })
        #expect(String(decoding: request, as: UTF8.self) == "request")

        #expect(try server.write(Array("answer".utf8)))
        server.close()
        #expect(server.fileDescriptor == -1)
        var answer: [UInt8] = []
        var clientSawEnd = false
        #expect(try drive(loop, until: { clientSawEnd }) { event in
            guard event.token == 2 else { return }
            while let n = try buffer.withUnsafeMutableBytes({ try client.read(into: $0) }) {
                if n == 0 { clientSawEnd = true; break }
                answer += buffer[0..<n]
            }
        })
        #expect(String(decoding: answer, as: UTF8.self) == "answer")
    }

    // 200 clients connect at once; one loop accepts them all and answers each.
    @Test func manySimultaneousConnections() throws {
        let count = 200
        let listener = try TCPListener(endpoint: Endpoint(loopbackV4, port: 0))
        defer { listener.close() }
        let loop = try EventLoop(capacity: 64)
        try loop.register(listener.fileDescriptor, token: 0, interest: .readable)
        var clients: [TCPConnection] = []
        for i in 0..<count {
            let client = try TCPConnection.connect(to: listener.endpoint)
            // Written while connecting: queued, sent by the flush on writable.
            #expect(try client.write([UInt8(i & 0xff), UInt8(i >> 8)]))
            try loop.register(client.fileDescriptor, token: UInt64(1000 + i), interest: client.interest)
            clients.append(client)
        }
        var servers: [UInt64: TCPConnection] = [:]
        var nextServerToken: UInt64 = 10_000
        var answered = Set<Int>()
        var buffer = [UInt8](repeating: 0, count: 64)
        let done = try drive(loop, seconds: 20, until: { answered.count == count }) { event in
            switch event.token {
            case 0:
                while let server = try listener.accept() {
                    servers[nextServerToken] = server
                    try loop.register(server.fileDescriptor, token: nextServerToken, interest: .readable)
                    nextServerToken += 1
                }
            case 1000..<UInt64(1000 + count):
                let index = Int(event.token - 1000)
                let client = clients[index]
                try client.flush()
                if let n = try buffer.withUnsafeMutableBytes({ try client.read(into: $0) }), n > 0 {
                    #expect(n == 2 && Int(buffer[0]) | Int(buffer[1]) << 8 == index)
                    answered.insert(index)
                }
                try loop.modify(client.fileDescriptor, token: event.token, interest: client.interest)
            default:
                // Echo each client's two bytes (they arrive in one segment).
                let server = try #require(servers[event.token])
                if let n = try buffer.withUnsafeMutableBytes({ try server.read(into: $0) }), n > 0 {
                    #expect(try server.write(Array(buffer[0..<n])))
                }
            }
        }
        #expect(done, "\(answered.count) of \(count) answered, \(servers.count) accepted")
        #expect(servers.count == count)
        let clientEnds = Set(try clients.map { try $0.localEndpoint() })
        #expect(Set(servers.values.map(\.peer)) == clientEnds)
    }

    // Both ends get TCP_NODELAY, keepalive 30/10/3 and a 60 s user timeout by default;
    // custom values and keepalive off are honoured; descriptors are nonblocking and close-on-exec.
    @Test func socketOptions() throws {
        let (listener, client, server) = try connectedPair(loopbacks[1])
        defer { listener.close() }
        for fd in [client.fileDescriptor, server.fileDescriptor] {
            #expect(option(fd, ipprotoTCP, 1) != 0)               // TCP_NODELAY
            #expect(option(fd, SOL_SOCKET, SO_KEEPALIVE) != 0)
            #expect(option(fd, ipprotoTCP, 4) == 30)              // TCP_KEEPIDLE
            #expect(option(fd, ipprotoTCP, 5) == 10)              // TCP_KEEPINTVL
            #expect(option(fd, ipprotoTCP, 6) == 3)               // TCP_KEEPCNT
            #expect(option(fd, ipprotoTCP, 18) == 60_000)         // TCP_USER_TIMEOUT
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        }
        #expect(fcntl(listener.fileDescriptor, F_GETFD) & FD_CLOEXEC != 0)
        #expect(option(listener.fileDescriptor, SOL_SOCKET, SO_REUSEADDR) != 0)

        let custom = TCPKeepalive(idleSeconds: 5, intervalSeconds: 2, probeCount: 4)
        #expect(custom.userTimeoutSeconds == 13)
        let tuned = try TCPConnection.connect(to: listener.endpoint, keepalive: custom)
        #expect(option(tuned.fileDescriptor, ipprotoTCP, 4) == 5)
        #expect(option(tuned.fileDescriptor, ipprotoTCP, 5) == 2)
        #expect(option(tuned.fileDescriptor, ipprotoTCP, 6) == 4)
        #expect(option(tuned.fileDescriptor, ipprotoTCP, 18) == 13_000)
        let plain = try TCPConnection.connect(to: listener.endpoint, keepalive: nil)
        #expect(option(plain.fileDescriptor, SOL_SOCKET, SO_KEEPALIVE) == 0)
        #expect(option(plain.fileDescriptor, ipprotoTCP, 1) != 0)
        let bad = TCPKeepalive(idleSeconds: 0)
        #expect(systemError { try TCPConnection.connect(to: listener.endpoint, keepalive: bad) }
            == SystemError("setsockopt(TCP_KEEPIDLE)", errno: EINVAL))
    }

    // A second live listener on the same port is refused even with SO_REUSEADDR.
    @Test func addressInUse() throws {
        let first = try TCPListener(endpoint: Endpoint(loopbackV4, port: 0))
        defer { first.close() }
        let error = systemError { try TCPListener(endpoint: first.endpoint) }
        #expect(error?.isAddressInUse == true)
        #expect(error?.operation.description == "bind")
        first.close()
        #expect(systemError { try first.accept() }?.errno == EBADF)
    }
}
