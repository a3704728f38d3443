import ControlProtocol
import Foundation
import IP
import TernCrypto
import TestSupport
import Testing
@testable import Coordinator

/// 2026-01-01 00:00:00 UTC, the tests' "now".
let start: Int64 = 1_767_225_600

/// A day in seconds.
let day: Int64 = 86_400

/// Settings with a fixed ULA, so tests can name addresses.
func testSettings(ipv4: String = "100.64.0.0/10", keyLifetime: Int64? = NetworkSettings.defaultKeyLifetime) -> NetworkSettings {
    NetworkSettings(ipv4Range: try! IPPrefix(ipv4), ipv6Range: NetworkSettings.uniqueLocalPrefix(globalID: 0x12_3456_789a),
                    keyLifetime: keyLifetime)
}

/// A public key made of 32 bytes from `random` (it need not be a curve point here).
func randomKey(_ random: inout SplitMix64) -> PublicKey {
    var bytes = Bytes32(repeating: 0)
    withUnsafeMutableBytes(of: &bytes) { random.fill($0) }
    return PublicKey(bytes: bytes)
}

/// A login request.
func request(_ nodeKey: PublicKey, _ hostname: String = "host", key: String? = nil,
             endpoints: [Endpoint] = [], routes: [IPPrefix] = []) -> LoginRequest {
    LoginRequest(nodeKey: nodeKey, hostname: hostname, credential: key.map { .preAuthKey($0) } ?? LoginCredential.none,
                 endpoints: endpoints, mapVersion: 0, advertisedRoutes: routes)
}

/// The failure of `result`, or nil if it succeeded.
func failure(_ result: LoginResult) -> ControlFailure? {
    if case .failure(let failure) = result { return failure }
    return nil
}

/// The outcome of `result`, or nil if it failed.
func outcome(_ result: LoginResult) -> LoginOutcome? {
    if case .success(let outcome) = result { return outcome }
    return nil
}

/// A registry plus every record it produced since it was created, and a
/// deterministic source of keys.
struct Harness {
    var registry: Registry
    var records: [[UInt8]]
    var random: SplitMix64

    init(seed: UInt64 = 1, settings: NetworkSettings = testSettings()) {
        let created = try! Registry.newNetwork(settings: settings)
        registry = created.registry
        records = created.changes.records
        random = SplitMix64(seed: seed)
    }

    mutating func keep(_ changes: RegistryChanges) { records += changes.records }

    @discardableResult
    mutating func user(_ name: String, now: Int64 = start) -> User {
        let made = try! registry.createUser(name: name, now: now)
        keep(made.changes)
        return made.user
    }

    /// A new pre-auth key for `user` (created if missing); returns the secret.
    mutating func key(for user: String = "alice", reusable: Bool = true, expiresAt: Int64? = nil, tags: [String] = [],
                      now: Int64 = start) -> String {
        if registry.user(named: user) == nil { self.user(user, now: now) }
        let made = try! registry.createPreAuthKey(user: user, reusable: reusable, expiresAt: expiresAt, tags: tags, now: now)
        keep(made.changes)
        return made.secret
    }

    /// Logs in and keeps the records if it worked.
    mutating func login(_ machine: PublicKey, _ request: LoginRequest, now: Int64 = start) -> LoginResult {
        let result = registry.login(machineKey: machine, request: request, now: now)
        if let done = outcome(result) { keep(done.changes) }
        return result
    }

    /// Registers a new machine with `secret`; the test fails if it does not work.
    @discardableResult
    mutating func join(_ hostname: String = "host", secret: String, now: Int64 = start, routes: [IPPrefix] = [],
                       sourceLocation: SourceLocation = #_sourceLocation) -> Node {
        let machine = randomKey(&random)
        let nodeKey = randomKey(&random)
        let result = login(machine, request(nodeKey, hostname, key: secret, routes: routes), now: now)
        guard let done = outcome(result) else {
            Issue.record("join failed: \(String(describing: failure(result)))", sourceLocation: sourceLocation)
            return registry.allNodes[0]
        }
        return done.node
    }

    /// The registry rebuilt from the records alone.
    func replayed() throws -> Registry { try Registry(snapshot: nil, records: records) }
}

/// A fresh directory under the system's temporary directory; remove it with `removeDirectory`.
func makeDirectory() -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tern-coordinator-" + UUID().uuidString).path
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Removes `path` and everything in it.
func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// The text of a snapshot, for readable comparisons.
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

extension Registry {
    /// `createPreAuthKey` with the system's randomness, as tern-control calls it.
    mutating func createPreAuthKey(user: String, reusable: Bool, expiresAt: Int64?, tags: [String], now: Int64)
        throws(RegistryError) -> (key: PreAuthKey, secret: String, changes: RegistryChanges)
    {
        var random = SystemRandom()
        return try createPreAuthKey(user: user, reusable: reusable, expiresAt: expiresAt, tags: tags, now: now, random: &random)
    }
}
