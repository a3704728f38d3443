import CTern
import ControlProtocol
import IP
import JSON
import Linux
import Mesh
import TernCrypto
import WireGuard

/// `tern-bench control SERVER AUTHKEY [--nodes N] [--endpoints E]`: a load generator for
/// `tern-control`. Simulated nodes (a machine key, a node key, a TCP
/// connection and a `ControlConnection` each, no WireGuard) register with one
/// reusable pre-auth key, 16 connecting at a time (each from its own
/// loopback address when the server is on loopback); then one more node
/// joins and the time until every simulated node has that node in its map is
/// measured. Prints both times; the caller measures the server's RSS and state.
/// The first node advertises a subnet route (and pings like a router), so
/// routes travel in every map.
enum ControlLoad {
    final class SimulatedNode {
        let machine = StaticIdentity(privateKey: PrivateKey.generate())
        let nodeKey = PrivateKey.generate().publicKey
        var tcp: TCPConnection?
        var connection: ControlConnection
        var hasMap = false
        var selfID: UInt64 = 0
        var peerIDs = Set<UInt64>()
        var mapBytes = 0

        init(url: ControlURL, serverKey: PublicKey?) {
            let wall = Clock.wallClock()
            connection = ControlConnection(url: url, machine: machine, serverKey: serverKey, ephemeral: PrivateKey.generate(),
                                           timestamp: TAI64N(unixSeconds: wall.seconds, nanoseconds: UInt32(wall.nanoseconds)))
        }
    }

    static func run(_ arguments: [String]) -> Int32 {
        let usage = "usage: tern-bench control http://IP:PORT AUTHKEY [--nodes N] [--endpoints E]"
        guard arguments.count >= 4, let url = try? ControlURL(arguments[2]), let endpointAddress = url.address else {
            fail(usage)
        }
        let authKey = arguments[3]
        var count = 1000
        var endpointCount = 0
        var options = arguments[4...]
        while let flag = options.popFirst() {
            guard let value = options.popFirst(), let number = Int(value), number >= 0 else { fail(usage) }
            switch flag {
            case "--nodes" where number > 0: count = number
            case "--endpoints" where number <= MessageLimits.maximumEndpoints: endpointCount = number
            default: fail(usage)
            }
        }
        // Endpoints each simulated node reports (in 198.18.0.0/15, the
        // benchmarking range): they make every peer's map entry larger.
        func endpoints(of index: Int) -> [Endpoint] {
            (0..<endpointCount).map { i in
                Endpoint(.v4(IPv4Address(198, 18, UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index))),
                         port: UInt16(10_000 + i))
            }
        }
        do { try Sodium.initialize() } catch { fail(error.description) }
        ProcessLimits.raiseOpenFiles()
        let loop: EventLoop
        do { loop = try EventLoop(capacity: 256) } catch { fail(error.description) }
        let endpoint = Endpoint(endpointAddress, port: url.port)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)
        defer { scratch.deallocate() }

        // Pin the server key once, with one node, like a first contact.
        var serverKey: PublicKey? = nil
        var nodes: [SimulatedNode] = []
        var next = 0
        var connecting = 0
        var done = 0

        // tern-control limits what one source address may do before login
        // (16 connections, 20 handshakes a second): against a server on
        // loopback each simulated node connects from an address of its own
        // in 127.0.0.0/8, as nodes on many hosts would. 16 connect at a time,
        // so that this one thread keeps up with the maps of a large mesh and
        // the simulated router pings in time.
        let loopback = endpointAddress.isIPv4 && endpointAddress.description.hasPrefix("127.")
        let maximumConnecting = 16
        func source(of index: Int) -> IPAddress? {
            guard loopback else { return nil }
            return .v4(IPv4Address(127, 1, UInt8(truncatingIfNeeded: index / 250), UInt8(truncatingIfNeeded: index % 250 + 1)))
        }

        func start(_ index: Int) {
            let node = nodes[index]
            do {
                let tcp = try TCPConnection.connect(to: endpoint, from: source(of: index), keepalive: nil)
                node.tcp = tcp
                try loop.register(tcp.fileDescriptor, token: UInt64(index), interest: tcp.interest)
            } catch {
                fail("connect: " + error.description)
            }
            connecting += 1
        }

        func pump(_ index: Int, _ event: ReadyEvent) {
            let node = nodes[index]
            guard let tcp = node.tcp else { return }
            do throws(ControlClientError) {
                if tcp.isConnecting {
                    guard try io({ () throws(SystemError) in try tcp.finishConnect() }) else { return }
                    for case .write(let bytes) in try node.connection.start(now: 0) {
                        _ = try io({ () throws(SystemError) in try tcp.write(bytes) })
                    }
                }
                _ = try io({ () throws(SystemError) in try tcp.flush() })
                while true {
                    guard let read = try io({ () throws(SystemError) in try tcp.read(into: scratch) }) else { break }
                    if read == 0 { fail("the server closed a connection") }
                    // Reading a big mesh's maps takes long: the router must still ping on time.
                    pingRouter()
                    let outputs = try node.connection.receive(Array(UnsafeRawBufferPointer(rebasing: scratch[0..<read])), now: 0)
                    for output in outputs {
                        switch output {
                        case .write(let bytes): _ = try io({ () throws(SystemError) in try tcp.write(bytes) })
                        case .pinServerKey(let key): serverKey = key
                        case .established:
                            // The first node is a subnet router, so routes travel in every map.
                            let routes = index == 0 ? [try! IPPrefix("192.168.77.0/24")] : []
                            let login = LoginRequest(nodeKey: node.nodeKey, hostname: "sim" + String(index),
                                                     credential: .preAuthKey(authKey), endpoints: endpoints(of: index), mapVersion: 0,
                                                     advertisedRoutes: routes)
                            let bytes = try node.connection.send(.login(login))
                            _ = try io({ () throws(SystemError) in try tcp.write(bytes) })
                        case .message(let message):
                            handle(message, node)
                        }
                    }
                }
                _ = try io({ () throws(SystemError) in try loop.modify(tcp.fileDescriptor, token: UInt64(index), interest: tcp.interest) })
            } catch {
                fail("simulated node " + String(index) + ": " + error.description)
            }
        }

        func handle(_ message: ServerMessage, _ node: SimulatedNode) {
            switch message {
            case .map(let map):
                // The joiner's map has every peer: the largest one sent.
                if node === nodes.last, nodes.count > count { node.mapBytes = JSONSerializer.bytes(message.json).count }
                node.selfID = map.node.id
                node.peerIDs = Set(map.peers.map { $0.id })
                if !node.hasMap {
                    node.hasMap = true
                    connecting -= 1
                    done += 1
                }
            case .delta(let delta):
                for peer in delta.upserted { node.peerIDs.insert(peer.id) }
                for id in delta.removed { node.peerIDs.remove(id) }
            case .failure(let failure):
                fail("the server refused a simulated node: " + failure.message)
            default:
                break
            }
        }

        // The subnet router pings as often as a real one, or the server counts it gone.
        var nextRouterPing: UInt64 = 0
        func pingRouter() {
            let now = Clock.monotonicNanoseconds()
            guard !nodes.isEmpty, nodes[0].hasMap, now >= nextRouterPing, let tcp = nodes[0].tcp else { return }
            nextRouterPing = now + ControlTiming.routerPingInterval
            do throws(ControlClientError) {
                let bytes = try nodes[0].connection.send(.ping(now))
                _ = try io({ () throws(SystemError) in try tcp.write(bytes) })
            } catch {
                fail("simulated router: " + error.description)
            }
        }

        func waitLoop(until finished: () -> Bool) {
            let deadline = Clock.monotonicNanoseconds() + 600_000_000_000
            while !finished() {
                while next < nodes.count && connecting < maximumConnecting {
                    start(next)
                    next += 1
                }
                do { _ = try loop.wait(until: min(deadline, Clock.monotonicNanoseconds() + ControlTiming.routerPingInterval / 2)) } catch {
                    fail(error.description)
                }
                // Between events too: one full map for a large mesh takes a while to read.
                for event in loop.readyEvents {
                    pump(Int(event.token), event)
                    pingRouter()
                }
                pingRouter()
                if Clock.monotonicNanoseconds() > deadline { fail("timed out") }
            }
        }

        // The first node fetches and pins the key; the rest use it.
        nodes.append(SimulatedNode(url: url, serverKey: nil))
        let registerStart = Clock.monotonicNanoseconds()
        waitLoop(until: { done == 1 })
        for _ in 1..<count { nodes.append(SimulatedNode(url: url, serverKey: serverKey)) }
        waitLoop(until: { done == count })
        let registerTime = Clock.monotonicNanoseconds() - registerStart
        // Let the pushes of the last registrations drain before timing one change.
        let settle = Clock.monotonicNanoseconds() + 2_000_000_000
        waitLoop(until: { Clock.monotonicNanoseconds() > settle })

        // One more node joins: how long until all `count` have it in their maps?
        nodes.append(SimulatedNode(url: url, serverKey: serverKey))
        let joinStart = Clock.monotonicNanoseconds()
        waitLoop(until: { done == count + 1 })
        let joinerID = nodes[count].selfID
        let largestMap = nodes[count].mapBytes
        waitLoop(until: { nodes[0..<count].allSatisfy { $0.peerIDs.contains(joinerID) } })
        let fanout = Clock.monotonicNanoseconds() - joinStart

        print("control: " + String(count) + " nodes registered in " + format(Double(registerTime) / 1e9, decimals: 2)
              + " s (" + format(Double(count) * 1e9 / Double(registerTime), decimals: 0) + " logins/s)")
        print("control: one join reached all " + String(count) + " nodes in " + format(Double(fanout) / 1e6, decimals: 1) + " ms")
        print("control: the joiner's full map was " + String(largestMap) + " bytes of JSON (" + String(count) + " peers)")
        for node in nodes { node.tcp?.close() }
        return 0
    }

    /// A `SystemError` as the control client's error, for one typed `do`.
    static func io<T>(_ body: () throws(SystemError) -> T) throws(ControlClientError) -> T {
        do { return try body() } catch { throw ControlClientError(error.description) }
    }
}
