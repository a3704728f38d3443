import ControlProtocol
import IP
import JSON
import TernCrypto
import TestSupport
import Testing
@testable import Coordinator

/// Drives a registry with random operations (successful or not), keeping
/// every record and, at random points, a snapshot with the number of records
/// it covers.
struct RandomRun {
    var h: Harness
    var random: SplitMix64
    var now = start
    var snapshots: [(covered: Int, bytes: [UInt8])] = []
    var machines: [(machine: PublicKey, nodeKey: PublicKey)] = []
    var secrets: [String] = []

    init(seed: UInt64) {
        h = Harness(seed: seed, settings: testSettings(ipv4: "100.64.0.0/25", keyLifetime: 30 * day))
        random = SplitMix64(seed: seed ^ 0xfeed)
    }

    mutating func step() {
        now += Int64.random(in: 0...(day / 4), using: &random)
        let nodes = h.registry.allNodes
        let pick = nodes.isEmpty ? nil : nodes[Int.random(in: 0..<nodes.count, using: &random)]
        let users = ["alice", "bob", "carol"]
        switch Int.random(in: 0..<20, using: &random) {
        case 0:
            if let made = try? h.registry.createUser(name: users.randomElement(using: &random)!, now: now) { h.keep(made.changes) }
        case 1:
            // Rarely: deleting a user also deletes its keys.
            if random.chance(25), let changes = try? h.registry.deleteUser(name: users.randomElement(using: &random)!) {
                h.keep(changes)
            }
        case 2:
            let tags = random.chance(50) ? ["tag:t" + String(random.next() % 3)] : []
            let expiry: Int64? = random.chance(30) ? now + Int64.random(in: 1...(5 * day), using: &random) : nil
            if let made = try? h.registry.createPreAuthKey(user: users.randomElement(using: &random)!, reusable: random.chance(60),
                                                           expiresAt: expiry, tags: tags, now: now) {
                h.keep(made.changes)
                secrets.append(made.secret)
            }
        case 3:
            let keys = h.registry.allPreAuthKeys
            if !keys.isEmpty, let changes = try? h.registry.revokePreAuthKey(id: keys.randomElement(using: &random)!.id) {
                h.keep(changes)
            }
        case 4, 5, 6, 16, 17, 18, 19:
            guard !secrets.isEmpty else { return }
            let machine = randomKey(&random)
            let nodeKey = randomKey(&random)
            let endpoints = random.chance(50) ? [Endpoint(.v4(IPv4Address(192, 0, 2, UInt8(random.next() % 200))), port: 41641)] : []
            if outcome(h.login(machine, request(nodeKey, "Host " + String(random.next() % 5), key: secrets.randomElement(using: &random)!,
                                                endpoints: endpoints), now: now)) != nil {
                machines.append((machine, nodeKey))
            }
        case 7:
            guard !machines.isEmpty else { return }
            let index = Int.random(in: 0..<machines.count, using: &random)
            let (machine, nodeKey) = machines[index]
            if random.chance(50) || secrets.isEmpty {
                _ = h.login(machine, request(nodeKey), now: now)
            } else {
                let rotated = random.chance(50) ? randomKey(&random) : nodeKey
                if outcome(h.login(machine, request(rotated, key: secrets.randomElement(using: &random)!), now: now)) != nil {
                    machines[index] = (machine, rotated)
                }
            }
        case 8:
            if let pick, let changes = try? h.registry.renameNode(id: pick.id, to: "r" + String(random.next() % 20)) { h.keep(changes) }
        case 9:
            if let pick, random.chance(50) { h.keep(try! h.registry.deleteNode(id: pick.id)) }
        case 10:
            if let pick { h.keep(try! h.registry.updateEndpoints(nodeID: pick.id, [try! Endpoint("[2001:db8::1]:" + String(random.next() % 9000 + 1000))], now: now)) }
        case 11:
            if let pick { h.keep(try! h.registry.setOnline(nodeID: pick.id, random.chance(50), now: now)) }
        case 12:
            h.keep(h.registry.expireDue(now: now))
        case 13:
            if let pick { h.keep(try! h.registry.expireNode(id: pick.id, now: now)) }
        case 14:
            if let pick { h.keep(try! h.registry.setKeyExpiryDisabled(nodeID: pick.id, random.chance(50))) }
        default:
            if let changes = try? h.registry.setKeyLifetime(random.chance(20) ? nil : Int64.random(in: 1...60, using: &random) * day) {
                h.keep(changes)
            }
        }
        if random.chance(5) { snapshots.append((h.records.count, h.registry.snapshot())) }
    }
}

@Suite struct ReplayTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func replayEqualsLiveState(seed: UInt64) throws {
        var run = RandomRun(seed: seed)
        for _ in 0..<600 { run.step() }
        let live = run.h.registry
        let replayed = try Registry(snapshot: nil, records: run.h.records)
        #expect(text(replayed.snapshot()) == text(live.snapshot()))
        #expect(replayed.allNodes == live.allNodes)
        #expect(replayed.allUsers == live.allUsers)
        #expect(replayed.allPreAuthKeys == live.allPreAuthKeys)
        #expect(replayed.addresses == live.addresses)
        #expect(live.nodeCount > 0, "the run should leave some nodes")
        #expect(run.h.records.count > 150, "many steps should change something")
        for (covered, snapshot) in run.snapshots {
            let resumed = try Registry(snapshot: snapshot, records: Array(run.h.records[covered...]))
            #expect(text(resumed.snapshot()) == text(live.snapshot()), "from the snapshot after record \(covered)")
            #expect(resumed.allNodes == live.allNodes)
            #expect(resumed.addresses == live.addresses)
            #expect(resumed.nextExpiry == live.nextExpiry)
        }
        #expect(run.snapshots.count > 3)
    }

    @Test func recordsAreSmallJSONObjectsWithAnOp() throws {
        var run = RandomRun(seed: 9)
        for _ in 0..<300 { run.step() }
        var ops: Set<String> = []
        for record in run.h.records {
            let value = try JSONParser.parse(record)
            let op = try #require(value["op"]?.string)
            ops.insert(op)
            #expect(record.count < 1024)
        }
        #expect(ops.isSuperset(of: ["network", "createUser", "createKey", "register", "seen", "deleteNode"]))
    }

    @Test func badRecordsAreRefusedWithClearText() throws {
        var h = Harness()
        h.join(secret: h.key())
        let good = h.records
        func error(_ records: [[UInt8]], snapshot: [UInt8]? = nil) -> RegistryError? {
            do {
                _ = try Registry(snapshot: snapshot, records: records)
                return nil
            } catch {
                return error
            }
        }
        let garbage = error(good + [Array("{\"op\":".utf8)])
        #expect(garbage?.kind == .corruptState)
        #expect(garbage?.description.hasPrefix("record 5 of 5: not JSON") == true, "\(String(describing: garbage))")
        let unknown = error(good + [Array("{\"op\":\"fly\"}".utf8)])
        #expect(unknown?.description == "record 5 of 5: 'fly' record: unknown operation")
        let twice = error(good + [good[3]])
        #expect(twice?.description.contains("node id 1 was used before") == true, "\(String(describing: twice))")
        let missing = error(good + [Array("{\"op\":\"rename\",\"node\":7,\"name\":\"x\"}".utf8)])
        #expect(missing?.description == "record 5 of 5: no node 7")
        let noNetwork = error(Array(good[1...]))
        #expect(noNetwork?.description.contains("must start with the network settings") == true)
        #expect(error([])?.kind == .corruptState)
        let badSnapshot = error([], snapshot: Array("{\"format\":2}".utf8))
        #expect(badSnapshot?.description.hasPrefix("snapshot: format 2 is not supported") == true)
        #expect(error(good, snapshot: h.registry.snapshot()) != nil, "records already in the snapshot do not apply twice")
    }
}
