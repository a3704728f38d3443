import Logging
import Time

/// A client connection, named by the shell (its event-loop token).
public typealias ConnectionID = UInt64

/// The time as the server core sees it: monotonic for deadlines and
/// liveness, the wall clock for what the registry stores (expiry, last seen).
public struct ServerTime: Sendable {
    /// Monotonic time.
    public var monotonic: MonotonicInstant
    /// Wall-clock seconds since 1970.
    public var wall: WallClockTime

    /// The time `monotonic` / `wall`.
    public init(monotonic: MonotonicInstant, wall: WallClockTime) {
        self.monotonic = monotonic
        self.wall = wall
    }
}

/// What the server core asks its shell to do, in order.
public enum ServerEffect: Equatable, Sendable {
    /// Queue `bytes` on the connection. If the connection cannot take them
    /// (too far behind), close it and report `closed`.
    case send(ConnectionID, [UInt8])
    /// Read no more; close once the queued bytes are written, then report `closed`.
    case finish(ConnectionID)
    /// Close at once; the core has already forgotten the connection.
    case close(ConnectionID)
    /// A line for the log.
    case log(LogLine)
}
