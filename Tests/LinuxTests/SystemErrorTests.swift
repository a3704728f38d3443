import CTern
import Linux
import Testing

@Suite("SystemError and FileDescriptor")
struct SystemErrorTests {
    // The description names the operation, the C library's text and the number.
    @Test func description() {
        let error = SystemError("bind", errno: EADDRINUSE)
        #expect(error.description == "bind: Address already in use (errno 98)")
        #expect(error.isAddressInUse && !error.isWouldBlock)
        #expect(SystemError("read", errno: EAGAIN).isWouldBlock)
        #expect(error == SystemError("bind", errno: EADDRINUSE))
        #expect(error != SystemError("connect", errno: EADDRINUSE))
        #expect(error != SystemError("bind", errno: EACCES))
    }

    // check throws the current errno; checkUnlessWouldBlock turns EAGAIN into nil.
    @Test func checks() throws {
        let error = systemError { try SystemError.check("close") { CTern.close(-1) } }
        #expect(error == SystemError("close", errno: EBADF))
        let pipe = try FileDescriptor.pipe(nonBlocking: true)
        var byte: UInt8 = 0
        let read = try withUnsafeMutableBytes(of: &byte) { try pipe.readEnd.read(into: $0) }
        #expect(read == nil)
        #expect(try pipe.readEnd.isNonBlocking())
        try pipe.readEnd.setNonBlocking(false)
        #expect(try !pipe.readEnd.isNonBlocking())
    }

    // close closes once; later operations fail with EBADF; release hands the number over unclosed.
    @Test func ownership() throws {
        var pipe = try FileDescriptor.pipe()
        let number = pipe.readEnd.rawValue
        try pipe.readEnd.close()
        #expect(!pipe.readEnd.isOpen && pipe.readEnd.rawValue == -1)
        try pipe.readEnd.close()  // A second close does nothing.
        _ = number

        let writeNumber = pipe.writeEnd.release()
        #expect(fcntl_getfd(writeNumber) >= 0)  // Still open: release did not close it.
        let adopted = FileDescriptor(adopting: writeNumber)
        #expect(adopted.rawValue == writeNumber)
    }

    private func fcntl_getfd(_ fd: Int32) -> Int32 { tern_fcntl_int(fd, F_GETFD, 0) }
}
