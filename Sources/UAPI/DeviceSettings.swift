/// The part of a WireGuard interface's configuration that lives in the
/// shell, not in the `Device`: the UDP socket's port and mark. The shell owns
/// this value, updates it after a `set` (see `SetResult`), and passes it in
/// to render a `get`.
public struct DeviceSettings: Equatable, Sendable {
    /// The UDP port the socket is bound to (the real one, if 0 was asked);
    /// 0 when not bound. `get` omits it when 0.
    public var listenPort: UInt16
    /// The socket's SO_MARK; `get` omits it when 0.
    public var fwmark: UInt32

    /// Settings with the given port and mark.
    public init(listenPort: UInt16 = 0, fwmark: UInt32 = 0) {
        self.listenPort = listenPort
        self.fwmark = fwmark
    }
}
