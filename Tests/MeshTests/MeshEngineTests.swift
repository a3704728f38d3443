import ControlProtocol
import ControlServer
import Coordinator
import IP
import JSON
@testable import Mesh
import Testing
import Time

/// Two or more mesh engines and a server core over in-memory transports,
/// with a manual clock: the node's decisions, without root or sockets.
@Suite struct MeshEngineTests {
    @Test func loginGivesAMapAndAPeerArrivesByDelta() throws {
        let network = MeshNetwork()
        let alpha = network.node("alpha", seed: 1)
        let beta = network.node("beta", seed: 2)
        #expect(alpha.nodeKey == alpha.engine.state.nodeKey, "the node key is set at start")
        let up = try #require(alpha.up(authKey: network.secret))
        #expect(up.status == 200 && up.body["state"]?.string == "Running")
        #expect(alpha.name == "alpha" && alpha.peers.isEmpty && alpha.engine.state.loggedIn)
        #expect(alpha.hostPlan?.addresses.count == 2)
        #expect(alpha.filter == .allowAll)
        let version = alpha.map!.version

        #expect(beta.up(authKey: network.secret)?.status == 200)
        #expect(beta.peerNames == ["alpha"])
        #expect(alpha.peerNames == ["beta"], "alpha hears of beta by a delta")
        #expect(alpha.map!.version == version + 1 && alpha.connects == 1)
        // The endpoint the server was told at login reaches the peer.
        #expect(alpha.peers.first?.endpoints == [Endpoint(try IPAddress("198.51.100.3"), port: 41641)])

        guard case .respond(200, let status) = alpha.request("GET", "/v1/status").answer else { Issue.record("no status"); return }
        #expect(status["controlConnected"]?.bool == true)
        #expect(status["peers"]?.array?.first?["name"]?.string == "beta")
        #expect(status["peers"]?.array?.first?["endpoint"]?.string == "198.51.100.3:41641")
    }

    @Test func aDeltaOutOfStepLeadsToAFullMapOnANewSession() {
        let network = MeshNetwork()
        let alpha = network.node("alpha", seed: 1)
        alpha.up(authKey: network.secret)
        // A delta went missing: the node's map is no longer the server's base.
        alpha.engine.state.map!.version += 5
        let beta = network.node("beta", seed: 2)
        beta.up(authKey: network.secret)
        #expect(alpha.logs.contains { $0.text.contains("does not apply to map version") && $0.text.contains("reconnecting") })
        network.advance(.milliseconds(250))
        #expect(alpha.connects == 2, "reconnected at once, without backoff")
        #expect(alpha.peerNames == ["beta"], "the new session's full map has the peer")
        #expect(alpha.engine.isControlEstablished)
    }

    @Test func aSilentServerIsLeftAndRetriedWithBackoffUntilItAnswers() throws {
        let network = MeshNetwork()
        let alpha = network.node("alpha", seed: 1)
        alpha.up(authKey: network.secret)
        network.partitioned = true
        let cut = network.now.monotonic
        network.advance(.seconds(49))
        #expect(alpha.engine.isControlEstablished, "pings unanswered, but not yet 50 s of silence")
        network.advance(.seconds(2))
        #expect(!alpha.engine.isControlEstablished)
        #expect(alpha.engine.controlError == "the coordination server stopped answering")
        // Each attempt hangs until the 10 s connect timeout, then waits 1, 2, 4, 8 s (plus up to a quarter).
        network.advance(.seconds(90))
        let times = alpha.connectTimes.dropFirst().map { $0 - cut }
        #expect(times.count >= 5)
        var previous = Interval.seconds(50)
        for (index, time) in times.prefix(5).enumerated() {
            let wait = time - previous - (index == 0 ? .zero : .seconds(10))
            let backoff = Interval.seconds(1 << UInt64(index))
            #expect(wait >= backoff && wait <= backoff + backoff / 4 + .milliseconds(250), "attempt \(index + 1) waited \(wait)")
            previous = time
        }
        #expect(alpha.engine.stateName == "Running", "the cached map stays in force meanwhile")
        #expect(alpha.hostPlan != nil && alpha.peers.isEmpty)

        network.partitioned = false
        network.advance(.seconds(32))
        #expect(alpha.engine.isControlEstablished && alpha.engine.controlError == nil)
        #expect(alpha.engine.schedule.backoff == ControlLinkSchedule.minimumBackoff, "a login resets the backoff")
    }

    @Test func aRefusedKeyStopsTheRetriesAndTellsTernUp() {
        let network = MeshNetwork()
        let gamma = network.node("gamma", seed: 3)
        let answer = gamma.up(authKey: "tern-pre-auth-0000000000000000000000000000000000000000")
        #expect(answer?.status == 403)
        #expect(answer?.body["code"]?.string?.hasPrefix("auth-key") == true)
        #expect(!gamma.engine.state.wantRunning && !gamma.engine.state.loggedIn)
        let connects = gamma.connects
        network.advance(.seconds(120), step: .seconds(1))
        #expect(gamma.connects == connects, "no retries until the next tern up")
    }

    @Test func aDeletedNodeForgetsItsMapAndNeedsALogin() throws {
        let network = MeshNetwork()
        let alpha = network.node("alpha", seed: 1)
        let beta = network.node("beta", seed: 2)
        alpha.up(authKey: network.secret)
        beta.up(authKey: network.secret)
        #expect(network.server.apply(try network.journal.registry.deleteNode(id: beta.map!.node.id)))
        network.run()
        #expect(beta.map == nil && beta.peers.isEmpty && beta.hostPlan == nil)
        #expect(beta.engine.stateName == "NeedsLogin")
        #expect(alpha.peers.isEmpty, "the others drop it from their peers")
        let connects = beta.connects
        network.advance(.seconds(60), step: .seconds(1))
        #expect(beta.connects == connects)
    }

    @Test func mapChangesInABurstWriteTheStateAtMostOncePerSecond() {
        let network = MeshNetwork()
        let alpha = network.node("alpha", seed: 1)
        alpha.up(authKey: network.secret)
        network.advance(.seconds(2))
        var writes: [(at: MonotonicInstant, peers: Int)] = []
        alpha.stateWrites.removeAll()
        // Fifteen nodes join in three waves, a quarter second apart.
        var seed: UInt64 = 10
        for _ in 0..<3 {
            for _ in 0..<5 {
                let node = network.node("node-\(seed)", seed: seed)
                seed += 1
                node.request("POST", "/v1/up", ["authKey": .string(network.secret)])
            }
            network.advance(.milliseconds(250))
            for state in alpha.stateWrites { writes.append((network.now.monotonic, state.map?.peers.count ?? 0)) }
            alpha.stateWrites.removeAll()
        }
        network.advance(.seconds(2))
        for state in alpha.stateWrites { writes.append((network.now.monotonic, state.map?.peers.count ?? 0)) }
        #expect(alpha.peers.count == 15)
        #expect(writes.count == 2, "one write for the first wave, one for the rest: \(writes)")
        #expect(writes.last?.peers == 15)
        for (earlier, later) in zip(writes, writes.dropFirst()) { #expect(later.at - earlier.at >= .seconds(1)) }
    }

    @Test func aLocalSettingChangesAtOnceWithoutANewLogin() throws {
        let network = MeshNetwork()
        let alpha = network.node("alpha", seed: 1)
        alpha.up(authKey: network.secret)
        let (connects, closes) = (alpha.connects, alpha.closes)
        let answer = alpha.request("POST", "/v1/up", ["acceptRoutes": true, "snatSubnetRoutes": false]).answer
        guard case .respond(200, _) = answer else { Issue.record("answered \(answer)"); return }
        #expect(alpha.engine.state.acceptRoutes && !alpha.engine.state.snatSubnetRoutes)
        #expect(alpha.hostPlan?.masquerade == false, "applied at once")
        #expect(alpha.connects == connects && alpha.closes == closes, "no new session")

        // A new hostname is for the server to hear: a new login.
        #expect(alpha.up(extra: ["hostname": "alpha-2"])?.status == 200)
        #expect(alpha.connects == connects + 1)
    }

    @Test func aReconnectBeforeTheServerNoticedTakesOverTheSession() throws {
        let network = MeshNetwork()
        let alpha = network.node("alpha", seed: 1)
        let beta = network.node("beta", seed: 2)
        alpha.up(authKey: network.secret)
        beta.up(authKey: network.secret)
        let old = try #require(alpha.connection)
        // The node's connection dies without the server hearing (a NAT forgot it).
        alpha.cutOff = true
        alpha.engine.controlFailed("connection reset by peer", now: network.now)
        network.run()
        alpha.cutOff = false
        #expect(network.server.connectionCount == 2, "the server still holds the old connection")
        network.advance(.seconds(2))
        let new = try #require(alpha.connection)
        #expect(new != old && alpha.engine.isControlEstablished)
        #expect(network.server.connectionCount == 2 && network.server.loggedInNodes.count == 2, "the old one was closed")
        #expect(network.connections[old] == nil)
        #expect(beta.map?.peers.first?.online == true)
    }

    @Test func aRouterThatFallsSilentHandsItsRoutesToTheStandby() throws {
        let network = MeshNetwork()
        let lan = try IPPrefix("192.168.50.0/24")
        let first = network.node("router-1", seed: 1)
        let second = network.node("router-2", seed: 2)
        let laptop = network.node("laptop", seed: 3)
        for router in [first, second] {
            #expect(router.up(authKey: network.secret, extra: ["advertiseRoutes": ["192.168.50.0/24"]])?.status == 200)
            #expect(router.hostPlan?.subnetRoutes == [lan])
            #expect(network.server.apply(try network.journal.registry.approveRoutes(nodeID: router.map!.node.id, [lan])))
            network.run()
        }
        laptop.up(authKey: network.secret, extra: ["acceptRoutes": true])
        func router() -> String? {
            let key = laptop.peers.first { $0.allowedIPs.contains(lan) }?.nodeKey
            return laptop.map?.peers.first { $0.nodeKey == key }?.name
        }
        network.advance(.seconds(4))
        #expect(router() == "router-1" && laptop.hostPlan?.routes.contains(lan) == true)
        // The primary's uplink dies; it keeps pinging into the void every half second.
        first.cutOff = true
        network.advance(.milliseconds(2500))
        #expect(router() == "router-2", "the standby took over after the 2 s silence limit")
        #expect(laptop.hostPlan?.routes.contains(lan) == true)
        #expect(network.serverLogs.contains { $0.text.contains("subnet router router-1 fell silent") })
    }
}
