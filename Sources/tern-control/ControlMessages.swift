import ControlProtocol
import Coordinator
import Linux

/// The node's side of the conversation, as the server answers it.
extension ControlService {
    func handle(_ message: NodeMessage, on connection: NodeConnection, now: UInt64) {
        let wallNow = Clock.wallClock().seconds
        switch message {
        case .login(let request):
            guard connection.nodeID == nil, let machineKey = connection.machineKey else {
                refuse(connection, ControlFailure(.badRequest, "already logged in on this connection"))
                return
            }
            switch store.registry.login(machineKey: machineKey, request: request, now: wallNow) {
            case .failure(let failure):
                refuse(connection, failure)
            case .success(let outcome):
                let nodeID = outcome.node.id
                if let previous = sessionOfNode[nodeID], previous != connection.token {
                    // The node reconnected before its old connection timed out.
                    connections[previous]?.nodeID = nil
                    drop(previous)
                }
                var changes = outcome.changes
                if let online = try? store.registry.setOnline(nodeID: nodeID, true, now: wallNow) {
                    changes.records += online.records
                    changes.changedNodes += online.changedNodes
                }
                // Everyone else first: the new node gets its whole map below.
                guard commitAndPush(changes) else { return }
                if outcome.isNewNode {
                    ControlService.log("registered node " + outcome.node.name + " (id " + String(nodeID) + ")")
                }
                connection.nodeID = nodeID
                sessionOfNode[nodeID] = connection.token
                admission.loggedIn(token: connection.token)
                if let timestamp = connection.handshakeTimestamp {
                    replayGuard.record(timestamp, for: machineKey, now: now)
                }
                let first = tracker.connect(nodeID: nodeID, heldVersion: request.mapVersion, registry: store.registry)
                deliver(first, to: connection)
            }
        case .endpoints(let endpoints):
            guard let nodeID = connection.nodeID else { return refuse(connection, notLoggedIn) }
            if let changes = try? store.registry.updateEndpoints(nodeID: nodeID, endpoints, now: wallNow) {
                commitAndPush(changes)
            }
        case .logout:
            guard let nodeID = connection.nodeID else { return refuse(connection, notLoggedIn) }
            tracker.disconnect(nodeID: nodeID)
            sessionOfNode[nodeID] = nil
            connection.nodeID = nil
            if let changes = try? store.registry.logout(nodeID: nodeID) {
                guard commitAndPush(changes) else { return }
                ControlService.log("node " + String(nodeID) + " logged out")
            }
            _ = connection.send(.loggedOut)
            connection.phase = .closing
        case .ping(let number):
            _ = connection.send(.pong(number))
        }
    }

    private var notLoggedIn: ControlFailure { ControlFailure(.loginRequired, "log in first") }

    private func refuse(_ connection: NodeConnection, _ failure: ControlFailure) {
        _ = connection.send(.failure(failure))
        connection.phase = .closing
    }

    /// Sends `message` to `connection`; a failure ends the session.
    func deliver(_ message: ServerMessage, to connection: NodeConnection) {
        if !connection.send(message) {
            // Too far behind to catch up with deltas: it reconnects for a full map.
            connection.phase = .closing
        }
        if case .failure = message { connection.phase = .closing }
        try? loop.modify(connection.tcp.fileDescriptor, token: connection.token, interest: connection.interest)
    }

    /// Journals `changes`, then pushes map updates to every affected node.
    /// A journal that cannot be written stops the server, with a failure
    /// status so that systemd restarts it: acknowledging changes that would
    /// be lost on restart is worse than stopping. (What a client sends is
    /// bounded when it is decoded, so no client can make a record too large.)
    @discardableResult
    func commitAndPush(_ changes: RegistryChanges) -> Bool {
        guard !changes.isEmpty else { return true }
        do { try store.commit(changes) } catch {
            ControlService.log("cannot write the state (" + error.description + "); stopping")
            fatal = ServiceError("cannot write the state: " + error.description)
            running = false
            return false
        }
        push(changes.changedNodes)
        return true
    }

    /// Brings the connected nodes up to date after `changedNodes` changed;
    /// with a policy in force it is recompiled first if the change touched
    /// what it depends on (then who sees whom may change for anyone).
    func push(_ changedNodes: [UInt64]) {
        let updates: [MapMessage]
        if let compiled = policy.recompile(store.registry) {
            updates = tracker.update(changedNodes: changedNodes, registry: store.registry, visibility: compiled.visibility,
                                     filters: compiled.filters)
        } else {
            updates = tracker.update(changedNodes: changedNodes, registry: store.registry)
        }
        for update in updates {
            guard let token = sessionOfNode[update.nodeID], let connection = connections[token] else { continue }
            deliver(update.message, to: connection)
        }
    }
}
