import ControlProtocol
import JSON
import TestSupport
import Testing
@testable import Coordinator

/// Numbers from outside (admin requests, the command line, a node's hello,
/// the stored state) that would overflow are refused, never trapped on.
@Suite struct OverflowTests {
    private func expiry(_ json: String, now: Int64 = start) throws(RegistryError) -> Int64? {
        try PreAuthKeyExpiry.expiresAt(inSeconds: try! JSONParser.parse(#"{"x":"# + json + "}")["x"], now: now)
    }

    private func refusal(_ json: String, now: Int64 = start) -> RegistryError? {
        do {
            _ = try expiry(json, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test func preAuthKeyExpiryFromTheAdminAPI() throws {
        #expect(try PreAuthKeyExpiry.expiresAt(inSeconds: nil, now: start) == nil)
        #expect(try expiry("null") == nil)
        #expect(try expiry("3600") == start + 3600)
        #expect(try expiry(String(PreAuthKeyExpiry.latest - start)) == PreAuthKeyExpiry.latest)
        // Each of these trapped in `now + seconds`, or (not an Int64) silently made a key that never expires.
        for bad in [String(Int64.max), String(Int64.max - start + 1), "18446744073709551615", "99999999999999999999999",
                    String(PreAuthKeyExpiry.latest - start + 1), "1e30", "1.5", "-1", "0", String(Int64.min), "\"60\"", "true", "[]"] {
            let error = refusal(bad)
            #expect(error?.kind == .invalidArgument, "expiresInSeconds \(bad)")
        }
        #expect(refusal(String(Int64.max))?.description.contains("ends after 9999-12-31 23:59:59 UTC") == true)
        #expect(refusal("18446744073709551615")?.description.contains("whole number of seconds") == true)
        #expect(refusal("-5")?.description.contains("must be positive") == true)
        // A clock set absurdly late overflows the sum itself.
        #expect(refusal("10", now: Int64.max - 5)?.kind == .invalidArgument)
    }

    @Test func durationsOnTheCommandLine() {
        #expect(PreAuthKeyExpiry.seconds(fromDuration: "90s") == 90)
        #expect(PreAuthKeyExpiry.seconds(fromDuration: "30m") == 1800)
        #expect(PreAuthKeyExpiry.seconds(fromDuration: "12h") == 43_200)
        #expect(PreAuthKeyExpiry.seconds(fromDuration: "90d") == 90 * day)
        #expect(PreAuthKeyExpiry.seconds(fromDuration: "9223372036854775807s") == Int64.max)
        #expect(PreAuthKeyExpiry.seconds(fromDuration: "106751991167300d") == 106_751_991_167_300 * day)
        for bad in ["106751991167301d", "9223372036854775807m", "153722867280912931h", "99999999999999999999d",
                    "0d", "-5d", "d", "", "5w", "5"] {
            #expect(PreAuthKeyExpiry.seconds(fromDuration: bad) == nil, "duration \(bad)")
        }
    }

    @Test func keyLifetimeIsBoundedAndLoginsNeverOverflow() throws {
        var h = Harness()
        #expect(throws: RegistryError.self) { try h.registry.setKeyLifetime(Int64.max) }
        #expect(throws: RegistryError.self) { try h.registry.setKeyLifetime(NetworkSettings.maximumKeyLifetime + 1) }
        h.keep(try h.registry.setKeyLifetime(NetworkSettings.maximumKeyLifetime))
        // A login at the end of time gets the latest expiry there is, not a trap.
        let late = Int64.max - 10
        let node = h.join(secret: h.key(now: late), now: late)
        #expect(node.keyExpiry == Int64.max)
        #expect(try h.replayed().node(id: node.id)?.keyExpiry == Int64.max)
        #expect(CivilTime.format(Int64.max).hasSuffix(" UTC") && CivilTime.format(Int64.min).hasSuffix(" UTC"))
    }

    @Test func aNodeClaimingAHugeMapVersionStartsAgain() throws {
        var h = Harness()
        let node = h.join(secret: h.key())
        let cases = [(UInt64.max, UInt64(1)), (UInt64.max - 1, 1), (MapTracker.highestHeldVersion + 1, 1),
                     (MapTracker.highestHeldVersion, MapTracker.highestHeldVersion + 1)]
        for (index, (held, first)) in cases.enumerated() {
            var tracker = MapTracker()
            guard case .map(let map) = tracker.connect(nodeID: node.id, heldVersion: held, registry: h.registry) else {
                Issue.record("expected a map")
                continue
            }
            #expect(map.version == first, "held \(held)")
            let renamed = try h.registry.renameNode(id: node.id, to: "renamed-" + String(index))
            h.keep(renamed)
            let next = tracker.update(changedNodes: renamed.changedNodes, registry: h.registry)
            if case .map(let update) = next.first?.message { #expect(update.version == first + 1) }
            else { Issue.record("expected a full map for a lone node") }
        }
    }

    // Replaying a stored id of UInt64.max would trap on `id + 1`.
    @Test func storedIdsAtTheLimitAreCorruptNotFatal() throws {
        var h = Harness()
        #expect(throws: RegistryError.self) {
            _ = try h.registry.apply(.createUser(User(id: UInt64.max, name: "max", createdAt: start)))
        }
        _ = h.key()
        var key = try #require(h.registry.allPreAuthKeys.first)
        key.id = UInt64.max
        key.hash = String(repeating: "7", count: key.hash.utf8.count)
        #expect(throws: RegistryError.self) { _ = try h.registry.apply(.createKey(key)) }
    }
}
