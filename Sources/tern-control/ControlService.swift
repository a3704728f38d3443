import CTern
import ControlProtocol
import ControlServer
import Coordinator
import CoordinatorStore
import IP
import Linux
import LocalAPI
import Logging
import TernCrypto
import Time

/// `tern-control serve`: one thread, one epoll loop around the server core
/// (`ControlServer.ServerCore`). Nodes connect over TCP (HTTP, upgraded to
/// the Noise-secured control channel); admins talk to the local API on a
/// Unix socket. This shell only moves bytes between the sockets and the
/// core, and carries out what the core says.
final class ControlService {
    let store: RegistryStore
    let core: ServerCore<SystemRandom>
    let stateDirectory: String
    let loop: EventLoop
    let listener: TCPListener
    var admin: LocalAPIServer!
    let signals: SignalSource
    var sockets: [ConnectionID: TCPConnection] = [:]
    var nextToken = Token.firstConnection
    var running = true
    /// Set when the listener is not watched after an accept error, until then.
    var acceptPausedUntil: MonotonicInstant?
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
    let startedAt: Int64

    enum Token {
        static let listener: UInt64 = 1
        static let signals: UInt64 = 2
        static let admin: UInt64 = 1 << 40
        static let adminEnd: UInt64 = (1 << 40) + 1024
        static let firstConnection: UInt64 = 1000
    }

    /// What one connection may be read in one turn of the loop, so one busy
    /// client cannot keep the one thread from the others.
    static let readBudget = 64 * 1024
    /// A client whose answers pile up unread past this is not read from
    /// until it catches up.
    static let outputBacklogLimit = 256 * 1024
    /// What may wait unsent on one connection: the largest frame (a full
    /// map of a big mesh), its header, and 1 MiB of deltas behind it. The
    /// queue grows only while bytes wait, so idle connections cost nothing.
    static let outputCapacity = ControlFraming.headerLength + ControlFraming.maxFrameLength + 1024 * 1024
    /// Connections taken from the listener per turn of the loop.
    static let acceptBudget = 64
    /// How long the listener rests after an accept error (EMFILE and the like).
    static let acceptPause = Interval.seconds(1)

    init(store: RegistryStore, stateDirectory: String, serverKey: PrivateKey, listen: Endpoint,
         adminSocket: String, limits: ConnectionLimits = .standard) throws(ServiceError) {
        self.store = store
        self.stateDirectory = stateDirectory
        core = ServerCore(journal: store, policy: try PolicyFile.load(directory: stateDirectory), serverKey: serverKey,
                          random: SystemRandom(), limits: limits)
        startedAt = Clock.wallClock().seconds
        do {
            loop = try EventLoop(capacity: 256)
            signals = try SignalSource()
            listener = try TCPListener(endpoint: listen, backlog: 4096)
            try loop.register(listener.fileDescriptor, token: Token.listener, interest: .readable)
            try loop.register(signals.fileDescriptor, token: Token.signals, interest: .readable)
        } catch {
            throw ServiceError("cannot listen on " + listen.description + ": " + error.description)
        }
        do { admin = try LocalAPIServer(path: adminSocket, loop: loop, tokens: Token.admin..<Token.adminEnd) } catch {
            listener.close()
            throw ServiceError("cannot listen on " + adminSocket + ": " + error.description)
        }
    }

    deinit { scratch.deallocate() }

    /// The time, for the core.
    static func now() -> ServerTime {
        ServerTime(monotonic: MonotonicInstant(nanoseconds: Clock.monotonicNanoseconds()), wall: WallClockTime(seconds: Clock.wallClock().seconds))
    }

    /// Serves until SIGTERM/SIGINT, or until the state cannot be written
    /// (then it throws, so the process exits non-zero and
    /// `Restart=on-failure` brings it back).
    func run() throws(ServiceError) {
        while running {
            let now = ControlService.now()
            core.tick(now: now) { self.sockets[$0]?.hasPendingInput ?? false }
            perform()
            if let until = acceptPausedUntil, now.monotonic >= until,
               (try? loop.modify(listener.fileDescriptor, token: Token.listener, interest: .readable)) != nil {
                acceptPausedUntil = nil
            }
            guard running else { break }
            var wakeUp = core.nextDeadline
            if let until = acceptPausedUntil { wakeUp = min(wakeUp, until) }
            do { _ = try loop.wait(until: wakeUp.nanoseconds) } catch { throw ServiceError(error.description) }
            let eventNow = ControlService.now()
            for event in loop.readyEvents {
                switch event.token {
                case Token.listener: acceptAll(now: eventNow)
                case Token.signals: handleSignals()
                case Token.admin..<Token.adminEnd:
                    admin.handle(event) { request in self.answerAdmin(request) }
                default: serve(event, now: eventNow)
                }
                perform()
            }
        }
        for id in Array(sockets.keys) { closeSocket(id) }
        admin.shutdown()
        listener.close()
        do { try store.close() } catch { ControlService.log("closing the state: " + error.description) }
        if let failure = core.failure { throw ServiceError("cannot write the state: " + failure.description) }
    }

    // MARK: Sockets

    /// Takes what waits on the listener, a bounded number per turn. Every
    /// connection is accepted, so the queue drains and the loop never spins
    /// on a listener it cannot serve; one that may not stay is closed at once.
    private func acceptAll(now: ServerTime) {
        for _ in 0..<ControlService.acceptBudget {
            let accepted: TCPConnection?
            do {
                accepted = try listener.accept(outputCapacity: ControlService.outputCapacity,
                                               keepalive: TCPKeepalive(idleSeconds: 30, intervalSeconds: 10, probeCount: 3))
            } catch {
                // The listener stays readable: stop watching it for a while rather than spin on it.
                ControlService.log("accept: " + error.description + "; pausing new connections for a second")
                try? loop.modify(listener.fileDescriptor, token: Token.listener, interest: [])
                acceptPausedUntil = now.monotonic + ControlService.acceptPause
                return
            }
            guard let tcp = accepted else { return }
            let id = nextToken
            nextToken += 1
            let admitted = core.open(id, from: tcp.peer.address, now: now)
            perform()           // closes a stranger it displaced now, so descriptors stay within the budget
            guard admitted else {
                tcp.close()
                continue
            }
            do { try loop.register(tcp.fileDescriptor, token: id, interest: .readable) } catch {
                tcp.close()
                core.closed(id, now: now)
                continue
            }
            sockets[id] = tcp
        }
    }

    private func serve(_ event: ReadyEvent, now: ServerTime) {
        guard let tcp = sockets[event.token] else { return }
        if event.isWritable {
            do { _ = try tcp.flush() } catch { return lost(event.token, now: now) }
        }
        // One read of at most `readBudget` per turn: what is left waits for
        // the next turn (the descriptor stays readable), after the others.
        if (event.isReadable || event.isError) && core.wantsInput(event.token) && !isBackedUp(tcp) {
            let count: Int?
            do {
                count = try tcp.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<ControlService.readBudget]))
            } catch { return lost(event.token, now: now) }
            if count == 0 { return lost(event.token, now: now) }
            if let count {
                core.received(UnsafeRawBufferPointer(rebasing: scratch[0..<count]), on: event.token, now: now)
            }
        }
        perform()
        settle(event.token)
    }

    /// Carries out what the core asked for, in order, until it asks nothing more.
    func perform() {
        while true {
            let effects = core.takeEffects()
            if effects.isEmpty { break }
            var touched: [ConnectionID] = []
            for effect in effects {
                switch effect {
                case .send(let id, let bytes):
                    guard let tcp = sockets[id] else { continue }
                    // A client too far behind to catch up with deltas reconnects for a full map.
                    guard (try? tcp.write(bytes)) == true else {
                        lost(id, now: ControlService.now())
                        continue
                    }
                    touched.append(id)
                case .finish(let id):
                    touched.append(id)
                case .close(let id):
                    closeSocket(id)
                case .log(let line):
                    ControlService.log(line.text)
                }
            }
            for id in touched { settle(id) }
        }
        if core.failure != nil { running = false }
    }

    /// After input or output on `id`: closes it once it is finishing and
    /// written out, else watches what it needs.
    private func settle(_ id: ConnectionID) {
        guard let tcp = sockets[id] else { return }
        if !core.wantsInput(id) && !tcp.hasPendingOutput { return lost(id, now: ControlService.now()) }
        try? loop.modify(tcp.fileDescriptor, token: id, interest: isBackedUp(tcp) ? .writable : tcp.interest)
    }

    /// Closes `id` and tells the core.
    private func lost(_ id: ConnectionID, now: ServerTime) {
        closeSocket(id)
        core.closed(id, now: now)
    }

    private func closeSocket(_ id: ConnectionID) {
        guard let tcp = sockets.removeValue(forKey: id) else { return }
        try? loop.unregister(tcp.fileDescriptor)
        tcp.close()
    }

    /// True while the peer leaves too many answers unread: it is not read
    /// from until it catches up.
    private func isBackedUp(_ tcp: TCPConnection) -> Bool { tcp.pendingOutputCount > ControlService.outputBacklogLimit }

    private func handleSignals() {
        while let signal = try? signals.next() {
            if signal == SIGTERM || signal == SIGINT {
                ControlService.log("signal " + String(signal) + ": stopping")
                running = false
            }
        }
    }

    static func log(_ line: String) {
        var text = "tern-control: " + line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// Why the service cannot run.
struct ServiceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
