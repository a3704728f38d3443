/// A length of time in nanoseconds, never negative.
///
/// Every timer, timeout and backoff in Tern is an `Interval` constant with a
/// name, so a reader sees `ControlTiming.routerSilenceLimit`, not
/// `2_000_000_000`. Arithmetic saturates: an interval computed from values
/// that came from outside (a configuration file, a peer) can never trap.
public struct Interval: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// The length in nanoseconds.
    public var nanoseconds: UInt64

    /// An interval of `nanoseconds`.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// No time at all.
    public static let zero = Interval(nanoseconds: 0)

    /// `count` nanoseconds.
    public static func nanoseconds(_ count: UInt64) -> Interval { Interval(nanoseconds: count) }
    /// `count` microseconds (saturating).
    public static func microseconds(_ count: UInt64) -> Interval { Interval(nanoseconds: count.saturatingMultiply(1_000)) }
    /// `count` milliseconds (saturating).
    public static func milliseconds(_ count: UInt64) -> Interval { Interval(nanoseconds: count.saturatingMultiply(1_000_000)) }
    /// `count` seconds (saturating).
    public static func seconds(_ count: UInt64) -> Interval { Interval(nanoseconds: count.saturatingMultiply(1_000_000_000)) }
    /// `count` minutes (saturating).
    public static func minutes(_ count: UInt64) -> Interval { seconds(count.saturatingMultiply(60)) }

    /// Whole milliseconds, rounded down.
    public var milliseconds: UInt64 { nanoseconds / 1_000_000 }
    /// Whole seconds, rounded down.
    public var seconds: UInt64 { nanoseconds / 1_000_000_000 }

    /// The sum, saturating at the largest interval.
    public static func + (a: Interval, b: Interval) -> Interval {
        Interval(nanoseconds: a.nanoseconds.saturatingAdd(b.nanoseconds))
    }
    /// The difference, or zero when `b` is longer.
    public static func - (a: Interval, b: Interval) -> Interval {
        Interval(nanoseconds: a.nanoseconds > b.nanoseconds ? a.nanoseconds - b.nanoseconds : 0)
    }
    /// `a` repeated `factor` times, saturating.
    public static func * (a: Interval, factor: UInt64) -> Interval {
        Interval(nanoseconds: a.nanoseconds.saturatingMultiply(factor))
    }
    /// `a` divided into `divisor` parts (rounded down); `divisor` must not be zero.
    public static func / (a: Interval, divisor: UInt64) -> Interval {
        Interval(nanoseconds: a.nanoseconds / divisor)
    }
    /// Orders by length.
    public static func < (a: Interval, b: Interval) -> Bool { a.nanoseconds < b.nanoseconds }

    /// For logs: "250ms", "2s", "1.5s".
    public var description: String {
        if nanoseconds % 1_000_000_000 == 0 { return String(seconds) + "s" }
        if nanoseconds >= 1_000_000_000 {
            let tenths = (nanoseconds % 1_000_000_000) / 100_000_000
            return String(seconds) + "." + String(tenths) + "s"
        }
        if nanoseconds % 1_000_000 == 0 { return String(milliseconds) + "ms" }
        return String(nanoseconds) + "ns"
    }
}

extension UInt64 {
    /// `self + other`, or `UInt64.max` on overflow.
    @inlinable public func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
    /// `self * other`, or `UInt64.max` on overflow.
    @inlinable public func saturatingMultiply(_ other: UInt64) -> UInt64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : product
    }
}
