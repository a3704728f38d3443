import CTern
import ControlProtocol
import IP
import Linux
import Mesh
import TernCrypto
import WireGuard

/// The node's connection to its coordination server: a nonblocking TCP
/// connection carrying a `ControlConnection`, reconnected with exponential
/// backoff after failures, with application-level pings so a dead server
/// is noticed even when TCP is not told. The timing rules are
/// `ControlLinkSchedule`'s; this shell carries them out on the socket.
final class ControlLink {
    /// What happened on the link, for the daemon.
    enum Event {
        case pinServerKey(PublicKey)
        case established
        case message(ServerMessage)
        case lost(String)
    }

    /// How often a name lookup under way is asked for its answer.
    static let lookupPollInterval: UInt64 = 20_000_000

    /// When to connect, ping, give up and retry.
    var schedule = ControlLinkSchedule()
    private var random = SystemRandom()

    private let loop: EventLoop
    private let token: UInt64
    private var tcp: TCPConnection?
    /// The server's name being looked up, before a connection exists.
    private var lookup: NameLookup?
    private var connection: ControlConnection?
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    init(loop: EventLoop, token: UInt64) {
        self.loop = loop
        self.token = token
    }

    deinit { scratch.deallocate() }

    /// True while a TCP connection exists (connecting or up).
    var isActive: Bool { tcp != nil }
    /// True once the secure channel is up.
    var isEstablished: Bool { connection?.phase == .established }

    /// Starts connecting to `url` unless active or backing off. A name is
    /// looked up first without waiting: call again on later turns (`tick`
    /// asks for them) until the answer is in.
    func connect(to url: ControlURL, machine: StaticIdentity, serverKey: PublicKey?, now: UInt64) -> String? {
        guard tcp == nil, schedule.mayConnect(now: now) else { return nil }
        let address: IPAddress
        if let literal = url.address {
            address = literal
        } else {
            if lookup?.host != url.host { lookup = NameLookup(host: url.host) }
            switch lookup!.poll() {
            case .pending:
                return nil
            case .failed(let reason):
                lookup = nil
                scheduleRetry(now)
                return "cannot resolve " + url.host + ": " + reason
            case .resolved(let addresses):
                lookup = nil
                address = addresses[0]
            }
        }
        let wall = Clock.wallClock()
        let stamp = TAI64N(unixSeconds: wall.seconds, nanoseconds: UInt32(wall.nanoseconds))
        connection = ControlConnection(url: url, machine: machine, serverKey: serverKey,
                                       ephemeral: random.privateKey(), timestamp: stamp)
        do {
            let socket = try TCPConnection.connect(to: Endpoint(address, port: url.port),
                                                   keepalive: TCPKeepalive(idleSeconds: 15, intervalSeconds: 5, probeCount: 3))
            try loop.register(socket.fileDescriptor, token: token, interest: socket.interest)
            tcp = socket
        } catch {
            connection = nil
            scheduleRetry(now)
            return "cannot connect to " + url.description + ": " + error.description
        }
        schedule.connecting(now: now)
        return nil
    }

    /// Reconnect at once on the next `connect` (after `tern up`).
    func resetBackoff() { schedule.reset() }

    /// Handles readiness of the socket.
    func handle(_ readyEvent: ReadyEvent, now: UInt64, events: inout [Event]) {
        guard let tcp, var connection = self.connection else { return }
        do throws(ControlClientError) {
            if tcp.isConnecting {
                let connected: Bool
                do { connected = try tcp.finishConnect() } catch { throw ControlClientError(error.description) }
                guard connected else { return }
                try write(try connection.start(now: now), &connection, &events)
            }
            if readyEvent.isWritable {
                do { _ = try tcp.flush() } catch { throw ControlClientError(error.description) }
            }
            // One read of at most 64 KiB per turn: whatever the other end
            // streams (before the channel is authenticated, anyone on the
            // path can), the loop gets back to the WireGuard sockets; the
            // rest is read next turn (the descriptor stays readable).
            if readyEvent.isReadable || readyEvent.isError {
                let count: Int?
                do { count = try tcp.read(into: scratch) } catch {
                    throw ControlClientError(error.description)
                }
                if count == 0 { throw connection.closedByServer() }
                if let count {
                    schedule.heard(now: now)
                    try write(try connection.receive(Array(UnsafeRawBufferPointer(rebasing: scratch[0..<count])), now: now),
                              &connection, &events)
                }
            }
            self.connection = connection
            try? loop.modify(tcp.fileDescriptor, token: token, interest: tcp.interest)
        } catch {
            self.connection = connection
            fail(error.description, now: now, events: &events)
        }
    }

    /// Sends `message` if the channel is up; false otherwise.
    @discardableResult
    func send(_ message: NodeMessage) -> Bool {
        guard let tcp, var connection, connection.phase == .established else { return false }
        guard let bytes = try? connection.send(message) else { return false }
        self.connection = connection
        guard (try? tcp.write(bytes)) == true else { return false }
        try? loop.modify(tcp.fileDescriptor, token: token, interest: tcp.interest)
        return true
    }

    /// Timeouts and pings; returns the next time it needs a call.
    func tick(now: UInt64, events: inout [Event]) -> UInt64? {
        // A lookup under way is asked again soon (glibc signals nothing).
        if tcp == nil, lookup != nil { return now + ControlLink.lookupPollInterval }
        guard tcp != nil else { return schedule.retryAt }
        switch schedule.tick(now: now, established: isEstablished) {
        case .connectTimedOut:
            fail("timed out connecting to the coordination server", now: now, events: &events)
            return schedule.retryAt
        case .serverSilent:
            fail("the coordination server stopped answering", now: now, events: &events)
            return schedule.retryAt
        case .ping(let number):
            send(.ping(number))
        case .wait:
            break
        }
        return schedule.nextDeadline(established: isEstablished)
    }

    /// Closes the connection; with `retry`, schedules the next attempt.
    func close(now: UInt64, retry: Bool) {
        if let tcp {
            try? loop.unregister(tcp.fileDescriptor)
            tcp.close()
        }
        tcp = nil
        connection?.close()
        connection = nil
        if retry { scheduleRetry(now) } else { schedule.stopped() }
    }

    /// A successful session resets the backoff.
    func succeeded() { schedule.succeeded() }

    private func fail(_ reason: String, now: UInt64, events: inout [Event]) {
        close(now: now, retry: true)
        events.append(.lost(reason))
    }

    private func scheduleRetry(_ now: UInt64) { schedule.failed(now: now, random: &random) }

    private func write(_ outputs: [ControlConnection.Output], _ connection: inout ControlConnection,
                       _ events: inout [Event]) throws(ControlClientError) {
        guard let tcp else { return }
        for output in outputs {
            switch output {
            case .write(let bytes):
                let queued: Bool
                do { queued = try tcp.write(bytes) } catch { throw ControlClientError(error.description) }
                if !queued { throw ControlClientError("the connection to the server is backed up") }
            case .pinServerKey(let key): events.append(.pinServerKey(key))
            case .established: events.append(.established)
            case .message(let message): events.append(.message(message))
            }
        }
    }
}
