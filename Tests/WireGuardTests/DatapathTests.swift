import IP
import TernCrypto
import Testing
@testable import WireGuard

/// Datagrams between datapaths, over UDP and over a relay-shaped transport
/// that addresses by public key, with a manual clock.
private final class World {
    var now: UInt64 = 0
    var hosts: [Host] = []
    /// In flight: the receiver, the path it will see, the bytes.
    var udpQueue: [(to: Host, from: Endpoint, bytes: [UInt8])] = []
    var relayQueue: [(to: Host, bytes: [UInt8])] = []
    var udpSent = 0
    var relaySent = 0
    /// False: UDP datagrams are lost (a network that blocks UDP).
    var udpWorks = true

    func host(at endpoint: Endpoint) -> Host? { hosts.first { $0.endpoint == endpoint } }
    func host(with key: PublicKey) -> Host? { hosts.first { $0.key == key } }

    /// Delivers everything in flight, relay first when `relayFirst` (so
    /// datagrams that left over UDP earlier arrive after later relayed ones).
    func run(relayFirst: Bool = false) {
        var steps = 0
        while !udpQueue.isEmpty || !relayQueue.isEmpty {
            steps += 1
            precondition(steps < 100_000, "did not settle")
            if relayFirst || udpQueue.isEmpty, !relayQueue.isEmpty {
                let (to, bytes) = relayQueue.removeFirst()
                to.receive(bytes, from: .relay(region: 1))
            } else {
                let (to, from, bytes) = udpQueue.removeFirst()
                to.receive(bytes, from: .udp(from))
            }
        }
    }
}

private final class Host: UDPOutput, TunnelOutput, DatagramTransport {
    let world: World
    let endpoint: Endpoint
    let address: IPAddress
    var datapath: Datapath<SeededRandom>!
    var tunnel: [[UInt8]] = []
    private var slot = [UInt8](repeating: 0, count: 16 + 65535 + 32)
    private var input = [UInt8](repeating: 0, count: 65535 + 32)

    init(_ world: World, seed: UInt64, endpoint: String, address: String) throws {
        self.world = world
        self.endpoint = try Endpoint(endpoint)
        self.address = try IPAddress(address)
        var random = SeededRandom(state: seed)
        let device = Device(random: random)
        device.setPrivateKey(random.privateKey())
        datapath = Datapath(device: device, udp: self, tunnel: self)
        datapath.attach(self, region: 1)
        world.hosts.append(self)
    }

    var device: Device<SeededRandom> { datapath.device }
    var key: PublicKey { device.identity!.publicKey }

    // UDPOutput
    var nextSlot: UnsafeMutableRawBufferPointer { slot.withUnsafeMutableBytes { $0 } }
    func commit(length: Int, to endpoint: Endpoint) {
        world.udpSent += 1
        guard world.udpWorks, let to = world.host(at: endpoint) else { return }
        world.udpQueue.append((to, self.endpoint, Array(slot[0..<length])))
    }

    // TunnelOutput
    func write(_ packet: UnsafeRawBufferPointer) { tunnel.append(Array(packet)) }

    // DatagramTransport: the relay knows every host by key.
    func send(_ datagram: UnsafeRawBufferPointer, to key: PublicKey) {
        world.relaySent += 1
        guard let to = world.host(with: key) else { return }
        world.relayQueue.append((to, Array(datagram)))
    }

    func receive(_ bytes: [UInt8], from path: Path) {
        for (i, byte) in bytes.enumerated() { input[i] = byte }
        input.withUnsafeMutableBytes { buffer in
            let datagram = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes.count])
            if case .udp(let source) = path {
                datapath.receiveUDP(datagram, from: source, now: world.now)
            } else {
                datapath.deliver(datagram, from: path, now: world.now)
            }
        }
        datapath.drain(now: world.now)
    }

    /// Writes packet number `n` to `peer` into the TUN device.
    func send(_ n: UInt8, to peer: Host) {
        let packet = ipv4Packet(from: address, to: peer.address, payload: [n, n, n, n])
        packet.withUnsafeBytes { datapath.inject($0, now: world.now) }
    }

    func peerID(_ other: Host) -> PeerID { device.peer(for: other.key)!.id }
}

private func pair(_ world: World) throws -> (Host, Host) {
    let a = try Host(world, seed: 11, endpoint: "192.0.2.1:51820", address: "10.0.0.1")
    let b = try Host(world, seed: 12, endpoint: "192.0.2.2:51820", address: "10.0.0.2")
    let ab = a.device.addPeer(b.key)!
    let ba = b.device.addPeer(a.key)!
    a.device.addAllowedIP(ab, try IPPrefix("10.0.0.2/32"))
    b.device.addAllowedIP(ba, try IPPrefix("10.0.0.1/32"))
    return (a, b)
}

private func payloads(_ host: Host) -> [UInt8] { host.tunnel.map { $0[20] } }

@Suite struct DatapathTests {
    @Test func sessionOverRelayOnly() throws {
        let world = World()
        let (a, b) = try pair(world)
        world.udpWorks = false
        a.device.setEndpoint(a.peerID(b), .relay(region: 1))
        b.device.setEndpoint(b.peerID(a), .relay(region: 1))
        for n in 0..<100 {
            a.send(UInt8(n), to: b)
            world.run()
        }
        b.send(200, to: a)
        world.run()
        #expect(payloads(b) == (0..<100).map { UInt8($0) })
        #expect(payloads(a) == [200])
        #expect(world.udpSent == 0)
        // The responder answered the relayed initiation over the relay, naming the peer.
        #expect(a.device.peer(for: b.key)?.lastHandshake != nil)
    }

    @Test func switchingTransportMidTransferLosesNothing() throws {
        let world = World()
        let (a, b) = try pair(world)
        a.device.setEndpoint(a.peerID(b), .udp(b.endpoint))
        b.device.setEndpoint(b.peerID(a), .udp(a.endpoint))
        for n in 0..<50 {
            a.send(UInt8(n), to: b)
            world.run()
        }
        // 20 more leave over UDP but are still in flight when A switches to the relay.
        for n in 50..<70 { a.send(UInt8(n), to: b) }
        a.device.setEndpoint(a.peerID(b), .relay(region: 1))
        for n in 70..<100 { a.send(UInt8(n), to: b) }
        // The relayed ones overtake the UDP ones: the replay window takes both.
        world.run(relayFirst: true)
        #expect(Set(payloads(b)) == Set((0..<100).map { UInt8($0) }))
        #expect(payloads(b).count == 100)
        #expect(b.device.dropCount(.replayed) == 0)
        // B follows A's latest authenticated source (WireGuard's rule): the
        // late UDP datagrams, then the next relayed one; and answers over the relay.
        #expect(b.device.peer(for: a.key)?.endpoint == .udp(a.endpoint))
        a.send(100, to: b)
        world.run()
        #expect(b.device.peer(for: a.key)?.endpoint == .relay(region: 1))
        let relayedBefore = world.relaySent
        b.send(201, to: a)
        world.run()
        #expect(payloads(a) == [201] && world.relaySent == relayedBefore + 1)
    }

    @Test func pinnedRoamingLeavesThePathToTheEngine() throws {
        let world = World()
        let (a, b) = try pair(world)
        b.device.roaming = .pinned
        a.device.setEndpoint(a.peerID(b), .udp(b.endpoint))
        b.device.setEndpoint(b.peerID(a), .udp(a.endpoint))
        a.send(1, to: b)
        world.run()
        a.device.setEndpoint(a.peerID(b), .relay(region: 1))
        a.send(2, to: b)
        world.run()
        #expect(payloads(b) == [1, 2])
        let peer = b.device.peer(for: a.key)!
        #expect(peer.endpoint == .udp(a.endpoint))
        #expect(peer.lastSource == .relay(region: 1))
    }

    @Test func unattachedRelayIsCountedNotSent() throws {
        let world = World()
        let (a, b) = try pair(world)
        a.datapath.detach(region: 1)
        a.device.setEndpoint(a.peerID(b), .relay(region: 1))
        a.send(1, to: b)
        world.run()
        #expect(world.relaySent == 0 && world.udpSent == 0)
        #expect(a.datapath.unroutable == 1)        // the initiation had nowhere to go
    }

    @Test func stunAndDiscoReachTheirHandlerNotTheDevice() throws {
        let world = World()
        let (a, _) = try pair(world)
        var seen: [(DatagramKind, Int, Endpoint)] = []
        a.datapath.otherDatagrams = { kind, datagram, source, _ in seen.append((kind, datagram.count, source)) }
        // A STUN Binding request: type 0x0001, length 0, the magic cookie, a transaction id.
        var stun: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42]
        stun += [UInt8](repeating: 7, count: 12)
        let disco = DatagramKind.discoMagic + [UInt8](repeating: 9, count: 32 + 24 + 16 + 2)
        let from = try Endpoint("203.0.113.9:3478")
        world.udpQueue.append((a, from, stun))
        world.udpQueue.append((a, from, disco))
        world.run()
        #expect(seen.map { $0.0 } == [.stun, .disco])
        #expect(seen.map { $0.1 } == [20, disco.count] && seen.allSatisfy { $0.2 == from })
        #expect(a.device.dropCount(.malformed) == 0)
        #expect(a.datapath.otherDatagramsReceived == 2)

        // Anything else still reaches WireGuard, which counts it malformed.
        world.udpQueue.append((a, from, [0x05, 0, 0, 0] + [UInt8](repeating: 0, count: 40)))
        world.run()
        #expect(a.device.dropCount(.malformed) == 1 && seen.count == 2)

        // Without a handler, STUN on the WireGuard port is just malformed WireGuard.
        a.datapath.otherDatagrams = nil
        world.udpQueue.append((a, from, stun))
        world.run()
        #expect(a.device.dropCount(.malformed) == 2)
    }

    @Test func classifierKeepsTheThreeApart() {
        func kind(_ bytes: [UInt8]) -> DatagramKind { bytes.withUnsafeBytes { DatagramKind.classify($0) } }
        for type: UInt8 in 1...4 { #expect(kind([type, 0, 0, 0] + [UInt8](repeating: 0xFF, count: 28)) == .wireGuard) }
        #expect(kind([1, 0, 0]) == .unknown)
        #expect(kind([5, 0, 0, 0]) == .unknown)
        #expect(kind([1, 1, 0, 0]) == .unknown)
        let stun: [UInt8] = [0x01, 0x01, 0x00, 0x0C, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 0, count: 24)
        #expect(kind(stun) == .stun)
        #expect(kind(Array(stun[0..<19])) == .unknown)           // shorter than a STUN header
        var high = stun
        high[0] = 0x81                                           // top bits set: not STUN
        #expect(kind(high) == .unknown)
        let disco = DatagramKind.discoMagic + [UInt8](repeating: 0, count: 56)
        #expect(kind(disco) == .disco)
        #expect(kind(Array(disco[0..<61])) == .unknown)          // no room for key and nonce
    }
}
