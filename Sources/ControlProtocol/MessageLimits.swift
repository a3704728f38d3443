import IP

/// How much a node may put in one message to the coordination server.
///
/// The server checks these while it decodes, before anything is stored, so
/// no node can make a journal record, a map or the memory it costs grow
/// without bound. A node trims what it sends to fit (it keeps the first
/// endpoints it found and refuses to advertise more routes than this).
public enum MessageLimits {
    /// Endpoints a node may report: far more than the interface, reflexive
    /// and port-mapped addresses of any real host.
    public static let maximumEndpoints = 64
    /// Subnet routes a node may advertise (the registry's own rule).
    public static let maximumAdvertisedRoutes = SubnetRoute.maximumCount
    /// Bytes of a pre-auth key as sent (the keys the server makes are 54).
    public static let maximumPreAuthKeyBytes = 256
    /// Bytes of a host name.
    public static let maximumHostnameBytes = 255
}
