import ControlProtocol
import ControlServer
import Coordinator
import CoordinatorStore
import IP
import JSON
import Linux
import LocalAPI
import Policy
import TernCrypto
import WireGuard

/// The admin API on the Unix socket (`tern-control` subcommands and
/// `curl --unix-socket` use it). Reads answer with `{"json": ..., "text": ...}`
/// so the CLI prints either form; changes are journaled and pushed before
/// the answer.
extension ControlService {
    func answerAdmin(_ request: LocalAPIRequest) -> LocalAPIAnswer {
        let now = Clock.wallClock().seconds
        let body = request.body
        switch (request.method, request.path) {
        case ("GET", "/v1/policy"):
            return .ok(["text": core.policy.text.map { .string($0) } ?? nil])
        case ("POST", "/v1/policy"):
            return setPolicy(body)
        default:
            break
        }
        do throws(RegistryError) {
            switch (request.method, request.path) {
            case ("GET", "/v1/status"):
                return .ok(statusDocument(now: now))
            case ("GET", "/v1/nodes"):
                return .ok(["json": store.registry.nodesJSON(), "text": .string(store.registry.nodesTable(now: now))])
            case ("GET", "/v1/users"):
                return .ok(["json": store.registry.usersJSON(), "text": .string(store.registry.usersTable())])
            case ("GET", "/v1/preauthkeys"):
                return .ok(["json": store.registry.preAuthKeysJSON(now: now),
                            "text": .string(store.registry.preAuthKeysTable(now: now))])
            case ("GET", "/v1/routes"):
                return .ok(["json": store.registry.routesJSON(), "text": .string(store.registry.routesTable())])
            case ("POST", "/v1/routes/approve"), ("POST", "/v1/routes/reject"):
                let id = try nodeID(body)
                let approve = request.path.hasSuffix("approve")
                var prefixes: [IPPrefix] = []
                if body["all"]?.bool == true {
                    prefixes = store.registry.node(id: id)!.advertisedRoutes
                    if prefixes.isEmpty { return invalid("node " + store.registry.node(id: id)!.name + " advertises no routes") }
                } else {
                    guard let list = body["prefixes"]?.array, !list.isEmpty else { return missing("prefixes") }
                    for item in list {
                        guard let text = item.string, let prefix = try? IPPrefix(text) else {
                            return invalid("prefixes must be strings like 192.168.10.0/24")
                        }
                        prefixes.append(prefix)
                    }
                }
                let changes = approve ? try store.registry.approveRoutes(nodeID: id, prefixes)
                                      : try store.registry.rejectRoutes(nodeID: id, prefixes)
                if !changes.isEmpty {
                    ControlService.log((approve ? "approved " : "rejected ") + prefixes.map { $0.description }.joined(separator: ", ")
                                       + " for node " + store.registry.node(id: id)!.name)
                }
                return done(changes, [approve ? "approved" : "rejected": .array(prefixes.map { .string($0.description) })])
            case ("POST", "/v1/nodes/rename"):
                let id = try nodeID(body)
                guard let name = body["name"]?.string else { return missing("name") }
                return done(try store.registry.renameNode(id: id, to: name), ["renamed": .string(name)])
            case ("POST", "/v1/nodes/expire"):
                return done(try store.registry.expireNode(id: try nodeID(body), now: now), ["expired": true])
            case ("POST", "/v1/nodes/expiry"):
                guard let disabled = body["disabled"]?.bool else { return missing("disabled") }
                return done(try store.registry.setKeyExpiryDisabled(nodeID: try nodeID(body), disabled),
                            ["keyExpiryDisabled": .bool(disabled)])
            case ("POST", "/v1/nodes/delete"):
                return done(try store.registry.deleteNode(id: try nodeID(body)), ["deleted": true])
            case ("POST", "/v1/users/create"):
                guard let name = body["name"]?.string else { return missing("name") }
                let created = try store.registry.createUser(name: name, now: now)
                return done(created.changes, store.registry.adminJSON(user: created.user))
            case ("POST", "/v1/users/delete"):
                guard let name = body["name"]?.string else { return missing("name") }
                return done(try store.registry.deleteUser(name: name), ["deleted": .string(name)])
            case ("POST", "/v1/preauthkeys/create"):
                guard let user = body["user"]?.string else { return missing("user") }
                // Checked: a huge or malformed value is a 400, not a trap or a key that never expires.
                let expiresAt = try PreAuthKeyExpiry.expiresAt(inSeconds: body["expiresInSeconds"], now: now)
                var tags: [String] = []
                for tag in body["tags"]?.array ?? [] {
                    guard let text = tag.string else { return invalid("tags must be strings") }
                    tags.append(text)
                }
                var random = SystemRandom()
                let created = try store.registry.createPreAuthKey(
                    user: user, reusable: body["reusable"]?.bool ?? false, expiresAt: expiresAt, tags: tags, now: now,
                    random: &random)
                return done(created.changes, store.registry.adminJSON(key: created.key, now: now, secret: created.secret))
            case ("POST", "/v1/preauthkeys/revoke"):
                guard let id = body["id"]?.uint64 else { return missing("id") }
                return done(try store.registry.revokePreAuthKey(id: id), ["revoked": .number(JSONNumber(id))])
            default:
                return .notFound(request.path)
            }
        } catch {
            let status: Int
            switch error.kind {
            case .notFound: status = 404
            case .conflict: status = 409
            case .invalidArgument: status = 400
            default: status = 500
            }
            return .error(status: status, message: error.description, code: "refused")
        }
    }

    /// Checks a policy and, unless it is a dry run, puts it in force: a
    /// policy that does not parse, names unknown things or fails its own
    /// tests is refused and the old one stays.
    private func setPolicy(_ body: JSONValue) -> LocalAPIAnswer {
        guard let text = body["text"]?.string else { return missing("text") }
        let checked: (Policy, PolicyCheckReport)
        do { checked = try ServerPolicy.check(text, registry: store.registry) } catch {
            return .error(status: 400, message: "policy refused: " + error.description, code: "invalid-policy")
        }
        let (parsed, report) = checked
        let passed = report.failures.isEmpty
        if body["dryRun"]?.bool == true {
            return .ok(["passed": .bool(passed), "report": .string(report.description)])
        }
        guard passed else {
            return .error(status: 400, message: "policy refused: its tests fail; the old policy stays\n" + report.description,
                          code: "policy-tests-failed")
        }
        do { try PolicyFile.store(text, directory: stateDirectory) } catch {
            return .error(status: 500, message: error.description, code: "storage")
        }
        core.setPolicy(parsed, text: text)
        ControlService.log("policy updated")
        return .ok(["passed": true, "report": .string(report.description)])
    }

    /// A node given by id or name.
    private func nodeID(_ body: JSONValue) throws(RegistryError) -> UInt64 {
        if let id = body["node"]?.uint64, store.registry.node(id: id) != nil { return id }
        if let name = body["node"]?.string {
            if let node = store.registry.node(named: name) { return node.id }
            if let id = UInt64(name), store.registry.node(id: id) != nil { return id }
            throw RegistryError(.notFound, "no node named '" + name + "'")
        }
        throw RegistryError(.notFound, "no such node (give its id or name)")
    }

    private func done(_ changes: RegistryChanges, _ answer: JSONValue) -> LocalAPIAnswer {
        guard core.apply(changes) else {
            return .error(status: 500, message: "the state could not be written; the server is stopping", code: "storage")
        }
        return .ok(answer)
    }

    private func missing(_ name: String) -> LocalAPIAnswer {
        .error(status: 400, message: "missing '" + name + "'", code: "bad-request")
    }

    private func invalid(_ message: String) -> LocalAPIAnswer {
        .error(status: 400, message: message, code: "bad-request")
    }

    func statusDocument(now: Int64) -> JSONValue {
        let registry = store.registry
        var online = 0
        for node in registry.allNodes where registry.isOnline(node.id) { online += 1 }
        let usage = registry.addressUsage
        return ["version": .string(TernControl.version), "publicKey": .string(core.responder.identity.publicKey.base64),
                "listen": .string(listener.endpoint.description), "nodes": .number(JSONNumber(registry.nodeCount)),
                "online": .number(JSONNumber(online)), "users": .number(JSONNumber(registry.allUsers.count)),
                "connections": .number(JSONNumber(core.connectionCount)),
                "connectionsNotLoggedIn": .number(JSONNumber(core.admission.unauthenticatedCount)),
                "connectionBudgetFull": .bool(core.admission.isFull),
                "connectionsRefused": .number(JSONNumber(core.admission.refusedCount)),
                "connectionsEvicted": .number(JSONNumber(core.admission.evictedCount)),
                "connectionsExpired": .number(JSONNumber(core.admission.expiredCount)),
                "handshakesRateLimited": .number(JSONNumber(core.handshakeRate.refusedCount)),
                "ipv4Range": .string(registry.settings.ipv4Range.description),
                "ipv6Range": .string(registry.settings.ipv6Range.description),
                "addressesInUse": .number(JSONNumber(usage.inUse)),
                "journalRecords": .number(JSONNumber(store.journalRecords)),
                "stateWarnings": .array(store.warnings.map { .string($0) }),
                "uptimeSeconds": .number(JSONNumber(now - startedAt))]
    }
}
