import ControlProtocol
import Coordinator
import Logging
import Policy
import Time

/// The node's side of the conversation, as the server answers it; and the
/// one way changes reach the journal and the nodes.
extension ServerCore {
    func handle(_ message: NodeMessage, on connection: ServerConnection, now: ServerTime) {
        switch message {
        case .login(let request):
            login(request, on: connection, now: now)
        case .endpoints(let endpoints):
            guard let nodeID = connection.nodeID else { return refuse(connection, notLoggedIn) }
            if let changes = try? journal.registry.updateEndpoints(nodeID: nodeID, endpoints, now: now.wall.seconds) {
                apply(changes)
            }
        case .logout:
            guard let nodeID = connection.nodeID else { return refuse(connection, notLoggedIn) }
            tracker.disconnect(nodeID: nodeID)
            sessionOfNode[nodeID] = nil
            connection.nodeID = nil
            if let changes = try? journal.registry.logout(nodeID: nodeID) {
                guard apply(changes) else { return }
                log(.info("node " + String(nodeID) + " logged out"))
            }
            deliver(.loggedOut, to: connection)
            finish(connection)
        case .ping(let number):
            deliver(.pong(number), to: connection)
        }
    }

    private func login(_ request: LoginRequest, on connection: ServerConnection, now: ServerTime) {
        guard connection.nodeID == nil, let machineKey = connection.machineKey else {
            return refuse(connection, ControlFailure(.badRequest, "already logged in on this connection"))
        }
        let outcome: LoginOutcome
        switch journal.registry.login(machineKey: machineKey, request: request, now: now.wall.seconds) {
        case .failure(let failure): return refuse(connection, failure)
        case .success(let success): outcome = success
        }
        let nodeID = outcome.node.id
        if let previous = sessionOfNode[nodeID], previous != connection.id {
            // The node reconnected before its old connection timed out: the new one takes over.
            connections[previous]?.nodeID = nil
            forget(previous, now: now, effect: .close(previous))
        }
        var changes = outcome.changes
        if let online = try? journal.registry.setOnline(nodeID: nodeID, true, now: now.wall.seconds) {
            changes.records += online.records
            changes.changedNodes += online.changedNodes
        }
        // Everyone else first: the new node gets its whole map below.
        guard apply(changes) else { return }
        if outcome.isNewNode { log(.info("registered node " + outcome.node.name + " (id " + String(nodeID) + ")")) }
        connection.nodeID = nodeID
        sessionOfNode[nodeID] = connection.id
        admission.loggedIn(token: connection.id)
        if let timestamp = connection.handshakeTimestamp {
            replayGuard.record(timestamp, for: machineKey, now: now.monotonic.nanoseconds)
        }
        let first = tracker.connect(nodeID: nodeID, heldVersion: request.mapVersion, registry: journal.registry)
        deliver(first, to: connection)
    }

    private var notLoggedIn: ControlFailure { ControlFailure(.loginRequired, "log in first") }

    func refuse(_ connection: ServerConnection, _ failure: ControlFailure) {
        deliver(.failure(failure), to: connection)
    }

    /// Records `changes` in the journal, then pushes map updates to every
    /// affected node. A journal that cannot be written stops the server
    /// (`failure`): acknowledging changes that would be lost on restart is
    /// worse than stopping. False when the changes could not be recorded.
    @discardableResult
    public func apply(_ changes: RegistryChanges) -> Bool {
        guard !changes.isEmpty else { return true }
        guard failure == nil else { return false }
        do { try journal.record(changes) } catch {
            log(.error("cannot write the state (" + error.description + "); stopping"))
            failure = error
            return false
        }
        push(changes.changedNodes)
        return true
    }

    /// Brings the connected nodes up to date after `changedNodes` changed;
    /// with a policy in force it is recompiled first if the change touched
    /// what it depends on (then who sees whom may change for anyone).
    public func push(_ changedNodes: [UInt64]) {
        let updates: [MapMessage]
        if let compiled = policy.recompile(journal.registry) {
            updates = tracker.update(changedNodes: changedNodes, registry: journal.registry, visibility: compiled.visibility,
                                     filters: compiled.filters)
        } else {
            updates = tracker.update(changedNodes: changedNodes, registry: journal.registry)
        }
        for update in updates {
            guard let id = sessionOfNode[update.nodeID], let connection = connections[id] else { continue }
            deliver(update.message, to: connection)
        }
    }

    /// Puts `policy` (parsed from `text`, checked and stored by the shell)
    /// in force: route approval follows it and every map is brought up to date.
    public func setPolicy(_ policy: Policy, text: String) {
        self.policy.replace(with: text, policy: policy)
        push(journal.registry.setRouteApprover(self.policy.routeApprover).changedNodes)
    }

    /// Nodes with a session now.
    public var loggedInNodes: [UInt64] { sessionOfNode.keys.sorted() }
}
