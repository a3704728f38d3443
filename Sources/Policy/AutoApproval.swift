import IP

extension Policy {
    /// Whether `autoApprovers` approves `route` for a node of `user` with
    /// `tags`, without an admin.
    ///
    /// A subnet route is approved when an approver of an equal or containing
    /// prefix in `routes` matches the node. Exit routes (0.0.0.0/0, ::/0) are
    /// approved only through `exitNode` (a /0 under `routes` approves every
    /// subnet route, not an exit node). A tagged node matches through its
    /// tags only; an untagged node through its user and the user's groups.
    public func autoApproves(_ route: IPPrefix, user: String, tags: [String]) -> Bool {
        if route.length == 0 {
            return autoApprovers.exitNode.contains { approves($0, user: user, tags: tags) }
        }
        for entry in autoApprovers.routes where entry.prefix.contains(route) {
            if entry.approvers.contains(where: { approves($0, user: user, tags: tags) }) { return true }
        }
        return false
    }

    /// True if the approver `target` names this node's identity.
    private func approves(_ target: PolicyTarget, user: String, tags: [String]) -> Bool {
        switch target {
        case .tag(let tag):
            return tags.contains(tag)
        case .user(let written):
            return tags.isEmpty && PolicyTarget.userName(written, matches: user)
        case .group(let group):
            guard tags.isEmpty else { return false }
            return (groups[group] ?? []).contains { PolicyTarget.userName($0, matches: user) }
        default:
            return false
        }
    }
}
