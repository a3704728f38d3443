import ControlProtocol
import IP
import JSON
import TernCrypto
import Testing
import WireGuard
@testable import Mesh

@Suite struct ControlURLTests {
    @Test func acceptsHostsPortsAndIPv6() throws {
        let plain = try ControlURL("http://10.0.0.1:8080")
        #expect(plain.address == (try IPAddress("10.0.0.1")) && plain.port == 8080)
        #expect(plain.description == "http://10.0.0.1:8080")
        let v6 = try ControlURL("http://[fd00::1]:9000/")
        #expect(v6.host == "fd00::1" && v6.port == 9000 && v6.hostHeader == "[fd00::1]:9000")
        let named = try ControlURL("http://control.example")
        #expect(named.address == nil && named.port == 80)
    }

    @Test func refusesWhatItCannotUse() {
        for text in ["https://10.0.0.1", "10.0.0.1:80", "http://", "http://h:0", "http://h:99999", "http://h/path",
                     "http://user@h", "http://[fd00::1", "http://[fd00::1]x"] {
            #expect(throws: ControlURLError.self, "\(text)") { _ = try ControlURL(text) }
        }
    }
}

@Suite struct EchoProbeTests {
    /// The Internet checksum over a whole valid header or message is zero.
    func verifies(_ packet: [UInt8], _ range: Range<Int>, initial: UInt32 = 0) -> Bool {
        EchoProbe.checksum(packet, range, initial: initial) == 0
    }

    @Test func ipv4RequestIsWellFormedAndItsReplyIsRecognized() throws {
        let source = try IPAddress("100.64.0.1"), destination = try IPAddress("100.64.0.2")
        var packet = EchoProbe.request(from: source, to: destination, sequence: 7)
        #expect(verifies(packet, 0..<20) && verifies(packet, 20..<packet.count))
        // The peer's kernel answers: swap addresses, type 0, fix the checksum.
        for i in 0..<4 { packet.swapAt(12 + i, 16 + i) }
        packet[20] = 0
        packet[22] = 0; packet[23] = 0
        let sum = EchoProbe.checksum(packet, 20..<packet.count, initial: 0)
        packet[22] = UInt8(sum >> 8); packet[23] = UInt8(sum & 0xFF)
        let reply = packet.withUnsafeBytes { EchoProbe.reply($0, to: [source]) }
        #expect(reply?.from == destination && reply?.sequence == 7)
        // Not for us, or a request rather than a reply: left alone.
        #expect(packet.withUnsafeBytes { EchoProbe.reply($0, to: [destination]) } == nil)
        let request = EchoProbe.request(from: destination, to: source, sequence: 7)
        #expect(request.withUnsafeBytes { EchoProbe.reply($0, to: [source]) } == nil)
    }

    @Test func ipv6RequestChecksumCoversThePseudoHeader() throws {
        let source = try IPAddress("fd7a::1"), destination = try IPAddress("fd7a::2")
        let packet = EchoProbe.request(from: source, to: destination, sequence: 1)
        var pseudo: UInt32 = 0
        for i in stride(from: 8, to: 40, by: 2) { pseudo += UInt32(packet[i]) << 8 | UInt32(packet[i + 1]) }
        pseudo += UInt32(packet.count - 40) + 58
        #expect(verifies(packet, 40..<packet.count, initial: pseudo))
        #expect(packet[40] == 128)
    }

    @Test func garbageIsNotAReply() {
        for length in 0..<80 {
            let bytes = [UInt8](repeating: 0x45, count: length)
            #expect(bytes.withUnsafeBytes { EchoProbe.reply($0, to: []) } == nil)
        }
    }
}

@Suite struct PeerSyncTests {
    struct Fixed: RandomSource { mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) { for i in buffer.indices { buffer[i] = 1 } } }

    init() throws { try Sodium.initialize() }

    func view(_ id: UInt64, _ key: PublicKey, _ address: String, endpoint: String?) throws -> NodeView {
        let prefix = try IPPrefix(address + "/32")
        return NodeView(id: id, name: "n" + String(id), nodeKey: key, addresses: [prefix], allowedIPs: [prefix],
                        endpoints: try endpoint.map { [try Endpoint($0)] } ?? [], keyExpiry: nil, online: true,
                        user: "u", tags: [])
    }

    @Test func addsUpdatesAndRemovesPeers() throws {
        let device = Device(random: Fixed())
        device.setPrivateKey(PrivateKey.generate())
        let a = PrivateKey.generate().publicKey, b = PrivateKey.generate().publicKey
        var changes = PeerSync.apply([try view(1, a, "100.64.0.1", endpoint: "192.0.2.1:1"),
                                      try view(2, b, "100.64.0.2", endpoint: nil)], to: device, now: 0)
        #expect(changes == { var c = PeerSync.Changes(); c.added = 2; return c }())
        #expect(device.route(try IPAddress("100.64.0.2")) == device.peer(for: b)?.id)
        #expect(device.peer(for: a)?.endpoint == .udp(try Endpoint("192.0.2.1:1")))

        // Same map again: nothing to do.
        #expect(PeerSync.apply([try view(1, a, "100.64.0.1", endpoint: "192.0.2.1:1"),
                                try view(2, b, "100.64.0.2", endpoint: nil)], to: device, now: 0).isEmpty)

        // b moves address, a goes away.
        changes = PeerSync.apply([try view(2, b, "100.64.0.9", endpoint: "192.0.2.2:2")], to: device, now: 0)
        #expect(changes.removed == 1 && changes.updated == 1 && changes.added == 0)
        #expect(device.peer(for: a) == nil)
        #expect(device.route(try IPAddress("100.64.0.2")) == nil)
        #expect(device.route(try IPAddress("100.64.0.9")) == device.peer(for: b)?.id)
    }

    @Test func ownKeyIsNeverAPeer() throws {
        let device = Device(random: Fixed())
        let own = PrivateKey.generate()
        device.setPrivateKey(own)
        _ = PeerSync.apply([try view(1, own.publicKey, "100.64.0.1", endpoint: nil)], to: device, now: 0)
        #expect(device.peers.isEmpty)
    }
}

@Suite struct NodeStateTests {
    init() throws { try Sodium.initialize() }

    @Test func roundTripsWithAndWithoutAMap() throws {
        var state = NodeState(machineKey: PrivateKey.generate(), nodeKey: PrivateKey.generate(), hostname: "pi")
        #expect(try NodeState(json: state.json) == state)
        state.controlURL = "http://10.0.0.1:8080"
        state.serverKey = PrivateKey.generate().publicKey
        state.loggedIn = true
        state.wantRunning = true
        let me = NodeView(id: 1, name: "pi", nodeKey: state.nodeKey.publicKey, addresses: [try IPPrefix("100.64.0.1/32")],
                          allowedIPs: [try IPPrefix("100.64.0.1/32")], endpoints: [], keyExpiry: 1_900_000_000,
                          online: true, user: "alice", tags: ["tag:gw"])
        state.map = NetworkMap(version: 3, ipv4Range: try IPPrefix("100.64.0.0/10"), ipv6Range: try IPPrefix("fd00:1::/48"),
                               node: me, peers: [])
        let text = JSONSerializer.string(state.json)
        #expect(try NodeState(json: try JSONParser.parse(text)) == state)
    }

    @Test func damagedDocumentsAreErrors() throws {
        let good = NodeState(machineKey: PrivateKey.generate(), nodeKey: PrivateKey.generate(), hostname: "pi").json
        for key in ["machineKey", "nodeKey", "hostname", "loggedIn", "wantRunning"] {
            let object = try #require(good.object)
            let wrong: JSONValue = key == "hostname" ? 5 : "nonsense"
            let broken = try #require(JSONObject(object.members.map { $0.key == key ? ($0.key, wrong) : $0 }))
            #expect(throws: ControlMessageError.self, "\(key)") { _ = try NodeState(json: .object(broken)) }
        }
        #expect(throws: ControlMessageError.self) { _ = try NodeState(json: [1, 2]) }
    }
}
