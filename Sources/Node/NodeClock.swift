import Linux

/// The protocol core's clock: monotonic nanoseconds, optionally running
/// `scale` times faster than real time. Only tests speed it up (to see a
/// 120-second rekey in two seconds); peers keep their own real clocks.
public struct NodeClock: Sendable {
    /// How many times faster than real time the clock runs.
    public let scale: UInt64
    private let origin: UInt64

    /// A clock starting now.
    public init(scale: UInt64 = 1) {
        self.scale = max(1, scale)
        origin = Clock.monotonicNanoseconds()
    }

    /// Core time now.
    public func now() -> UInt64 {
        origin &+ (Clock.monotonicNanoseconds() &- origin) &* scale
    }

    /// The real monotonic instant at which core time reaches `deadline`,
    /// rounded up so a timer never fires early.
    public func realDeadline(for deadline: UInt64) -> UInt64 {
        guard deadline > origin else { return origin }
        return origin &+ (deadline - origin + scale - 1) / scale
    }

    /// Unix wall time (ns) matching core time `now`, for TAI64N timestamps
    /// and `wg show`.
    public func wallClock(at now: UInt64) -> UInt64 {
        let wall = UInt64(max(0, Clock.wallClockNanoseconds()))
        return wall &+ (now &- self.now())
    }
}
