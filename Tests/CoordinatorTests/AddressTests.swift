import ControlProtocol
import IP
import TernCrypto
import TestSupport
import Testing
@testable import Coordinator

@Suite struct AddressTests {
    @Test func fiveThousandNodesGetDistinctAddressesInRange() throws {
        var h = Harness()
        let secret = h.key()
        var ipv4s: Set<IPAddress> = []
        var ipv6s: Set<IPAddress> = []
        for i in 0..<5000 {
            let node = h.join("n" + String(i), secret: secret)
            ipv4s.insert(node.ipv4)
            ipv6s.insert(node.ipv6)
            #expect(h.registry.settings.ipv4Range.contains(node.ipv4))
            #expect(h.registry.settings.ipv6Range.contains(node.ipv6))
            guard case .v4(let v4) = node.ipv4 else { Issue.record("not IPv4"); continue }
            let low = v4.value & 0xff
            #expect(low != 0 && low != 255, "allocated \(node.ipv4)")
        }
        #expect(ipv4s.count == 5000)
        #expect(ipv6s.count == 5000)
        #expect(h.registry.addressUsage.inUse == 5000)
        #expect(h.registry.allNodes.first?.ipv4 == .v4(IPv4Address(100, 64, 0, 1)))
    }

    @Test func ipv6EmbedsIPv4() throws {
        var h = Harness()
        let node = h.join(secret: h.key())
        #expect(node.ipv4 == .v4(IPv4Address(100, 64, 0, 1)))
        #expect(node.ipv6 == (try IPAddress("fd12:3456:789a::6440:1")))
    }

    @Test func addressesSurviveSnapshotAndReplay() throws {
        var h = Harness(seed: 7)
        let secret = h.key()
        for i in 0..<300 { h.join("n" + String(i), secret: secret) }
        var random = SplitMix64(seed: 99)
        for node in h.registry.allNodes where random.chance(30) { h.keep(try h.registry.deleteNode(id: node.id)) }
        for i in 0..<50 { h.join("m" + String(i), secret: secret) }
        // With the newest node gone, the cursor is not any node's address: it must be stored.
        h.keep(try h.registry.deleteNode(id: h.registry.allNodes.last!.id))
        let live = h.registry.allNodes.map { [$0.id: [$0.ipv4, $0.ipv6]] }
        let replayed = try h.replayed()
        #expect(replayed.allNodes.map { [$0.id: [$0.ipv4, $0.ipv6]] } == live)
        let restored = try Registry(snapshot: h.registry.snapshot(), records: [])
        #expect(restored.allNodes.map { [$0.id: [$0.ipv4, $0.ipv6]] } == live)
        // The next allocation is the same in all three.
        var a = h
        var b = Harness(seed: 1234)
        b.registry = replayed
        var c = Harness(seed: 5678)
        c.registry = restored
        let next = a.join(secret: secret).ipv4
        #expect(b.join(secret: secret).ipv4 == next)
        #expect(c.join(secret: secret).ipv4 == next)
    }

    @Test func deletedAddressIsNotReusedUntilTheCursorComesRound() throws {
        var h = Harness(settings: testSettings(ipv4: "100.64.0.0/28"))  // .1 ... .14
        let secret = h.key()
        let first = h.join(secret: secret)
        let second = h.join(secret: secret)
        _ = h.join(secret: secret)
        h.keep(try h.registry.deleteNode(id: second.id))
        let fourth = h.join(secret: secret)
        #expect(fourth.ipv4 == .v4(IPv4Address(100, 64, 0, 4)), "a freed address comes back only after wraparound")
        #expect(first.ipv4 == .v4(IPv4Address(100, 64, 0, 1)))
        // Fill the rest (.5 ... .14); the next goes round and finds .2.
        for _ in 5...14 { h.join(secret: secret) }
        let wrapped = h.join(secret: secret)
        #expect(wrapped.ipv4 == second.ipv4)
        #expect(wrapped.id > second.id, "ids are never reused")
    }

    @Test func noAddressIsSharedWhileItsNodeExists() throws {
        var h = Harness(seed: 3, settings: testSettings(ipv4: "100.64.0.0/27"))
        let secret = h.key()
        var random = SplitMix64(seed: 5)
        for _ in 0..<400 {
            if h.registry.nodeCount > 0 && (random.chance(45) || h.registry.nodeCount == 30) {
                let nodes = h.registry.allNodes
                h.keep(try h.registry.deleteNode(id: nodes[Int.random(in: 0..<nodes.count, using: &random)].id))
            } else {
                h.join(secret: secret)
            }
            let addresses = h.registry.allNodes.map { $0.ipv4 }
            #expect(Set(addresses).count == addresses.count)
        }
    }

    @Test func exhaustionIsRefusedAndStoresNothing() throws {
        var h = Harness(settings: testSettings(ipv4: "100.64.0.0/29"))  // .1 ... .6
        let secret = h.key()
        for _ in 0..<6 { h.join(secret: secret) }
        let before = h.registry.snapshot()
        var random = SplitMix64(seed: 11)
        let result = h.login(randomKey(&random), request(randomKey(&random), key: secret))
        #expect(failure(result)?.code == .addressesExhausted)
        #expect(h.registry.snapshot() == before)
        #expect(h.registry.addressUsage == (6, 6))
    }

    @Test func largeRangesSkipDotZeroAndDot255() throws {
        var h = Harness(settings: testSettings(ipv4: "100.64.0.0/22"))  // 1024 - 4 * 2
        let secret = h.key()
        #expect(h.registry.addressUsage.total == 1016)
        for _ in 0..<1016 { h.join(secret: secret) }
        var random = SplitMix64(seed: 11)
        #expect(failure(h.login(randomKey(&random), request(randomKey(&random), key: secret)))?.code == .addressesExhausted)
    }

    @Test func theServiceAddressIsNeverAllocated() throws {
        var h = Harness(settings: testSettings(ipv4: "100.100.100.96/29"))  // .97 ... .102 without .100
        let secret = h.key()
        #expect(h.registry.addressUsage.total == 5)
        var seen: [IPAddress] = []
        for _ in 0..<5 { seen.append(h.join(secret: secret).ipv4) }
        #expect(!seen.contains(.v4(IPv4Address(100, 100, 100, 100))))
        #expect(seen.count == 5)
    }

    @Test func settingsAreValidated() throws {
        #expect(throws: RegistryError.self) { try Registry.newNetwork(settings: testSettings(ipv4: "100.64.0.0/31")) }
        #expect(throws: RegistryError.self) { try Registry.newNetwork(settings: testSettings(keyLifetime: 0)) }
        var settings = testSettings()
        settings.ipv6Range = try! IPPrefix("fd00::/96")
        #expect(throws: RegistryError.self) { try Registry.newNetwork(settings: settings) }
        // Ranges nodes would refuse to install are refused here first.
        for (ipv4, ipv6) in [("0.0.0.0/0", "fd00::/48"), ("127.0.0.0/8", "fd00::/48"), ("100.64.0.0/10", "::/0"),
                             ("100.64.0.0/10", "fd00::/16")] {
            settings.ipv4Range = try! IPPrefix(ipv4)
            settings.ipv6Range = try! IPPrefix(ipv6)
            #expect(throws: RegistryError.self, "\(ipv4) \(ipv6)") { try Registry.newNetwork(settings: settings) }
        }
        var random = SystemRandom()
        let generated = NetworkSettings.generate(random: &random)
        #expect(generated.ipv6Range.length == 48)
        #expect(try IPPrefix("fd00::/8").contains(generated.ipv6Range))
        #expect(generated.ipv4Range == (try IPPrefix("100.64.0.0/10")))
        #expect(generated.keyLifetime == Int64(180 * 86_400))
    }
}
