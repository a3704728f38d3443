import CTern
import IP
import TernCrypto
import WireGuard

/// How many handshakes per second a responder completes: each initiation is
/// checked (mac1), opened, replay- and flood-checked, answered with a
/// response and a new keypair, exactly as `Device.receive` does for a
/// datagram off the wire. Initiations from `peers` distinct initiators are
/// made beforehand, outside the timing.
func benchHandshakes(_ options: Options) {
    let peers = 256
    let rounds = 8
    var random = SystemRandom()
    let responderKey = random.privateKey()
    let responder = Device(random: SystemRandom())
    responder.setPrivateKey(responderKey)
    responder.underLoadThreshold = Int.max          // measure the handshake, not the cookie path
    let source = Endpoint(.v4(IPv4Address(192, 0, 2, 1)), port: 51820)

    var initiators: [(StaticIdentity, PeerKeys)] = []
    for _ in 0..<peers {
        let identity = StaticIdentity(privateKey: random.privateKey())
        _ = responder.addPeer(identity.publicKey)
        initiators.append((identity, PeerKeys(identity: identity, remoteStatic: responderKey.publicKey)))
    }

    // Round r of every initiator carries a timestamp one second later, so none is a replay.
    var messages = [UInt8](repeating: 0, count: peers * rounds * Initiation.size)
    messages.withUnsafeMutableBytes { all in
        for round in 0..<rounds {
            for (i, (identity, keys)) in initiators.enumerated() {
                let offset = (round * peers + i) * Initiation.size
                let message = UnsafeMutableRawBufferPointer(rebasing: all[offset..<offset + Initiation.size])
                var handshake = Handshake()
                var cookie = PeerCookie()
                try? handshake.createInitiation(
                    into: message, identity: identity, peer: keys, ephemeral: random.privateKey(),
                    localIndex: UInt32(i), timestamp: TAI64N(unixSeconds: 1_700_000_000 + Int64(round), nanoseconds: 0))
                cookie.addMACs(to: message, peer: keys, now: 0)
            }
        }
    }

    var buffer = [UInt8](repeating: 0, count: 256)
    var answered = 0
    let start = tern_monotonic_ns()
    messages.withUnsafeBytes { all in
        buffer.withUnsafeMutableBytes { buffer in
            for round in 0..<rounds {
                let now = UInt64(round + 1) * Protocol.second
                for i in 0..<peers {
                    let offset = (round * peers + i) * Initiation.size
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[offset..<offset + Initiation.size]))
                    if case .writeToNetwork(_, _, let length) = responder.receive(buffer, length: Initiation.size,
                                                                              from: source, now: now),
                       length == Response.size {
                        answered += 1
                    }
                }
            }
        }
    }
    let elapsed = Double(tern_monotonic_ns() - start)
    guard answered == peers * rounds else { fail("only " + String(answered) + " initiations were answered") }
    print("Handshakes answered by one responder thread: " + format(Double(answered) * 1e9 / elapsed, decimals: 0)
          + "/s (" + String(answered) + " from " + String(peers) + " peers)")
    _ = options
}
