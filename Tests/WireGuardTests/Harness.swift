import IP
import TernCrypto
@testable import WireGuard
import TestSupport

/// A deterministic random source (SplitMix64) so protocol tests replay exactly.
struct SeededRandom: RandomSource {
    private var generator: SplitMix64

    init(state: UInt64) { generator = SplitMix64(seed: state) }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) { generator.fill(buffer) }
}

/// One simulated host: a device, its underlay address, and what it wrote to its TUN.
final class Node {
    let name: String
    let device: Device<SeededRandom>
    var endpoint: Endpoint
    let tunnelAddress: IPAddress
    var tunnel: [[UInt8]] = []

    init(name: String, seed: UInt64, endpoint: String, tunnelAddress: String) throws {
        self.name = name
        var random = SeededRandom(state: seed)
        device = Device(random: random, stagingSlots: 512)
        device.setPrivateKey(random.privateKey())
        self.endpoint = try Endpoint(endpoint)
        self.tunnelAddress = try IPAddress(tunnelAddress)
    }

    var publicKey: PublicKey { device.identity!.publicKey }
}

/// A datagram on the simulated underlay.
struct Datagram {
    let from: Endpoint
    let to: Endpoint
    let bytes: [UInt8]
    /// When it was sent.
    var time: UInt64 = 0

    var type: MessageType? { bytes.withUnsafeBytes { MessageType.classify($0) } }
    var isKeepalive: Bool { type == .transport && bytes.count == Transport.minimumSize }
}

/// An in-memory network with a manual clock: devices exchange datagrams
/// through a queue, and time moves only when a test says so.
final class Network {
    var nodes: [Node] = []
    var now: UInt64 = 0
    var queue: [Datagram] = []
    /// Every datagram ever sent, for counting.
    var log: [Datagram] = []
    /// Return false to lose a datagram.
    var deliver: (Datagram) -> Bool = { _ in true }
    private var buffer = [UInt8](repeating: 0, count: 16 + 65535 + 32)

    static let second = Protocol.second

    /// Two nodes that know each other: A (10.0.0.1) and B (10.0.0.2).
    static func pair() throws -> (Network, Node, Node) {
        let network = Network()
        let a = try Node(name: "a", seed: 1, endpoint: "192.0.2.1:51820", tunnelAddress: "10.0.0.1")
        let b = try Node(name: "b", seed: 2, endpoint: "192.0.2.2:51820", tunnelAddress: "10.0.0.2")
        network.nodes = [a, b]
        try network.connect(a, b)
        return (network, a, b)
    }

    /// Makes `x` and `y` peers, each routing the other's tunnel address, with known endpoints.
    func connect(_ x: Node, _ y: Node, endpoints: Bool = true) throws {
        let xy = x.device.addPeer(y.publicKey)!
        let yx = y.device.addPeer(x.publicKey)!
        x.device.addAllowedIP(xy, try IPPrefix(y.tunnelAddress.description + "/32"))
        y.device.addAllowedIP(yx, try IPPrefix(x.tunnelAddress.description + "/32"))
        if endpoints {
            x.device.setEndpoint(xy, y.endpoint)
            y.device.setEndpoint(yx, x.endpoint)
        }
    }

    func node(at endpoint: Endpoint) -> Node? { nodes.first { $0.endpoint == endpoint } }

    /// `from` writes an IPv4 packet to `to` into its TUN device.
    func sendPacket(from: Node, to: Node, payload: [UInt8] = [1, 2, 3, 4]) {
        let packet = ipv4Packet(from: from.tunnelAddress, to: to.tunnelAddress, payload: payload)
        sendRaw(from: from, packet: packet)
    }

    /// `from` writes raw bytes into its TUN device.
    @discardableResult
    func sendRaw(from: Node, packet: [UInt8]) -> Action {
        for i in 0..<packet.count { buffer[16 + i] = packet[i] }
        let action = buffer.withUnsafeMutableBytes { from.device.send($0, length: packet.count, now: now) }
        handle(action, at: from)
        drain(from)
        return action
    }

    /// Injects a datagram as if it arrived from `source` (for hostile input).
    @discardableResult
    func inject(_ bytes: [UInt8], to node: Node, from source: Endpoint) -> Action {
        for i in 0..<bytes.count { buffer[i] = bytes[i] }
        let action = buffer.withUnsafeMutableBytes { node.device.receive($0, length: bytes.count, from: source, now: now) }
        handle(action, at: node)
        drain(node)
        return action
    }

    /// Delivers queued datagrams (and everything they cause) until quiet.
    func run() {
        var steps = 0
        while !queue.isEmpty {
            steps += 1
            precondition(steps < 100_000, "network did not settle")
            let datagram = queue.removeFirst()
            guard deliver(datagram), let node = node(at: datagram.to) else { continue }
            inject(datagram.bytes, to: node, from: datagram.from)
        }
    }

    /// Moves the clock to `time`, firing every timer on the way, in order.
    func advance(to time: UInt64) {
        for node in nodes { drain(node) }      // transmissions queued by configuration changes
        run()
        while true {
            let due = nodes.compactMap { $0.device.nextDeadline }.filter { $0 <= time }.min()
            guard let due else { break }
            now = max(now, due)
            for node in nodes {
                node.device.tick(now: now)
                drain(node)
            }
            run()
        }
        now = time
        run()
    }

    func advance(by duration: UInt64) { advance(to: now + duration) }

    private func drain(_ node: Node) {
        while true {
            let action = buffer.withUnsafeMutableBytes { node.device.poll(into: $0, now: now) }
            if action == .done { return }
            handle(action, at: node)
        }
    }

    private func handle(_ action: Action, at node: Node) {
        switch action {
        case .writeToNetwork(let path, _, let length):
            guard let to = path.udp else { return }
            let datagram = Datagram(from: node.endpoint, to: to, bytes: Array(buffer[0..<length]), time: now)
            queue.append(datagram)
            log.append(datagram)
        case .writeToTunnel(_, let offset, let length):
            node.tunnel.append(Array(buffer[offset..<offset + length]))
        case .done, .drop:
            break
        }
    }

    /// When `node` sent keepalives, in seconds.
    func keepaliveSeconds(from node: Node) -> [UInt64] {
        log.filter { $0.from == node.endpoint && $0.isKeepalive }.map { $0.time / Self.second }
    }

    /// Datagrams of `type` sent by `node` so far.
    func sent(by node: Node, _ type: MessageType, keepaliveOnly: Bool = false) -> Int {
        log.filter { $0.from == node.endpoint && $0.type == type && (!keepaliveOnly || $0.isKeepalive) }.count
    }
}

/// A minimal IPv4 packet (protocol 253, experimental) with a correct total length.
func ipv4Packet(from source: IPAddress, to destination: IPAddress, payload: [UInt8]) -> [UInt8] {
    var packet = [UInt8](repeating: 0, count: 20 + payload.count)
    packet[0] = 0x45
    packet[2] = UInt8((20 + payload.count) >> 8)
    packet[3] = UInt8((20 + payload.count) & 0xff)
    packet[8] = 64
    packet[9] = 253
    packet.withUnsafeMutableBytes { bytes in
        source.write(networkOrderBytesTo: UnsafeMutableRawBufferPointer(rebasing: bytes[12..<16]))
        destination.write(networkOrderBytesTo: UnsafeMutableRawBufferPointer(rebasing: bytes[16..<20]))
    }
    for (i, byte) in payload.enumerated() { packet[20 + i] = byte }
    return packet
}
