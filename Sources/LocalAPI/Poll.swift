import CTern

/// Blocking waits for one descriptor, for clients that have no event loop.
enum Poll {
    /// What `wait` found.
    enum Outcome {
        /// The descriptor is ready (or has an error or hang-up to report).
        case ready
        /// The deadline passed first.
        case timedOut
        /// `poll` itself failed with this errno.
        case failed(Int32)
    }

    /// Sleeps until `fd` is ready for `events` (`POLLIN`, `POLLOUT`) or the
    /// monotonic clock reaches `deadline` (nanoseconds, `tern_monotonic_ns`
    /// scale). Interrupted waits resume with the time left.
    static func wait(_ fd: Int32, events: Int32, deadline: UInt64) -> Outcome {
        while true {
            let now = tern_monotonic_ns()
            guard now < deadline else { return .timedOut }
            let left = deadline - now
            // Round up so a wake-up never comes before the deadline.
            let milliseconds = min(left / 1_000_000 + (left % 1_000_000 == 0 ? 0 : 1), UInt64(Int32.max))
            var descriptor = pollfd(fd: fd, events: Int16(truncatingIfNeeded: events), revents: 0)
            let result = poll(&descriptor, 1, Int32(milliseconds))
            if result > 0 { return .ready }
            if result < 0 {
                let code = tern_errno()
                if code == EINTR { continue }
                return .failed(code)
            }
        }
    }
}
