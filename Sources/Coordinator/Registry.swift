import IP
import TernCrypto

/// What one operation changed: the journal records the shell must append
/// (in order, before acting on the change) and the nodes whose own entry
/// changed, appeared or went away (hand them to `MapTracker.update`).
public struct RegistryChanges: Equatable, Sendable {
    /// JSON records for `State.Store.append`, one per operation (none for
    /// changes that are not persisted, such as a node going online).
    public var records: [[UInt8]]
    /// Ids of nodes whose entry changed, was added or removed.
    public var changedNodes: [UInt64]

    /// Nothing changed.
    public init() {
        records = []
        changedNodes = []
    }

    /// These records and nodes.
    public init(records: [[UInt8]], changedNodes: [UInt64]) {
        self.records = records
        self.changedNodes = changedNodes
    }

    /// True if there is nothing to store and no node changed.
    public var isEmpty: Bool { records.isEmpty && changedNodes.isEmpty }
}

/// The coordination server's state: network settings, users, pre-auth
/// keys and nodes, with the operations that change them (login, admin
/// commands, expiry) and the maps nodes receive.
///
/// A value type with no I/O and no clock: every operation takes `now` (Unix
/// seconds) and returns the records that make it durable. The shell owns the
/// store (`RegistryStore`, or its own `State.Store`): it appends the records
/// of each operation and rebuilds the registry at start with
/// `init(snapshot:records:)`. Failed operations change nothing and return
/// no records. The online set lives only in memory.
public struct Registry {
    /// The network's settings.
    public internal(set) var settings: NetworkSettings

    var users: [UInt64: User] = [:]
    var userByName: [String: UInt64] = [:]
    var keys: [UInt64: PreAuthKey] = [:]
    var keyByHash: [String: UInt64] = [:]
    var nodesByID: [UInt64: Node] = [:]
    /// Node ids in increasing order (ids only grow, so registration appends).
    var nodeOrder: [UInt64] = []
    var nodeByMachine: [PublicKey: UInt64] = [:]
    var nodeByNodeKey: [PublicKey: UInt64] = [:]
    var nodeByName: [String: UInt64] = [:]
    /// Machines whose node was deleted, so their next login hears why.
    var deletedMachines: Set<PublicKey> = []
    var addresses: AddressPool
    var nextUserID: UInt64 = 1
    var nextKeyID: UInt64 = 1
    var nextNodeID: UInt64 = 1
    var onlineNodes: Set<UInt64> = []
    /// Which routes the policy approves without an admin (see `setRouteApprover`).
    var routeApprover = RouteApprover.none
    /// The primary router of every enabled subnet route (derived, in memory:
    /// see `electPrimaries`).
    var primaryRouter: [IPPrefix: UInt64] = [:]

    /// An empty registry with `settings` (already validated).
    init(validated settings: NetworkSettings) {
        self.settings = settings
        addresses = AddressPool(settings: settings)
    }

    /// A new, empty network, and the record that stores its settings (the
    /// shell appends it before anything else, or writes a snapshot).
    public static func newNetwork(settings: NetworkSettings) throws(RegistryError) -> (registry: Registry, changes: RegistryChanges) {
        try settings.validate()
        let registry = Registry(validated: settings)
        return (registry, RegistryChanges(records: [Change.network(settings).record], changedNodes: []))
    }

    // MARK: Reading

    /// Every user, by id.
    public var allUsers: [User] { users.values.sorted { $0.id < $1.id } }

    /// The user with `id`, if any.
    public func user(id: UInt64) -> User? { users[id] }

    /// The user named `name`, if any.
    public func user(named name: String) -> User? { userByName[name].flatMap { users[$0] } }

    /// Every pre-auth key (revoked and expired ones too), by id.
    public var allPreAuthKeys: [PreAuthKey] { keys.values.sorted { $0.id < $1.id } }

    /// The pre-auth key with `id`, if any.
    public func preAuthKey(id: UInt64) -> PreAuthKey? { keys[id] }

    /// Every node (expired ones too), by id.
    public var allNodes: [Node] { nodeOrder.map { nodesByID[$0]! } }

    /// How many nodes are registered.
    public var nodeCount: Int { nodeOrder.count }

    /// The node with `id`, if any.
    public func node(id: UInt64) -> Node? { nodesByID[id] }

    /// The node named `name`, if any.
    public func node(named name: String) -> Node? { nodeByName[name].flatMap { nodesByID[$0] } }

    /// The node of the machine with `machineKey`, if any.
    public func node(machineKey: PublicKey) -> Node? { nodeByMachine[machineKey].flatMap { nodesByID[$0] } }

    /// Whether the node holds a control connection (as told by `setOnline`).
    public func isOnline(_ nodeID: UInt64) -> Bool { onlineNodes.contains(nodeID) }

    /// The name of the user with `id` ("" if unknown).
    func userName(_ id: UInt64) -> String { users[id]?.name ?? "" }

    /// How many IPv4 addresses are in use and how many the range holds.
    public var addressUsage: (inUse: Int, total: UInt64) { (addresses.inUse, addresses.total) }

    // MARK: Changing

    /// Applies `change` (validated by the caller) and returns what the shell
    /// needs, including nodes whose primary routes moved because of it.
    /// A failure here is a bug: the operation checked everything first.
    mutating func commit(_ change: Change) -> RegistryChanges {
        var changed: [UInt64]
        do throws(RegistryError) {
            changed = try apply(change)
        } catch {
            preconditionFailure("Registry: a checked change failed to apply: " + error.description)
        }
        for id in electPrimaries() where !changed.contains(id) { changed.append(id) }
        return RegistryChanges(records: [change.record], changedNodes: changed)
    }
}
