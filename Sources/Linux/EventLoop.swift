import CTern

/// What an `EventLoop` watches a descriptor for.
///
/// Registrations are level-triggered unless `edgeTriggered` is included:
/// a readable descriptor is reported on every `wait` until it has been read
/// down to EAGAIN. That is the simpler contract — a handler may read one
/// batch and return, and the loop comes back to it — and costs one extra
/// wake-up at most. Edge-triggered registrations report only transitions, so
/// their handlers must drain to EAGAIN every time or stall.
public struct Interest: OptionSet, Sendable {
    /// The raw epoll event bits.
    public let rawValue: UInt32

    /// Interest with exactly these epoll bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Data to read, a connection to accept, or end of stream (EPOLLIN | EPOLLRDHUP).
    public static let readable = Interest(rawValue: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)
    /// Room to write (EPOLLOUT).
    public static let writable = Interest(rawValue: EPOLLOUT.rawValue)
    /// Report transitions only (EPOLLET); see the type's discussion.
    public static let edgeTriggered = Interest(rawValue: EPOLLET.rawValue)
}

/// One ready descriptor, as reported by `EventLoop.wait(until:)`.
public struct ReadyEvent: Equatable, Sendable {
    /// The token the descriptor was registered with.
    public let token: UInt64
    /// The raw epoll bits the kernel reported.
    public let events: UInt32

    /// Creates an event (for tests and for dispatch code fed by other sources).
    public init(token: UInt64, events: UInt32) {
        self.token = token
        self.events = events
    }

    /// Data (or a connection) is waiting, or the peer closed: read to find out.
    public var isReadable: Bool { events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue) != 0 }
    /// Writing would not block.
    public var isWritable: Bool { events & EPOLLOUT.rawValue != 0 }
    /// The peer hung up (EPOLLHUP or EPOLLRDHUP); pending data may remain to be read.
    public var isHangUp: Bool { events & (EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0 }
    /// An error is pending on the descriptor (EPOLLERR); the next operation reports it.
    public var isError: Bool { events & EPOLLERR.rawValue != 0 }
}

/// The ready events of the last `EventLoop.wait(until:)`, in the loop's
/// preallocated array. Valid until the next `wait`.
public struct ReadyEvents: RandomAccessCollection {
    private let base: UnsafePointer<epoll_event>
    /// 0.
    public let startIndex: Int = 0
    /// The number of ready events.
    public let endIndex: Int

    init(base: UnsafePointer<epoll_event>, count: Int) {
        self.base = base
        self.endIndex = count
    }

    /// The event at `position` (0..<count; traps otherwise).
    public subscript(position: Int) -> ReadyEvent {
        precondition(position >= 0 && position < endIndex, "ready event index out of range")
        let event = base[position]
        return ReadyEvent(token: event.data.u64, events: event.events)
    }
}

/// One epoll instance: the single place the daemon's thread sleeps.
///
/// Descriptors are registered with a caller-chosen 64-bit token that comes
/// back with each ready event; the loop neither owns nor closes them (a
/// descriptor that is closed leaves the epoll set by itself, unless it was
/// duplicated). `wait(until:)` sleeps until something is ready or the
/// deadline passes and writes the ready events into an array allocated once
/// at creation: a wait allocates nothing.
public final class EventLoop {
    private var descriptor: FileDescriptor
    private let buffer: UnsafeMutablePointer<epoll_event>
    /// How many events one `wait` can report; more stay pending for the next.
    public let capacity: Int
    private var readyCount = 0

    /// Creates the epoll instance (close-on-exec) and an event array for
    /// `capacity` events (at least 1).
    public init(capacity: Int = 64) throws(SystemError) {
        precondition(capacity >= 1 && capacity <= Int(Int32.max), "event capacity out of range")
        let fd = try SystemError.check("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        descriptor = FileDescriptor(adopting: fd)
        self.capacity = capacity
        buffer = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        buffer.initialize(repeating: epoll_event(), count: capacity)
    }

    deinit {
        buffer.deallocate()
    }

    /// The epoll descriptor (for nesting in another loop; the loop owns it).
    public var fileDescriptor: Int32 { descriptor.rawValue }

    /// Starts watching `fd` for `interest`, reporting `token`. Throws EEXIST
    /// if `fd` is already registered.
    public func register(_ fd: Int32, token: UInt64, interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd, token, interest, "epoll_ctl(ADD)")
    }

    /// Replaces the token and interest of a registered `fd` (ENOENT if it is not registered).
    public func modify(_ fd: Int32, token: UInt64, interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_MOD, fd, token, interest, "epoll_ctl(MOD)")
    }

    /// Stops watching `fd` (ENOENT if it is not registered). Call it before
    /// closing a descriptor that may have been duplicated; otherwise closing
    /// is enough.
    public func unregister(_ fd: Int32) throws(SystemError) {
        var event = epoll_event()
        let epfd = descriptor.rawValue
        _ = try SystemError.check("epoll_ctl(DEL)") { epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event) }
    }

    private func control(
        _ operation: Int32, _ fd: Int32, _ token: UInt64, _ interest: Interest, _ name: StaticString
    ) throws(SystemError) {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.u64 = token
        let epfd = descriptor.rawValue
        _ = try SystemError.check(name) { epoll_ctl(epfd, operation, fd, &event) }
    }

    /// Sleeps until at least one registered descriptor is ready or the
    /// monotonic clock reaches `deadline` (nanoseconds on the
    /// `Clock.monotonicNanoseconds()` scale; nil waits forever, a past
    /// deadline only polls). Returns the number of ready events, which are
    /// then in `readyEvents`; 0 means the deadline has passed — never
    /// earlier: the timeout is rounded up to whole milliseconds and a wake-up
    /// before the deadline with nothing ready goes back to sleep. Signals
    /// (EINTR) are absorbed the same way.
    @discardableResult
    public func wait(until deadline: UInt64?) throws(SystemError) -> Int {
        readyCount = 0
        let epfd = descriptor.rawValue
        let maximum = Int32(capacity)
        while true {
            let now = Clock.monotonicNanoseconds()
            let timeout = EventLoop.timeoutMilliseconds(until: deadline, now: now)
            let count = epoll_wait(epfd, buffer, maximum, timeout)
            if count < 0 {
                if tern_errno() == EINTR { continue }
                throw SystemError.current("epoll_wait")
            }
            if count == 0 {
                guard let deadline, Clock.monotonicNanoseconds() >= deadline else { continue }
            }
            readyCount = Int(count)
            return readyCount
        }
    }

    /// The events of the last `wait`; valid until the next one.
    public var readyEvents: ReadyEvents {
        ReadyEvents(base: UnsafePointer(buffer), count: readyCount)
    }

    /// The epoll timeout for sleeping from `now` until `deadline`, both in
    /// monotonic nanoseconds: -1 (forever) for nil, 0 when the deadline has
    /// passed, otherwise the distance in milliseconds rounded up (so the
    /// sleep never ends before the deadline), capped at `Int32.max`.
    public static func timeoutMilliseconds(until deadline: UInt64?, now: UInt64) -> Int32 {
        guard let deadline else { return -1 }
        guard deadline > now else { return 0 }
        let distance = deadline - now
        let milliseconds = distance / 1_000_000 + (distance % 1_000_000 == 0 ? 0 : 1)
        return milliseconds >= UInt64(Int32.max) ? Int32.max : Int32(milliseconds)
    }
}

/// The shell's two clocks. The protocol cores never read a clock: the loop
/// reads `monotonicNanoseconds()` once per wake-up and passes it down as
/// `now`; deadlines handed to `EventLoop.wait(until:)` are on the same scale.
public enum Clock {
    /// CLOCK_MONOTONIC in nanoseconds: never jumps, never goes back, starts
    /// at an arbitrary point (boot), stops while the machine is suspended.
    /// Use it for every timer and deadline.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        tern_monotonic_ns()
    }

    /// CLOCK_REALTIME as nanoseconds since 1970-01-01 UTC (negative before
    /// 1970). It can jump when the clock is set: use it only for wall-clock
    /// values such as TAI64N handshake timestamps and "latest handshake"
    /// reports, never to measure intervals.
    public static func wallClockNanoseconds() -> Int64 {
        let time = wallClock()
        return time.seconds &* 1_000_000_000 &+ Int64(time.nanoseconds)
    }

    /// CLOCK_REALTIME as whole seconds since 1970-01-01 UTC and the
    /// nanoseconds (0..<1_000_000_000) within that second.
    public static func wallClock() -> (seconds: Int64, nanoseconds: Int32) {
        var seconds: Int64 = 0
        var nanoseconds: Int32 = 0
        tern_realtime(&seconds, &nanoseconds)
        return (seconds, nanoseconds)
    }
}
