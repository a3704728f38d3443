import CTern
import Linux
import Testing

/// The socket buffers asked for survive a rebind (a new port is a new
/// socket, which would otherwise fall back to the 208 KiB default and drop
/// datagrams in bursts).
@Suite("UDP socket buffers")
struct UDPBufferTests {
    func receiveBuffer(_ socket: UDPSocket) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVBUF, &value, &length) == 0)
        return value
    }

    @Test func buffersAreKeptAcrossARebind() throws {
        let socket = try UDPSocket()
        let small = receiveBuffer(socket)
        // Within net.core.rmem_max on any system: no privilege needed.
        try socket.setBufferSizes(receive: 160 * 1024, send: 160 * 1024)
        let asked = receiveBuffer(socket)
        #expect(asked >= 2 * 160 * 1024 || asked > small)
        try socket.rebind(port: 0)
        #expect(receiveBuffer(socket) == asked)
    }
}
