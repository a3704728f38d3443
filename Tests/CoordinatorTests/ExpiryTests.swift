import ControlProtocol
import TestSupport
import Testing
@testable import Coordinator

@Suite struct ExpiryTests {
    @Test func keysExpireAfter180DaysByDefault() throws {
        var h = Harness()
        let node = h.join(secret: h.key())
        #expect(node.keyExpiry == start + 180 * day)
        #expect(h.registry.nextExpiry == start + 180 * day)
        #expect(h.registry.map(for: node.id, version: 1)?.node.keyExpiry == start + 180 * day)
    }

    @Test func expiredNodeLeavesOtherMapsAndLogsInAgainWithACredential() throws {
        var h = Harness()
        let secret = h.key()
        var random = SplitMix64(seed: 4)
        let machine = randomKey(&random)
        let nodeKey = randomKey(&random)
        let old = try #require(outcome(h.login(machine, request(nodeKey, "old", key: secret)))).node
        let young = h.join("young", secret: secret, now: start + 10 * day)
        #expect(h.registry.map(for: young.id, version: 1)?.peers.map { $0.id } == [old.id])

        #expect(h.registry.expireDue(now: start + 180 * day - 1).isEmpty)
        let expired = h.registry.expireDue(now: start + 180 * day)
        h.keep(expired)
        #expect(expired.changedNodes == [old.id])
        #expect(expired.records.count == 1)
        #expect(h.registry.map(for: young.id, version: 2)?.peers.isEmpty == true)
        #expect(h.registry.map(for: old.id, version: 2) == nil)
        #expect(h.registry.node(id: old.id)?.expired == true, "an expired node stays registered")
        #expect(h.registry.nextExpiry == start + 190 * day)

        let before = h.registry.snapshot()
        #expect(failure(h.login(machine, request(nodeKey), now: start + 181 * day))?.code == .nodeKeyExpired)
        #expect(h.registry.snapshot() == before)

        let renewed = try #require(outcome(h.login(machine, request(nodeKey, key: secret), now: start + 181 * day))).node
        #expect(renewed.id == old.id)
        #expect(!renewed.expired)
        #expect(renewed.keyExpiry == start + 361 * day)
        #expect(h.registry.map(for: young.id, version: 3)?.peers.map { $0.id } == [old.id])
        #expect(try h.replayed().snapshot() == h.registry.snapshot())
    }

    @Test func resumeAfterTheExpiryTimeIsRefusedEvenBeforeExpireDue() throws {
        var h = Harness()
        var random = SplitMix64(seed: 4)
        let machine = randomKey(&random)
        let nodeKey = randomKey(&random)
        _ = try #require(outcome(h.login(machine, request(nodeKey, key: h.key()))))
        #expect(failure(h.login(machine, request(nodeKey), now: start + 180 * day))?.code == .nodeKeyExpired)
    }

    @Test func expiryCanBeDisabledPerNode() throws {
        var h = Harness()
        let secret = h.key()
        let kept = h.join("kept", secret: secret)
        let other = h.join("other", secret: secret, now: start + day)
        h.keep(try h.registry.setKeyExpiryDisabled(nodeID: kept.id, true))
        #expect(try h.registry.setKeyExpiryDisabled(nodeID: kept.id, true).isEmpty)
        #expect(h.registry.nextExpiry == start + 181 * day)
        #expect(h.registry.map(for: other.id, version: 1)?.peers.first?.keyExpiry == nil)
        h.keep(h.registry.expireDue(now: start + 400 * day))
        #expect(h.registry.node(id: kept.id)?.expired == false)
        #expect(h.registry.node(id: other.id)?.expired == true)
        // Enabled again, the stored expiry (long past) applies at the next check.
        h.keep(try h.registry.setKeyExpiryDisabled(nodeID: kept.id, false))
        #expect(h.registry.nextExpiry == start + 180 * day)
        h.keep(h.registry.expireDue(now: start + 400 * day))
        #expect(h.registry.node(id: kept.id)?.expired == true)
        #expect(try h.replayed().snapshot() == h.registry.snapshot())
    }

    @Test func adminExpiryTakesEffectAtOnce() throws {
        var h = Harness()
        let secret = h.key()
        let a = h.join("a", secret: secret)
        let b = h.join("b", secret: secret)
        h.keep(try h.registry.setKeyExpiryDisabled(nodeID: b.id, true))
        let changes = try h.registry.expireNode(id: b.id, now: start + 5)
        h.keep(changes)
        #expect(changes.changedNodes == [b.id])
        #expect(h.registry.map(for: a.id, version: 1)?.peers.isEmpty == true)
        #expect(h.registry.map(for: b.id, version: 1) == nil)
        #expect(h.registry.node(id: b.id)?.keyExpiry == start + 5)
        #expect(throws: RegistryError.self) { try h.registry.expireNode(id: 99, now: start) }
    }

    @Test func keyLifetimeIsConfigurable() throws {
        var h = Harness(settings: testSettings(keyLifetime: 7 * day))
        let secret = h.key()
        #expect(h.join(secret: secret).keyExpiry == start + 7 * day)
        h.keep(try h.registry.setKeyLifetime(nil))
        let forever = h.join(secret: secret)
        #expect(forever.keyExpiry == nil)
        #expect(h.registry.nextExpiry == start + 7 * day)
        #expect(throws: RegistryError.self) { try h.registry.setKeyLifetime(-1) }
        #expect(try h.replayed().settings.keyLifetime == nil)
    }
}
