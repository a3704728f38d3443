import CTern
import Linux
import Testing

@Suite("EventLoop")
struct EventLoopTests {
    // A pipe with data is reported under its token; unregistered, it is not.
    @Test func pipeBecomesReadable() throws {
        let loop = try EventLoop(capacity: 4)
        let pipe = try FileDescriptor.pipe(nonBlocking: true)
        try loop.register(pipe.readEnd.rawValue, token: 7, interest: .readable)
        let now = Clock.monotonicNanoseconds()
        #expect(try loop.wait(until: now) == 0)

        var byte: UInt8 = 42
        #expect(try withUnsafeBytes(of: &byte) { try pipe.writeEnd.write($0) } == 1)
        #expect(try loop.wait(until: Clock.monotonicNanoseconds() + 1_000_000_000) == 1)
        let event = try #require(loop.readyEvents.first)
        #expect(event.token == 7)
        #expect(event.isReadable)
        #expect(!event.isWritable)
        // Level-triggered: still reported while unread.
        #expect(try loop.wait(until: nil) == 1)

        try loop.unregister(pipe.readEnd.rawValue)
        #expect(try loop.wait(until: Clock.monotonicNanoseconds()) == 0)
        #expect(loop.readyEvents.isEmpty)
    }

    // Interest can be changed; the write end is writable, and both ends report under their own tokens.
    @Test func modifyAndSeveralTokens() throws {
        let loop = try EventLoop(capacity: 8)
        let pipe = try FileDescriptor.pipe(nonBlocking: true)
        try loop.register(pipe.writeEnd.rawValue, token: 1, interest: .readable)
        #expect(try loop.wait(until: Clock.monotonicNanoseconds()) == 0)
        try loop.modify(pipe.writeEnd.rawValue, token: 2, interest: .writable)
        try loop.register(pipe.readEnd.rawValue, token: 3, interest: .readable)
        var byte: UInt8 = 1
        _ = try withUnsafeBytes(of: &byte) { try pipe.writeEnd.write($0) }
        #expect(try loop.wait(until: nil) == 2)
        let tokens = Set(loop.readyEvents.map(\.token))
        #expect(tokens == [2, 3])
        #expect(loop.readyEvents.first { $0.token == 2 }?.isWritable == true)
        // Registering twice is an error (EEXIST), as is modifying an unknown fd (ENOENT).
        #expect(systemError { try loop.register(pipe.readEnd.rawValue, token: 9, interest: .readable) }?.errno == EEXIST)
        #expect(systemError { try loop.unregister(pipe.writeEnd.rawValue) } == nil)
        #expect(systemError { try loop.modify(pipe.writeEnd.rawValue, token: 2, interest: .writable) }?.errno == ENOENT)
    }

    // A closed peer is reported as readable and hung up.
    @Test func hangUpIsReported() throws {
        let loop = try EventLoop()
        var pipe = try FileDescriptor.pipe(nonBlocking: true)
        try loop.register(pipe.readEnd.rawValue, token: 5, interest: .readable)
        try pipe.writeEnd.close()
        #expect(try loop.wait(until: nil) == 1)
        let event = try #require(loop.readyEvents.first)
        #expect(event.isHangUp && event.isReadable)
    }

    // A deadline 50 ms ahead returns no events after at least 50 ms, and well before 500 ms.
    @Test func deadlineWithoutEvents() throws {
        let loop = try EventLoop()
        let pipe = try FileDescriptor.pipe(nonBlocking: true)
        try loop.register(pipe.readEnd.rawValue, token: 1, interest: .readable)
        let start = Clock.monotonicNanoseconds()
        let count = try loop.wait(until: start + 50_000_000)
        let elapsed = Clock.monotonicNanoseconds() - start
        #expect(count == 0)
        #expect(elapsed >= 50_000_000)
        #expect(elapsed < 500_000_000)
    }

    // Deadlines that are not whole milliseconds away never return early.
    @Test(arguments: [UInt64(1), 999_999, 1_000_000, 1_000_001, 2_500_000, 7_000_003])
    func neverReturnsEarly(distance: UInt64) throws {
        let loop = try EventLoop()
        for _ in 0..<5 {
            let deadline = Clock.monotonicNanoseconds() + distance
            #expect(try loop.wait(until: deadline) == 0)
            #expect(Clock.monotonicNanoseconds() >= deadline)
        }
    }

    // The timeout conversion rounds up, treats the past as 0 and nil as forever, and caps.
    @Test func timeoutConversion() {
        let now: UInt64 = 1_000_000_000_000
        #expect(EventLoop.timeoutMilliseconds(until: nil, now: now) == -1)
        #expect(EventLoop.timeoutMilliseconds(until: now - 1, now: now) == 0)
        #expect(EventLoop.timeoutMilliseconds(until: now, now: now) == 0)
        #expect(EventLoop.timeoutMilliseconds(until: now + 1, now: now) == 1)
        #expect(EventLoop.timeoutMilliseconds(until: now + 999_999, now: now) == 1)
        #expect(EventLoop.timeoutMilliseconds(until: now + 1_000_000, now: now) == 1)
        #expect(EventLoop.timeoutMilliseconds(until: now + 1_000_001, now: now) == 2)
        #expect(EventLoop.timeoutMilliseconds(until: now + 50_000_000, now: now) == 50)
        #expect(EventLoop.timeoutMilliseconds(until: UInt64.max, now: 0) == Int32.max)
    }

    // The monotonic clock does not go back; the wall clock is after 2020 and agrees with its split form.
    @Test func clocks() {
        let a = Clock.monotonicNanoseconds()
        let b = Clock.monotonicNanoseconds()
        #expect(b >= a)
        let wall = Clock.wallClockNanoseconds()
        #expect(wall > 1_577_836_800 * 1_000_000_000)
        let split = Clock.wallClock()
        #expect(split.nanoseconds >= 0 && split.nanoseconds < 1_000_000_000)
        #expect(abs(split.seconds - wall / 1_000_000_000) <= 1)
    }
}
