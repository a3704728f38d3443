import CTern
import IP
import Linux
import Mesh

/// The socket under the mesh engine's control link: looks the server's
/// name up without blocking the loop, connects over TCP, and carries
/// bytes both ways. What the bytes mean, and every timer and retry, is
/// `MeshEngine`'s; this shell only reports what happened on the socket.
final class ControlLink {
    /// What happened on the socket, for the engine.
    enum Event: Equatable {
        /// The TCP connection is up.
        case connected
        /// Bytes arrived.
        case received([UInt8])
        /// The server closed the connection.
        case closed
        /// The lookup, the connection or a write failed.
        case failed(String)
    }

    /// How often a name lookup under way is asked for its answer (glibc signals nothing).
    static let lookupPollInterval: UInt64 = 20_000_000
    /// TCP keepalive, so a dead path is noticed even when nothing is written.
    static let keepalive = TCPKeepalive(idleSeconds: 15, intervalSeconds: 5, probeCount: 3)

    private let loop: EventLoop
    private let token: UInt64
    private var tcp: TCPConnection?
    /// The server being looked up or connected to.
    private var url: ControlURL?
    /// The server's name being looked up, before a connection exists.
    private var lookup: NameLookup?
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    init(loop: EventLoop, token: UInt64) {
        self.loop = loop
        self.token = token
    }

    deinit { scratch.deallocate() }

    /// True while a name lookup is under way: `poll` wants calling soon.
    var isLookingUp: Bool { lookup != nil }

    /// Starts connecting to `url`, replacing what was there; a name is
    /// looked up first (`poll` carries on). A failure at once is returned.
    func open(_ url: ControlURL) -> Event? {
        close()
        self.url = url
        guard let address = url.address else {
            lookup = NameLookup(host: url.host)
            return poll()
        }
        return connect(to: address)
    }

    /// Carries a lookup under way on: connects once it is answered.
    func poll() -> Event? {
        guard let lookup, let url else { return nil }
        switch lookup.poll() {
        case .pending:
            return nil
        case .failed(let reason):
            self.lookup = nil
            return .failed("cannot resolve " + url.host + ": " + reason)
        case .resolved(let addresses):
            self.lookup = nil
            return connect(to: addresses[0])
        }
    }

    private func connect(to address: IPAddress) -> Event? {
        guard let url else { return nil }
        do {
            let socket = try TCPConnection.connect(to: Endpoint(address, port: url.port), keepalive: Self.keepalive)
            try loop.register(socket.fileDescriptor, token: token, interest: socket.interest)
            tcp = socket
            return nil
        } catch {
            return .failed("cannot connect to " + url.description + ": " + error.description)
        }
    }

    /// Handles readiness of the socket.
    func handle(_ readyEvent: ReadyEvent) -> [Event] {
        guard let tcp else { return [] }
        var events: [Event] = []
        do {
            if tcp.isConnecting {
                guard try tcp.finishConnect() else { return [] }
                events.append(.connected)
            }
            if readyEvent.isWritable { _ = try tcp.flush() }
            // One read of at most 64 KiB per turn: whatever the other end
            // streams (before the channel is authenticated, anyone on the
            // path can), the loop gets back to the WireGuard sockets; the
            // rest is read next turn (the descriptor stays readable).
            if readyEvent.isReadable || readyEvent.isError {
                if let count = try tcp.read(into: scratch) {
                    guard count > 0 else {
                        close()
                        return events + [.closed]
                    }
                    events.append(.received(Array(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))))
                }
            }
            try? loop.modify(tcp.fileDescriptor, token: token, interest: tcp.interest)
        } catch {
            close()
            events.append(.failed(error.description))
        }
        return events
    }

    /// Queues `bytes` for the server; a failure is returned.
    func write(_ bytes: [UInt8]) -> Event? {
        guard let tcp else { return .failed("not connected") }
        do {
            guard try tcp.write(bytes) else { return .failed("the connection to the server is backed up") }
        } catch {
            return .failed(error.description)
        }
        try? loop.modify(tcp.fileDescriptor, token: token, interest: tcp.interest)
        return nil
    }

    /// Closes the connection and drops a lookup under way.
    func close() {
        if let tcp {
            try? loop.unregister(tcp.fileDescriptor)
            tcp.close()
        }
        tcp = nil
        lookup = nil
    }
}
