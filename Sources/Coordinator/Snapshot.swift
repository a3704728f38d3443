import JSON
import TernCrypto

// The snapshot: the whole persistent state as one JSON document with a
// "format" member, written when the shell compacts its journal.
//
//   {"format":1,"settings":{...},"nextUserID":3,"nextKeyID":5,"nextNodeID":9,
//    "ipv4Cursor":8,"users":[...],"keys":[...],"nodes":[...],"deletedMachines":[...]}
//
// Lists are in id order (deleted machines in key order), so equal states
// give byte-identical snapshots.

extension Registry {
    /// The snapshot format this build writes and reads.
    public static let snapshotFormat: Int64 = 1

    /// The largest snapshot the reader accepts (as `State.StoreOptions`' default).
    static let maxSnapshotSize = 64 << 20

    /// The whole persistent state (everything but the online set) as JSON bytes.
    public func snapshot() -> [UInt8] {
        JSONSerializer.bytes(snapshotJSON)
    }

    /// The snapshot document.
    var snapshotJSON: JSONValue {
        let machines = deletedMachines.map { $0.base64 }.sorted()
        return ["format": .number(JSONNumber(Registry.snapshotFormat)), "settings": settings.storedJSON,
                "nextUserID": .number(JSONNumber(nextUserID)), "nextKeyID": .number(JSONNumber(nextKeyID)),
                "nextNodeID": .number(JSONNumber(nextNodeID)), "ipv4Cursor": .number(JSONNumber(UInt64(addresses.cursor))),
                "users": .array(allUsers.map { $0.storedJSON }), "keys": .array(allPreAuthKeys.map { $0.storedJSON }),
                "nodes": .array(allNodes.map { $0.storedJSON }), "deletedMachines": JSONForms.strings(machines)]
    }

    /// Rebuilds the state: `snapshot` (if any), then `records` in order. Without
    /// a snapshot the first record must be the network's settings (see
    /// `newNetwork`). Throws `.corruptState` naming the snapshot or the record
    /// (1-based) that does not parse or does not fit; the shell decides what
    /// to do (usually refuse to start).
    public init(snapshot: [UInt8]?, records: [[UInt8]]) throws(RegistryError) {
        var next = 0
        if let snapshot {
            do throws(RegistryError) {
                self = try Registry.restore(snapshot)
            } catch {
                throw error.within("snapshot")
            }
        } else {
            guard let first = records.first else {
                throw RegistryError(.corruptState, "no snapshot and no records: the state holds no network")
            }
            let change: Change
            do throws(RegistryError) {
                change = try Change(record: first)
            } catch {
                throw error.within("record 1 of " + String(records.count))
            }
            guard case .network(let settings) = change else {
                throw RegistryError(.corruptState, "record 1 of " + String(records.count)
                                    + ": a journal without a snapshot must start with the network settings")
            }
            do throws(RegistryError) {
                try settings.validate()
            } catch {
                throw RegistryError(.corruptState, "record 1: " + error.description)
            }
            self.init(validated: settings)
            next = 1
        }
        while next < records.count {
            do throws(RegistryError) {
                _ = try apply(try Change(record: records[next]))
            } catch {
                throw error.within("record " + String(next + 1) + " of " + String(records.count))
            }
            next += 1
        }
        _ = electPrimaries()
    }

    /// The state in `snapshot`, checked member by member.
    static func restore(_ bytes: [UInt8]) throws(RegistryError) -> Registry {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes, options: JSONParser.Options(maxDepth: 8, maxInputSize: maxSnapshotSize))
        } catch {
            throw RegistryError(.corruptState, "not JSON: " + error.description)
        }
        let fields = try JSONFields(document)
        let format = try fields.int64("format")
        guard format == snapshotFormat else {
            throw RegistryError(.corruptState, "format " + String(format) + " is not supported (this build reads format "
                                + String(snapshotFormat) + ")")
        }
        let settings = try NetworkSettings(stored: try JSONFields(try fields.value("settings")))
        do throws(RegistryError) {
            try settings.validate()
        } catch {
            throw RegistryError(.corruptState, error.description)
        }
        var registry = Registry(validated: settings)
        for value in try fields.array("users") {
            _ = try registry.apply(.createUser(try User(stored: try JSONFields(value))))
        }
        for value in try fields.array("keys") {
            let key = try PreAuthKey(stored: try JSONFields(value))
            _ = try registry.apply(.createKey(key))
        }
        for value in try fields.array("nodes") {
            let node = try Node(stored: try JSONFields(value))
            if let keyID = node.authKey, registry.keys[keyID] == nil {
                throw RegistryError(.corruptState, "node " + String(node.id) + " refers to unknown pre-auth key " + String(keyID))
            }
            try registry.insert(node)
        }
        for text in try fields.strings("deletedMachines") {
            guard let key = try? PublicKey(base64: text) else {
                throw RegistryError(.corruptState, "deletedMachines: '" + text + "' is not a base64 key")
            }
            registry.deletedMachines.insert(key)
        }
        let nextUserID = try fields.uint64("nextUserID")
        let nextKeyID = try fields.uint64("nextKeyID")
        let nextNodeID = try fields.uint64("nextNodeID")
        guard nextUserID >= registry.nextUserID, nextKeyID >= registry.nextKeyID,
              nextNodeID >= (registry.nodeOrder.last.map { $0 + 1 } ?? 1) else {
            throw RegistryError(.corruptState, "next ids are lower than ids in use")
        }
        registry.nextUserID = nextUserID
        registry.nextKeyID = nextKeyID
        registry.nextNodeID = nextNodeID
        let cursor = try fields.uint64("ipv4Cursor")
        guard cursor <= UInt64(UInt32.max) else { throw RegistryError(.corruptState, "ipv4Cursor out of range") }
        try registry.addresses.restore(cursor: UInt32(cursor))
        return registry
    }
}
