// Node-key expiry. An expired node stays registered (name, addresses,
// machine) but appears in no map, its own included, until it logs in again
// with a credential, which renews the expiry.

extension Registry {
    /// The key expiry of a node that logs in at `now`: `now` plus the key
    /// lifetime (nil: never), saturating rather than trapping for a clock
    /// set absurdly far ahead.
    func keyExpiry(loggedInAt now: Int64) -> Int64? {
        guard let lifetime = settings.keyLifetime else { return nil }
        let (sum, overflow) = now.addingReportingOverflow(lifetime)
        return overflow ? Int64.max : sum
    }

    /// Flags every node whose key expiry has come by `now` (one record for
    /// all of them); they drop out of every map. Call it at `nextExpiry`.
    public mutating func expireDue(now: Int64) -> RegistryChanges {
        var due: [UInt64] = []
        for id in nodeOrder {
            let node = nodesByID[id]!
            if !node.expired, let expiry = node.effectiveKeyExpiry, expiry <= now { due.append(id) }
        }
        if due.isEmpty { return RegistryChanges() }
        return commit(.markExpired(due))
    }

    /// The earliest key expiry still to come (Unix seconds), or nil if none:
    /// when the shell should call `expireDue` next.
    public var nextExpiry: Int64? {
        var earliest: Int64? = nil
        for id in nodeOrder {
            let node = nodesByID[id]!
            guard !node.expired, let expiry = node.effectiveKeyExpiry else { continue }
            if earliest == nil || expiry < earliest! { earliest = expiry }
        }
        return earliest
    }

    /// Expires the node's key now (an admin's "log this machine out"): its
    /// expiry becomes `now` and it leaves every map, even with expiry disabled.
    public mutating func expireNode(id: UInt64, now: Int64) throws(RegistryError) -> RegistryChanges {
        _ = try existingNode(id)
        return commit(.expireNode(node: id, at: now))
    }

    /// Turns key expiry off (or on again) for one node. Turned on again, the
    /// stored expiry applies: if it has passed, the next `expireDue` expires
    /// the node.
    public mutating func setKeyExpiryDisabled(nodeID: UInt64, _ disabled: Bool) throws(RegistryError) -> RegistryChanges {
        let node = try existingNode(nodeID)
        if node.expiryDisabled == disabled { return RegistryChanges() }
        return commit(.expiryDisabled(node: nodeID, disabled: disabled))
    }
}
