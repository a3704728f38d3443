import Foundation
import JSON
import TestSupport
import Testing
@testable import Coordinator

@Suite struct AdminOutputTests {
    @Test func civilTimeKnownValues() {
        #expect(CivilTime.format(0) == "1970-01-01 00:00:00 UTC")
        #expect(CivilTime.format(951_782_400) == "2000-02-29 00:00:00 UTC")
        #expect(CivilTime.format(1_795_269_785) == "2026-11-21 14:03:05 UTC")
        #expect(CivilTime.format(-1) == "1969-12-31 23:59:59 UTC")
        #expect(CivilTime.format(4_107_542_399) == "2100-02-28 23:59:59 UTC")
        #expect(CivilTime.format(4_107_542_400) == "2100-03-01 00:00:00 UTC")
    }

    @Test func civilTimeAgreesWithFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        var random = SplitMix64(seed: 77)
        for _ in 0..<2000 {
            let seconds = Int64.random(in: -2_000_000_000...8_000_000_000, using: &random)
            #expect(CivilTime.format(seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        }
    }

    @Test func tablesAlignTheirColumns() throws {
        var h = Harness()
        let secret = h.key(tags: ["tag:web"])
        h.join("a", secret: secret)
        let long = h.join("a-much-longer-name", secret: secret)
        h.keep(try h.registry.setOnline(nodeID: long.id, true, now: start))
        let lines = h.registry.nodesTable(now: start).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("ID  NAME                USER   IPV4"))
        let column = try #require(lines[0].range(of: "USER")).lowerBound.utf16Offset(in: lines[0])
        for line in lines[1...] {
            #expect(line.contains("alice"))
            #expect(try #require(line.range(of: "alice")).lowerBound.utf16Offset(in: line) == column)
            #expect(!line.hasSuffix(" "))
        }
        #expect(lines[2].contains("online") && lines[1].contains("offline"))
        #expect(lines[1].contains("2026-06-30 00:00:00 UTC"), "key expiry 180 days after 2026-01-01")
        let keys = h.registry.preAuthKeysTable(now: start)
        #expect(keys.contains("tern-auth-") && keys.contains("valid") && keys.contains("tag:web"))
        #expect(!keys.contains(secret))
        #expect(h.registry.usersTable().hasPrefix("ID  NAME   NODES  CREATED\n1   alice  2      2026-01-01 00:00:00 UTC\n"))
    }

    @Test func jsonForms() throws {
        var h = Harness()
        h.user("alice")
        let made = try h.registry.createPreAuthKey(user: "alice", reusable: false, expiresAt: start + 60, tags: ["tag:db"], now: start)
        h.keep(made.changes)
        let shown = h.registry.adminJSON(key: made.key, now: start, secret: made.secret)
        #expect(shown["key"]?.string == made.secret)
        #expect(shown["status"]?.string == "valid")
        #expect(shown["expiresAt"]?.int64 == start + 60)
        #expect(shown["user"]?.string == "alice")
        let listed = h.registry.preAuthKeysJSON(now: start + 60)
        #expect(listed[0]?["key"] == nil, "the secret is shown only at creation")
        #expect(listed[0]?["status"]?.string == "expired")

        let node = h.join("db", secret: made.secret)
        h.keep(try h.registry.setKeyExpiryDisabled(nodeID: node.id, true))
        let nodes = h.registry.nodesJSON()
        #expect(nodes.count == 1)
        let first = try #require(nodes[0])
        #expect(first["name"]?.string == "db")
        #expect(first["ipv4"]?.string == "100.64.0.1")
        #expect(first["tags"] == ["tag:db"])
        #expect(first["keyExpiry"] == JSONValue.null)
        #expect(first["expiryDisabled"]?.bool == true)
        #expect(first["online"]?.bool == false)
        #expect(first["createdAt"]?.int64 == start)
        #expect(first["machineKey"]?.string == node.machineKey.base64)
        #expect(h.registry.usersJSON() == [["id": 1, "name": "alice", "createdAt": .integer(start), "nodes": 1]])
        #expect(h.registry.preAuthKeysJSON(now: start)[0]?["status"]?.string == "used")
    }
}
