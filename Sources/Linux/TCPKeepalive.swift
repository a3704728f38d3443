/// How a TCP connection notices a dead peer (a node that lost power, a NAT
/// that forgot the mapping): after `idleSeconds` of silence the kernel sends
/// a probe every `intervalSeconds` and gives up after `probeCount`
/// unanswered ones, failing the connection with ETIMEDOUT. The defaults
/// (30 s, 10 s, 3) notice within a minute instead of Linux's two hours.
///
/// Keepalive probes only run while nothing is unacknowledged, so the
/// connection also gets a user timeout (TCP_USER_TIMEOUT) of
/// `userTimeoutSeconds`: data that stays unacknowledged — or a send window
/// that stays closed because the peer stopped reading — for that long fails
/// the connection too, instead of after Linux's ~15 minutes of
/// retransmissions. 0 leaves the kernel's behaviour.
public struct TCPKeepalive: Equatable, Sendable {
    /// Seconds without traffic before the first probe (TCP_KEEPIDLE, 1...32767).
    public var idleSeconds: Int32
    /// Seconds between probes (TCP_KEEPINTVL, 1...32767).
    public var intervalSeconds: Int32
    /// Unanswered probes before the connection fails (TCP_KEEPCNT, 1...127).
    public var probeCount: Int32
    /// Seconds sent data may stay unacknowledged (TCP_USER_TIMEOUT); 0: the kernel's default.
    public var userTimeoutSeconds: Int32

    /// Probes after `idleSeconds`, every `intervalSeconds`, `probeCount`
    /// times; the user timeout defaults to the same total
    /// (`idleSeconds + intervalSeconds * probeCount`). Out-of-range values
    /// make the socket option fail with EINVAL when applied.
    public init(idleSeconds: Int32 = 30, intervalSeconds: Int32 = 10, probeCount: Int32 = 3,
                userTimeoutSeconds: Int32? = nil) {
        self.idleSeconds = idleSeconds
        self.intervalSeconds = intervalSeconds
        self.probeCount = probeCount
        self.userTimeoutSeconds = userTimeoutSeconds
            ?? Int32(clamping: Int64(idleSeconds) + Int64(intervalSeconds) * Int64(probeCount))
    }
}
