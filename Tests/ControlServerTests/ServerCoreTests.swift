import ControlProtocol
import ControlServer
import Coordinator
import IP
import Testing
import Time

@Suite struct ServerCoreTests {
    @Test func loginGivesAMapAndPeersADelta() throws {
        let server = Server()
        let a = Client(server, "alpha", seed: 1)
        let b = Client(server, "beta", seed: 2)
        guard case .map(let first)? = a.logIn() else { Issue.record("no map for a"); return }
        #expect(first.peers.isEmpty && first.node.name == "alpha")
        guard case .map(let second)? = b.logIn() else { Issue.record("no map for b"); return }
        #expect(second.peers.map { $0.name } == ["alpha"])
        // A heard of B as a delta on the map it holds.
        guard case .delta(let delta)? = a.messages.last else { Issue.record("no delta for a"); return }
        #expect(delta.baseVersion == first.version && delta.upserted.map { $0.name } == ["beta"])
        #expect(a.map?.peers.map { $0.name } == ["beta"])
        #expect(server.journal.registry.isOnline(a.nodeID!) && server.journal.registry.isOnline(b.nodeID!))
        // Replaying the journal gives the same registry: nothing was pushed that was not recorded.
        let replayed = try Registry(snapshot: nil, records: server.journal.records)
        #expect(replayed.snapshot() == server.journal.registry.snapshot())
        // Pings are answered.
        a.send(.ping(42))
        #expect(a.messages.last == .pong(42))
    }

    @Test func aFailureCodeEndsTheConnection() {
        let server = Server()
        let a = Client(server, "alpha", seed: 1)
        guard case .failure(let failure)? = a.logIn(secret: "tern-auth-" + String(repeating: "0", count: 48)) else {
            Issue.record("a bad key was not refused")
            return
        }
        #expect(failure.code == .authKeyInvalid)
        #expect(!a.isOpen && server.closed == [a.connection])
        #expect(server.core.connectionCount == 0 && server.core.loggedInNodes.isEmpty)
    }

    @Test func aReconnectTakesOverTheSession() {
        let server = Server()
        let a = Client(server, "alpha", seed: 1)
        let b = Client(server, "beta", seed: 2)
        a.logIn()
        b.logIn()
        let old = a.connection
        let deltasToB = b.messages.count
        // A comes back on a new connection before the old one timed out.
        guard case .map? = a.logIn(from: "192.0.2.11") else { Issue.record("no map after reconnect"); return }
        #expect(server.closed.contains(old))
        #expect(server.core.connectionCount == 2 && server.core.loggedInNodes.count == 2)
        #expect(server.journal.registry.isOnline(a.nodeID!))
        // B never saw A go offline, and the shell's late report of the old close changes nothing.
        server.core.closed(old, now: server.now)
        server.run()
        #expect(server.journal.registry.isOnline(a.nodeID!))
        let offline = b.messages[deltasToB...].contains { message in
            if case .delta(let delta) = message { return delta.upserted.contains { $0.name == "alpha" && !$0.online } }
            return false
        }
        #expect(!offline)
    }

    @Test func aSilentNodeIsDroppedUnlessItSpokeWhileTheLoopWasBusy() {
        let server = Server()
        let a = Client(server, "alpha", seed: 1)
        a.logIn()
        let node = a.nodeID!
        // Pinging every 20 s keeps the session.
        for _ in 0..<5 {
            server.advance(.seconds(20))
            a.send(.ping(1))
        }
        #expect(a.isOpen)
        // Silent past the limit, but its bytes wait unread in the shell: kept.
        server.pendingInput = [a.connection]
        server.advance(.seconds(76))
        #expect(a.isOpen)
        // Silent past the limit with nothing waiting: dropped, and offline.
        server.pendingInput = []
        server.advance(.seconds(74))
        #expect(a.isOpen)
        server.advance(.seconds(2))
        #expect(!a.isOpen && !server.journal.registry.isOnline(node))
    }

    @Test func aRouterThatFallsSilentLosesItsPrimaryRole() throws {
        let server = Server()
        let lan = try IPPrefix("192.168.50.0/24")
        let first = Client(server, "router-1", seed: 1, routes: [lan])
        let second = Client(server, "router-2", seed: 2, routes: [lan])
        let laptop = Client(server, "laptop", seed: 3)
        first.logIn()
        second.logIn()
        for router in [first, second] {
            #expect(server.core.apply(try server.journal.registry.approveRoutes(nodeID: router.nodeID!, [lan])))
        }
        server.run()
        laptop.logIn()
        func primary() -> String? { laptop.map?.peers.first { $0.primaryRoutes.contains(lan) }?.name }
        #expect(primary() == "router-1")
        // The first router keeps pinging at its 0.5 s interval, then stops.
        for _ in 0..<8 {
            server.advance(.milliseconds(500))
            first.send(.ping(1))
            second.send(.ping(1))
            laptop.send(.ping(1))
        }
        #expect(primary() == "router-1")
        for _ in 0..<9 {
            server.advance(.milliseconds(250))
            second.send(.ping(1))
        }
        // Gone after its 2 s silence limit (checked every 250 ms): the standby takes over.
        #expect(!first.isOpen)
        #expect(primary() == "router-2")
        #expect(server.logs.contains { $0.text.contains("subnet router router-1 fell silent") })
    }

    @Test func aJournalThatFailsStopsTheServerBeforeAnyNodeHears() {
        let server = Server()
        let a = Client(server, "alpha", seed: 1)
        a.logIn()
        let heard = a.messages.count
        server.journal.failNextWrite = true
        let b = Client(server, "beta", seed: 2)
        b.logIn()
        #expect(server.core.failure == JournalFailure("disk full"))
        #expect(a.messages.count == heard)          // no delta for a change that is not on disk
        #expect(server.logs.contains { $0.level == .error && $0.text.contains("cannot write the state") })
    }

    @Test func httpEndpointsAndTheLoginDeadline() {
        var limits = ConnectionLimits.standard
        limits.loginDeadline = .seconds(10)
        let server = Server(limits: limits)
        let probe = Client(server, "probe", seed: 1)
        #expect(server.connect(probe))
        var answer: [UInt8] = []
        server.clients[probe.connection] = nil      // read raw bytes below
        let id = probe.connection
        Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8).withUnsafeBytes { server.core.received($0, on: id, now: server.now) }
        for effect in server.core.takeEffects() { if case .send(id, let bytes) = effect { answer += bytes } }
        #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        // Keep-alive health checks do not hold a stranger's slot past its deadline.
        server.advance(.seconds(9))
        #expect(!server.closed.contains(id))
        server.advance(.seconds(2))
        #expect(server.closed.contains(id) && server.core.connectionCount == 0)
    }
}
