/// Tern's three clocks, as three types, so a deadline on one can never be
/// compared with a reading of another by accident:
///
/// - `MonotonicInstant`: CLOCK_MONOTONIC. Every timer and deadline of the
///   shells and the engines (reconnect backoff, silence limits, debounce).
/// - `ProtocolInstant`: the WireGuard core's clock. It is the monotonic
///   clock, except in tests that run it faster (`TERN_TEST_TIME_SCALE`).
/// - `WallClockTime`: CLOCK_REALTIME, seconds since 1970. It jumps when the
///   clock is set: only for values people read or that name a calendar
///   moment (key expiry, "last seen", TAI64N timestamps), never intervals.
///
/// The cores take these as parameters; only the Linux shell reads clocks.

/// A reading of the monotonic clock (nanoseconds since an arbitrary origin).
public struct MonotonicInstant: Comparable, Hashable, Sendable {
    /// Nanoseconds since the clock's origin (boot).
    public var nanoseconds: UInt64

    /// The instant `nanoseconds` after the origin.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The clock's origin; a convenient start for manual clocks in tests.
    public static let origin = MonotonicInstant(nanoseconds: 0)

    /// The instant `interval` later (saturating).
    public static func + (instant: MonotonicInstant, interval: Interval) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: instant.nanoseconds.saturatingAdd(interval.nanoseconds))
    }
    /// The instant `interval` earlier, or the origin.
    public static func - (instant: MonotonicInstant, interval: Interval) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: instant.nanoseconds > interval.nanoseconds ? instant.nanoseconds - interval.nanoseconds : 0)
    }
    /// How long after `earlier` this is (zero if it is not after it).
    public static func - (later: MonotonicInstant, earlier: MonotonicInstant) -> Interval {
        Interval(nanoseconds: later.nanoseconds > earlier.nanoseconds ? later.nanoseconds - earlier.nanoseconds : 0)
    }
    /// Moves the instant `interval` later.
    public static func += (instant: inout MonotonicInstant, interval: Interval) { instant = instant + interval }
    /// Orders by time.
    public static func < (a: MonotonicInstant, b: MonotonicInstant) -> Bool { a.nanoseconds < b.nanoseconds }
}

/// A reading of the WireGuard core's clock (nanoseconds; see the file's note).
public struct ProtocolInstant: Comparable, Hashable, Sendable {
    /// Nanoseconds on the protocol clock.
    public var nanoseconds: UInt64

    /// The instant `nanoseconds` on the protocol clock.
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The instant `interval` later (saturating).
    public static func + (instant: ProtocolInstant, interval: Interval) -> ProtocolInstant {
        ProtocolInstant(nanoseconds: instant.nanoseconds.saturatingAdd(interval.nanoseconds))
    }
    /// How long after `earlier` this is (zero if it is not after it).
    public static func - (later: ProtocolInstant, earlier: ProtocolInstant) -> Interval {
        Interval(nanoseconds: later.nanoseconds > earlier.nanoseconds ? later.nanoseconds - earlier.nanoseconds : 0)
    }
    /// Orders by time.
    public static func < (a: ProtocolInstant, b: ProtocolInstant) -> Bool { a.nanoseconds < b.nanoseconds }
}

/// A wall-clock time: seconds since 1970-01-01 UTC (negative before).
public struct WallClockTime: Comparable, Hashable, Sendable {
    /// Whole seconds since the Unix epoch.
    public var seconds: Int64

    /// The time `seconds` after the Unix epoch.
    public init(seconds: Int64) { self.seconds = seconds }

    /// The time `count` seconds later, saturating (values may come from outside).
    public func adding(seconds count: Int64) -> WallClockTime {
        let (sum, overflow) = seconds.addingReportingOverflow(count)
        return WallClockTime(seconds: overflow ? (count > 0 ? .max : .min) : sum)
    }
    /// Orders by time.
    public static func < (a: WallClockTime, b: WallClockTime) -> Bool { a.seconds < b.seconds }
}
