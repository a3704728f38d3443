import IP
import TernCrypto
import TestSupport
@testable import ControlProtocol
@testable import WireGuard

/// A deterministic random source so every handshake test replays exactly.
struct SeededRandom: RandomSource {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) { generator.fill(buffer) }
}

/// A TAI64N `seconds` after 2023-11-14.
func stamp(_ seconds: Int64, nanoseconds: UInt32 = 0) -> TAI64N {
    TAI64N(unixSeconds: 1_700_000_000 + seconds, nanoseconds: nanoseconds)
}

/// A node, a server and a replay guard, with helpers for a full handshake.
struct Pair {
    var random: SeededRandom
    let machine: StaticIdentity
    let server: StaticIdentity
    let responder: ControlResponder
    var replayGuard = ControlReplayGuard(capacity: 16)

    init(seed: UInt64 = 1) {
        random = SeededRandom(seed: seed)
        machine = StaticIdentity(privateKey: random.privateKey())
        server = StaticIdentity(privateKey: random.privateKey())
        responder = ControlResponder(identity: server)
    }

    /// A client aimed at the right server.
    func client() -> ControlClientHandshake { ControlClientHandshake(machine: machine, serverKey: server.publicKey) }

    /// The initiation's frame body (the framing is checked separately).
    mutating func initiation(_ client: inout ControlClientHandshake, at time: TAI64N) throws -> [UInt8] {
        let framed = try client.initiation(ephemeral: random.privateKey(), timestamp: time, now: 1)
        return try body(of: framed)
    }

    /// The server's answer to `initiation`, recorded in the replay guard as
    /// the server does once the machine logs in.
    mutating func accept(_ initiation: [UInt8], now: UInt64 = 1) throws(ControlChannelError) -> ControlAcceptance {
        let acceptance = try responder.accept(initiation: initiation, replayGuard: replayGuard, ephemeral: random.privateKey(),
                                              index: random.uint32(), now: now)
        replayGuard.record(acceptance.timestamp, for: acceptance.machineKey, now: now)
        return acceptance
    }

    /// A complete handshake: (client session, server acceptance).
    mutating func connect(at time: TAI64N = stamp(0)) throws -> (ControlSession, ControlAcceptance) {
        var client = client()
        let acceptance = try accept(try initiation(&client, at: time))
        let session = try client.finish(response: try body(of: acceptance.response))
        return (session, acceptance)
    }
}

/// The single frame body in `stream`; fails if it is not exactly one frame.
func body(of stream: [UInt8]) throws -> [UInt8] {
    var decoder = ControlFrameDecoder()
    decoder.append(stream)
    guard let frame = try decoder.next(), decoder.bufferedCount == 0 else { throw FixtureError.notOneFrame }
    return frame
}

enum FixtureError: Error { case notOneFrame }

/// Sample data for the message tests.
enum Sample {
    static func key(_ byte: UInt8) -> PublicKey { PublicKey(bytes: Bytes32(repeating: byte)) }

    static func node(_ id: UInt64, name: String? = nil, expiry: Int64? = 1_800_000_000) throws -> NodeView {
        NodeView(id: id, name: name ?? "node-" + String(id), nodeKey: key(UInt8(truncatingIfNeeded: id)),
                 addresses: [try IPPrefix("100.64.0." + String(id) + "/32"), try IPPrefix("fd7a:115c:a1e0::" + String(id) + "/128")],
                 allowedIPs: [try IPPrefix("100.64.0." + String(id) + "/32"), try IPPrefix("192.168.1.0/24")],
                 endpoints: [try Endpoint("192.0.2." + String(id) + ":41641"), try Endpoint("[2001:db8::" + String(id) + "]:41641")],
                 keyExpiry: expiry, online: id % 2 == 0, user: "alice@example.com", tags: ["tag:server", "tag:édge \"q\""])
    }

    static func map(version: UInt64 = 7, peers: [UInt64] = [2, 3]) throws -> NetworkMap {
        NetworkMap(version: version, ipv4Range: try IPPrefix("100.64.0.0/10"), ipv6Range: try IPPrefix("fd7a:115c:a1e0::/48"),
                   node: try node(1), peers: try peers.map { try node($0) })
    }
}
