import CTern
import Linux
import Testing

// Daemon.detach() forks and makes the parent exit, and succeed() repoints the standard
// streams, so neither runs inside the test process; the readiness protocol between the two
// processes is tested here over a pipe, and the whole flow by hand (see the module report).
@Suite("Daemon readiness")
struct DaemonTests {
    // The child's failure message reaches the parent.
    @Test func failureCarriesMessage() throws {
        var pipe = try FileDescriptor.pipe()
        let readiness = DaemonReadiness(writeEnd: pipe.writeEnd)
        readiness.fail("TUNSETIFF: Operation not permitted (errno 1)")
        #expect(Daemon.awaitReadiness(from: pipe.readEnd) == .failed("TUNSETIFF: Operation not permitted (errno 1)"))
        try pipe.readEnd.close()
    }

    // A child that drops its handle without reporting is seen as having exited early.
    @Test func droppedHandleIsExitedEarly() throws {
        let pipe = try FileDescriptor.pipe()
        do {
            _ = DaemonReadiness(writeEnd: pipe.writeEnd)
        }
        #expect(Daemon.awaitReadiness(from: pipe.readEnd) == .exitedEarly)
    }

    // The ready byte ends the wait at once, even with the write end still open.
    @Test func readyByte() throws {
        let pipe = try FileDescriptor.pipe()
        let ready: [UInt8] = [UInt8(ascii: "R")]
        try ready.withUnsafeBytes { try pipe.writeEnd.writeAll($0) }
        #expect(Daemon.awaitReadiness(from: pipe.readEnd) == .ready)
    }
}
