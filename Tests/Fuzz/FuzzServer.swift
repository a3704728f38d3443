import ControlProtocol
import ControlServer
import Coordinator
import IP
import TernCrypto
import Time
import WireGuard

/// libFuzzer entry point for tern-control's server core: what a hostile
/// client can make it do over one connection.
///
/// The first byte picks a mode:
/// - even: a new connection sends the rest as raw bytes, in chunks whose
///   sizes come from the input (HTTP parsing, the upgrade, frame headers,
///   handshakes);
/// - odd: a node that logged in for real sends the rest as one sealed
///   message body (message decoding and handling: endpoints, logout,
///   pings, a second login).
///
/// After each input: every effect names a connection that is open, the
/// fresh connection is closed again, and the core holds no more
/// connections than the logged-in one. A trap is a finding.
final class Target {
    final class Journal: RegistryJournal {
        var registry: Registry
        init(_ registry: Registry) { self.registry = registry }
        func record(_ changes: RegistryChanges) throws(JournalFailure) {}
    }

    var core: ServerCore<SystemRandom>
    let serverKey: PrivateKey
    var secret = ""
    var now = ServerTime(monotonic: MonotonicInstant(nanoseconds: 1_000_000_000), wall: WallClockTime(seconds: 1_767_225_600))
    var nextID: ConnectionID = 1
    /// Connections open now (closed ones leave, so the set stays small over millions of inputs).
    var known: Set<ConnectionID> = []
    /// The logged-in node's connection and session.
    var member: ConnectionID?
    var session: ControlSession?
    var timestamp: Int64 = 1_767_225_600

    init() {
        _ = try? Sodium.initialize()
        var random = SystemRandom()
        serverKey = random.privateKey()
        core = ServerCore(journal: Journal(try! Registry.newNetwork(settings: Target.settings).registry), policy: ServerPolicy(),
                          serverKey: serverKey, random: SystemRandom())
    }

    static let settings = NetworkSettings(ipv4Range: try! IPPrefix("100.64.0.0/10"),
                                          ipv6Range: NetworkSettings.uniqueLocalPrefix(globalID: 1), keyLifetime: nil)

    /// A new server with one user and a key, so no input's effects outlive the node they logged out.
    func reset() {
        var random = SystemRandom()
        var registry = try! Registry.newNetwork(settings: Target.settings).registry
        _ = try! registry.createUser(name: "alice", now: now.wall.seconds)
        secret = try! registry.createPreAuthKey(user: "alice", reusable: true, expiresAt: nil, tags: [],
                                                now: now.wall.seconds, random: &random).secret
        core = ServerCore(journal: Journal(registry), policy: ServerPolicy(), serverKey: serverKey, random: SystemRandom())
        known = []
    }

    func open() -> ConnectionID {
        let id = nextID
        nextID += 1
        // Each connection from its own address, so no per-source limit applies across inputs.
        let address = IPv4Address(10, UInt8(truncatingIfNeeded: id >> 16), UInt8(truncatingIfNeeded: id >> 8),
                                  UInt8(truncatingIfNeeded: id))
        precondition(core.open(id, from: .v4(address), now: now), "a lone client was refused")
        known.insert(id)
        return id
    }

    /// Feeds `bytes` on `id`; returns what the core sent back on it.
    @discardableResult
    func feed(_ bytes: [UInt8], on id: ConnectionID) -> [UInt8] {
        bytes.withUnsafeBytes { core.received($0, on: id, now: now) }
        var answer: [UInt8] = []
        for effect in core.takeEffects() {
            switch effect {
            case .send(let to, let sent):
                precondition(known.contains(to) && !sent.isEmpty, "bytes for a connection that is not open")
                if to == id { answer += sent }
            case .finish(let to), .close(let to):
                precondition(known.contains(to), "a close for a connection that is not open")
                if to == member { member = nil }
                known.remove(to)
                core.closed(to, now: now)
            case .log:
                break
            }
        }
        return answer
    }

    /// A real node: upgrade, handshake, login.
    func logIn() {
        let id = open()
        var random = SystemRandom()
        var handshake = ControlClientHandshake(machine: StaticIdentity(privateKey: random.privateKey()),
                                               serverKey: serverKey.publicKey)
        timestamp += 1
        let first = try! handshake.initiation(ephemeral: random.privateKey(),
                                              timestamp: TAI64N(unixSeconds: timestamp, nanoseconds: 0),
                                              now: now.monotonic.nanoseconds)
        let upgrade = "POST /control/v1 HTTP/1.1\r\nHost: c\r\nConnection: Upgrade\r\nUpgrade: tern-control/1\r\nContent-Length: 0\r\n\r\n"
        var answer = feed(Array(upgrade.utf8) + first, on: id)
        let head = Array("\r\n\r\n".utf8)
        var end = 0
        while end + 4 <= answer.count && Array(answer[end..<end + 4]) != head { end += 1 }
        answer.removeFirst(end + 4)
        var frames = ControlFrameDecoder()
        frames.append(answer)
        var opened = try! handshake.finish(response: try! frames.next()!)
        member = id
        let login = NodeMessage.login(LoginRequest(nodeKey: random.privateKey().publicKey, hostname: "fuzz",
                                                   credential: .preAuthKey(secret), endpoints: [], mapVersion: 0))
        feed(try! opened.seal(login), on: id)
        session = opened
        precondition(member != nil, "the real node was not let in")
    }

    func run(_ data: UnsafeRawBufferPointer) {
        guard let mode = data.first else { return }
        let input = Array(data[1...])
        now.monotonic += .milliseconds(1)
        if mode & 1 == 0 {
            let id = open()
            var offset = 0
            var chunk = Int(mode >> 1) + 1
            while offset < input.count && known.contains(id) && core.wantsInput(id) {
                let end = min(input.count, offset + chunk)
                feed(Array(input[offset..<end]), on: id)
                offset = end
                chunk = chunk * 2 + 1
            }
            known.remove(id)
            core.closed(id, now: now)
            _ = core.takeEffects()
        } else {
            if member == nil {
                reset()
                logIn()
            }
            guard let id = member, var opened = session else { return }
            // The input as the plaintext of a message the node seals (a complete frame).
            guard let sealed = try? opened.seal(input) else { return }
            session = opened
            feed(sealed, on: id)
        }
        precondition(core.connectionCount <= 1, "a connection outlived its input")
    }
}

nonisolated(unsafe) var target: Target?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServer(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if target == nil { target = Target() }
    target!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
