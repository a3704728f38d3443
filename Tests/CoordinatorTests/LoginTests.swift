import ControlProtocol
import IP
import TernCrypto
import TestSupport
import Testing
@testable import Coordinator

@Suite struct PreAuthKeyTests {
    @Test func secretsAreWellFormedAndOnlyTheirHashIsStored() throws {
        var h = Harness()
        h.user("alice")
        let made = try h.registry.createPreAuthKey(user: "alice", reusable: false, expiresAt: nil, tags: [], now: start)
        #expect(made.secret.hasPrefix("tern-auth-"))
        #expect(made.secret.utf8.count == 10 + 48)
        #expect(PreAuthKeySecret.isWellFormed(made.secret))
        #expect(made.key.prefix == String(made.secret.prefix(18)))
        #expect(made.key.hash == PreAuthKeySecret.hash(made.secret))
        let snapshot = text(h.registry.snapshot())
        #expect(!snapshot.contains(made.secret))
        #expect(!text(made.changes.records[0]).contains(made.secret))
        #expect(!PreAuthKeySecret.isWellFormed("tern-auth-" + String(repeating: "G", count: 48)))
        #expect(!PreAuthKeySecret.isWellFormed("tern-auth-00"))
    }

    @Test func oneOffKeyWorksOnce() throws {
        var h = Harness()
        let secret = h.key(reusable: false)
        h.join(secret: secret)
        let before = h.registry.snapshot()
        var random = SplitMix64(seed: 9)
        let result = h.login(randomKey(&random), request(randomKey(&random), key: secret))
        #expect(failure(result)?.code == .authKeyUsed)
        #expect(failure(result)?.message.contains("ask an admin") == true)
        #expect(h.registry.snapshot() == before)
        #expect(h.registry.allPreAuthKeys[0].useCount == 1)
    }

    @Test func reusableKeyCountsUses() throws {
        var h = Harness()
        let secret = h.key(reusable: true)
        for _ in 0..<3 { h.join(secret: secret) }
        #expect(h.registry.allPreAuthKeys[0].useCount == 3)
        #expect(try h.replayed().allPreAuthKeys[0].useCount == 3)
    }

    @Test func revokedKeyIsRefused() throws {
        var h = Harness()
        let secret = h.key()
        h.join(secret: secret)
        h.keep(try h.registry.revokePreAuthKey(id: 1))
        #expect(try h.registry.revokePreAuthKey(id: 1).isEmpty, "revoking twice stores nothing")
        let before = h.registry.snapshot()
        var random = SplitMix64(seed: 9)
        #expect(failure(h.login(randomKey(&random), request(randomKey(&random), key: secret)))?.code == .authKeyRevoked)
        #expect(h.registry.snapshot() == before)
        #expect(h.registry.nodeCount == 1, "nodes made with a revoked key stay")
        #expect(throws: RegistryError.self) { try h.registry.revokePreAuthKey(id: 42) }
    }

    @Test func expiredKeyIsRefused() throws {
        var h = Harness()
        let secret = h.key(expiresAt: start + 10)
        h.join(secret: secret, now: start + 9)
        let before = h.registry.snapshot()
        var random = SplitMix64(seed: 9)
        let result = h.login(randomKey(&random), request(randomKey(&random), key: secret), now: start + 10)
        #expect(failure(result)?.code == .authKeyExpired)
        #expect(failure(result)?.message.contains("2026-01-01 00:00:10 UTC") == true)
        #expect(h.registry.snapshot() == before)
        #expect(throws: RegistryError.self) {
            try h.registry.createPreAuthKey(user: "alice", reusable: true, expiresAt: start, tags: [], now: start)
        }
    }

    @Test func unknownKeysAreInvalid() throws {
        var h = Harness()
        _ = h.key()
        let before = h.registry.snapshot()
        var random = SplitMix64(seed: 9)
        for bad in [PreAuthKeySecret.make(randomBytes: [UInt8](repeating: 7, count: 24)), "hello", ""] {
            #expect(failure(h.login(randomKey(&random), request(randomKey(&random), key: bad)))?.code == .authKeyInvalid)
        }
        #expect(h.registry.snapshot() == before)
    }

    @Test func tagsComeFromTheKey() throws {
        var h = Harness()
        let secret = h.key(tags: ["tag:server", "tag:db", "tag:server"])
        let node = h.join(secret: secret)
        #expect(node.tags == ["tag:server", "tag:db"])
        #expect(h.registry.map(for: node.id, version: 1)?.node.tags == ["tag:server", "tag:db"])
        for bad in ["server", "tag:", "tag:Server", "tag:9x", "tag:a b"] {
            #expect(throws: RegistryError.self) {
                try h.registry.createPreAuthKey(user: "alice", reusable: true, expiresAt: nil, tags: [bad], now: start)
            }
        }
        #expect(throws: RegistryError.self) {
            try h.registry.createPreAuthKey(user: "nobody", reusable: true, expiresAt: nil, tags: [], now: start)
        }
    }
}

@Suite struct LoginTests {
    @Test func knownMachineResumesWithoutCredential() throws {
        var h = Harness()
        let secret = h.key()
        var random = SplitMix64(seed: 2)
        let machine = randomKey(&random)
        let nodeKey = randomKey(&random)
        let first = try #require(outcome(h.login(machine, request(nodeKey, "pi", key: secret))))
        #expect(first.isNewNode)
        let endpoint = try Endpoint("192.0.2.1:41641")
        let again = try #require(outcome(h.login(machine, request(nodeKey, "other-name", endpoints: [endpoint]), now: start + 60)))
        #expect(!again.isNewNode)
        #expect(again.node.id == first.node.id)
        #expect(again.node.name == "pi")
        #expect(again.node.endpoints == [endpoint])
        #expect(again.node.lastSeen == start + 60)
        #expect(again.changes.changedNodes == [first.node.id])
    }

    @Test func unregisteredAndDeletedMachinesNeedACredential() throws {
        var h = Harness()
        let secret = h.key()
        var random = SplitMix64(seed: 2)
        let machine = randomKey(&random)
        let nodeKey = randomKey(&random)
        #expect(failure(h.login(machine, request(nodeKey)))?.code == .loginRequired)
        let node = try #require(outcome(h.login(machine, request(nodeKey, key: secret)))).node
        h.keep(try h.registry.logout(nodeID: node.id))
        let before = h.registry.snapshot()
        #expect(failure(h.login(machine, request(nodeKey)))?.code == .nodeDeleted)
        #expect(h.registry.snapshot() == before)
        let back = try #require(outcome(h.login(machine, request(nodeKey, key: secret))))
        #expect(back.isNewNode && back.node.id != node.id)
    }

    @Test func newNodeKeyNeedsACredential() throws {
        var h = Harness()
        let secret = h.key()
        var random = SplitMix64(seed: 2)
        let machine = randomKey(&random)
        let node = try #require(outcome(h.login(machine, request(randomKey(&random), "pi", key: secret)))).node
        let before = h.registry.snapshot()
        let rotated = randomKey(&random)
        #expect(failure(h.login(machine, request(rotated)))?.code == .loginRequired)
        #expect(h.registry.snapshot() == before)
        let relogin = try #require(outcome(h.login(machine, request(rotated, "renamed-host", key: secret), now: start + day)))
        #expect(relogin.node.id == node.id)
        #expect(relogin.node.nodeKey == rotated)
        #expect(relogin.node.name == "pi", "re-login keeps the name")
        #expect(relogin.node.keyExpiry == start + day + NetworkSettings.defaultKeyLifetime)
    }

    @Test func nodeKeyOfAnotherMachineIsRefused() throws {
        var h = Harness()
        let secret = h.key()
        var random = SplitMix64(seed: 2)
        let shared = randomKey(&random)
        _ = try #require(outcome(h.login(randomKey(&random), request(shared, key: secret))))
        let before = h.registry.snapshot()
        #expect(failure(h.login(randomKey(&random), request(shared, key: secret)))?.code == .badRequest)
        #expect(failure(h.login(PublicKey(bytes: Bytes32(repeating: 0)), request(randomKey(&random), key: secret)))?.code == .badRequest)
        #expect(h.registry.snapshot() == before)
    }

    @Test func reloginWithAnotherUsersKeyMovesTheNode() throws {
        var h = Harness()
        let alice = h.key(for: "alice", tags: ["tag:a"])
        let bob = h.key(for: "bob", tags: ["tag:b"])
        var random = SplitMix64(seed: 2)
        let machine = randomKey(&random)
        let nodeKey = randomKey(&random)
        _ = try #require(outcome(h.login(machine, request(nodeKey, key: alice))))
        let moved = try #require(outcome(h.login(machine, request(nodeKey, key: bob)))).node
        #expect(h.registry.user(id: moved.user)?.name == "bob")
        #expect(moved.tags == ["tag:b"])
        #expect(h.registry.preAuthKey(id: 2)?.useCount == 1)
    }

    @Test func namesComeFromHostnamesAndAreUnique() throws {
        var h = Harness()
        let secret = h.key()
        #expect(h.join("Raspberry Pi", secret: secret).name == "raspberry-pi")
        #expect(h.join("raspberry_pi", secret: secret).name == "raspberry-pi-1")
        #expect(h.join("RASPBERRY-PI.lan", secret: secret).name == "raspberry-pi-2")
        #expect(h.join("", secret: secret).name == "node")
        #expect(h.join("---", secret: secret).name == "node-1")
        let long = String(repeating: "x", count: 80)
        let first = h.join(long, secret: secret).name
        let second = h.join(long, secret: secret).name
        #expect(first == String(repeating: "x", count: 63))
        #expect(second == String(repeating: "x", count: 61) + "-1")
    }

    @Test func nameRules() {
        #expect(Names.nodeName(fromHostname: "  My__Laptop!!  ") == "my-laptop")
        #expect(Names.nodeName(fromHostname: "a.b.c") == "a")
        #expect(Names.nodeName(fromHostname: "Ünïcode-box") == "n-code-box")
        #expect(Names.isValidNodeName("web-1"))
        #expect(!Names.isValidNodeName("-web"))
        #expect(!Names.isValidNodeName("Web"))
        #expect(!Names.isValidNodeName(String(repeating: "a", count: 64)))
        #expect(Names.isValidUserName("alice@example.com"))
        #expect(!Names.isValidUserName("alice smith"))
        #expect(Names.isValidTag("tag:web-1"))
    }
}
