/// How often a node pings the coordination server over an idle control
/// connection, and how long the server waits before it counts the node
/// gone. A subnet router pings often, so that when it dies or loses its
/// uplink the server hands its routes to a standby within a few seconds;
/// other nodes ping rarely, which keeps a large mesh cheap.
public enum ControlTiming {
    /// A node's ping interval (nanoseconds).
    public static let pingInterval: UInt64 = 20_000_000_000
    /// How long the server keeps a silent node's session (nanoseconds).
    public static let silenceLimit: UInt64 = 75_000_000_000
    /// A subnet router's ping interval (nanoseconds).
    public static let routerPingInterval: UInt64 = 500_000_000
    /// How long the server keeps a silent subnet router's session (nanoseconds).
    public static let routerSilenceLimit: UInt64 = 2_000_000_000

    /// The ping interval of a node advertising `advertisedRouteCount` routes.
    public static func pingInterval(advertisedRouteCount: Int) -> UInt64 {
        advertisedRouteCount > 0 ? routerPingInterval : pingInterval
    }

    /// The server's silence limit for a node advertising `advertisedRouteCount` routes.
    public static func silenceLimit(advertisedRouteCount: Int) -> UInt64 {
        advertisedRouteCount > 0 ? routerSilenceLimit : silenceLimit
    }
}
