import CTern
import Foundation
import Linux
import Testing

@Suite("UnixListener and UnixConnection", .serialized)
struct UnixSocketTests {
    // A client sends "get=1\n\n" and reads the server's answer; the socket file is private
    // and its missing parent directories are created 0755; close removes the socket file.
    @Test func requestAndResponse() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/run/wireguard/wg-test.sock"
        let listener = try UnixListener(path: path)
        defer { listener.close() }

        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.type] as? FileAttributeType == .typeSocket)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.uint16Value ?? 0o777
        #expect(mode & 0o077 == 0, "socket mode \(String(mode, radix: 8)) is open to group or others")
        let parent = try FileManager.default.attributesOfItem(atPath: directory + "/run/wireguard")
        #expect((parent[.posixPermissions] as? NSNumber)?.uint16Value == 0o755)

        let loop = try EventLoop()
        try loop.register(listener.fileDescriptor, token: 1, interest: .readable)
        #expect(try listener.accept() == nil)
        let client = try UnixConnection.connect(to: path)
        #expect(try waitFor(1, in: loop))
        let server = try #require(try listener.accept())
        #expect(try listener.accept() == nil)

        let request = Array("get=1\n\n".utf8)
        #expect(try request.withUnsafeBytes { try client.write($0) })
        #expect(!client.hasPendingOutput)
        try loop.register(server.fileDescriptor, token: 2, interest: .readable)
        #expect(try waitFor(2, in: loop))
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = try #require(try buffer.withUnsafeMutableBytes { try server.read(into: $0) })
        #expect(Array(buffer[0..<count]) == request)

        let response = Array("private_key=00\nlisten_port=51820\nerrno=0\n\n".utf8)
        #expect(try response.withUnsafeBytes { try server.write($0) })
        try loop.register(client.fileDescriptor, token: 3, interest: .readable)
        #expect(try waitFor(3, in: loop))
        let answer = try #require(try buffer.withUnsafeMutableBytes { try client.read(into: $0) })
        #expect(Array(buffer[0..<answer]) == response)

        // The client hangs up: the server reads end of stream.
        client.close()
        #expect(try waitFor(2, in: loop))
        #expect(try buffer.withUnsafeMutableBytes { try server.read(into: $0) } == 0)

        listener.close()
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    // A large response through a small socket buffer goes out partly at once, the rest from the
    // output buffer as the socket drains; a write larger than the free space is refused whole.
    @Test func partialWrites() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/partial.sock"
        let listener = try UnixListener(path: path)
        let client = try UnixConnection.connect(to: path)
        let loop = try EventLoop()
        try loop.register(listener.fileDescriptor, token: 1, interest: .readable)
        #expect(try waitFor(1, in: loop))
        let server = try #require(try listener.accept(outputCapacity: 128 * 1024))
        var small: Int32 = 4096
        _ = setsockopt(server.fileDescriptor, SOL_SOCKET, SO_SNDBUF, &small, 4)

        let payload = pattern(count: 100_000, seed: 5)
        #expect(try payload.withUnsafeBytes { try server.write($0) })
        #expect(server.hasPendingOutput)
        #expect(server.pendingOutputCount < payload.count)
        #expect(server.outputSpace == server.outputCapacity - server.pendingOutputCount)
        // More than the free space: refused, nothing taken.
        let pending = server.pendingOutputCount
        let tooMuch = [UInt8](repeating: 1, count: server.outputSpace + 1)
        #expect(try !tooMuch.withUnsafeBytes { try server.write($0) })
        #expect(server.pendingOutputCount == pending)

        try loop.register(client.fileDescriptor, token: 3, interest: .readable)
        try loop.register(server.fileDescriptor, token: 2, interest: .writable)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        var flushes = 0
        let deadline = Clock.monotonicNanoseconds() + 5_000_000_000
        while received.count < payload.count && Clock.monotonicNanoseconds() < deadline {
            try loop.wait(until: deadline)
            for event in loop.readyEvents {
                if event.token == 2 && server.hasPendingOutput {
                    flushes += 1
                    if try server.flush() { try loop.modify(server.fileDescriptor, token: 2, interest: .readable) }
                }
                if event.token == 3, let n = try chunk.withUnsafeMutableBytes({ try client.read(into: $0) }) {
                    received += chunk[0..<n]
                }
            }
        }
        #expect(received == payload)
        #expect(flushes >= 1)
        #expect(!server.hasPendingOutput)
        listener.close()
    }

    // A live socket is not taken over (EADDRINUSE); a stale one is replaced; a non-socket is left alone.
    @Test func staleAndLiveSockets() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/s.sock"
        let live = try UnixListener(path: path)
        #expect(systemError { try UnixListener(path: path) }?.errno == EADDRINUSE)
        #expect(FileManager.default.fileExists(atPath: path))  // The live one's file is untouched.
        live.close()
        #expect(!FileManager.default.fileExists(atPath: path))

        // A socket file nobody listens on, as a crashed daemon leaves it.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        let bound = withUnsafeBytes(of: &address) {
            bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        #expect(bound == 0)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(systemError { try UnixConnection.connect(to: path) }?.errno == ECONNREFUSED)
        let fresh = try UnixListener(path: path)
        let client = try UnixConnection.connect(to: path)
        client.close()
        fresh.close()

        // A regular file is not a socket to replace.
        #expect(FileManager.default.createFile(atPath: path, contents: Data([1])))
        #expect(systemError { try UnixListener(path: path) }?.errno == EEXIST)
        #expect(FileManager.default.fileExists(atPath: path))

        let long = directory + "/" + String(repeating: "x", count: 120)
        #expect(systemError { try UnixListener(path: long) }?.errno == ENAMETOOLONG)
        #expect(systemError { try UnixConnection.connect(to: directory + "/missing.sock") }?.errno == ENOENT)
    }

    // A listener does not unlink a path that another listener has taken over since.
    @Test func closeLeavesSomeoneElsesSocket() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/t.sock"
        let old = try UnixListener(path: path)
        unlink(path)  // An operator removed it...
        let new = try UnixListener(path: path)  // ...and a new daemon bound the path.
        old.close()
        #expect(FileManager.default.fileExists(atPath: path))
        new.close()
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
