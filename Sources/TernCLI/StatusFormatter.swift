import TextFormat

/// `tern status` and `tern up` output: pure functions from a status
/// document (and the current time) to lines of text.
public enum StatusFormatter {
    /// The human status: a header line (state, this node's name and
    /// addresses, whether control is connected), one `health:` line per
    /// warning, a hint when there is nothing to show, then one line per peer
    /// in aligned columns — address, name, endpoint in use (or `-`), last
    /// handshake, bytes received and sent, `offline` for offline peers, and
    /// the subnet routes used through the peer (`standby` for those it
    /// backs up). A subnet router gets a `routes:` line for what it offers.
    /// `now` is the current Unix time in seconds.
    public static func lines(_ status: StatusDocument, now: Int64) -> [String] {
        var lines = [header(status)]
        if let node = status.selfNode, !node.advertisedRoutes.isEmpty { lines.append("routes: " + ownRoutes(node)) }
        for warning in status.health { lines.append("health: " + warning) }
        if status.selfNode == nil {
            switch status.state {
            case "NeedsLogin":
                lines.append("Log in with: tern up --login-server URL --auth-key KEY")
            case "Stopped":
                lines.append("Run 'tern up' to connect.")
            default:
                break
            }
        }
        var rows: [[String]] = []
        for peer in status.peers {
            rows.append(peerRow(peer, now: now))
        }
        lines.append(contentsOf: TextColumns.lines(rows))
        return lines
    }

    /// `Running as gateway (100.64.0.1, fd7a:115c:a1e0::1), control connected (http://10.0.0.1:8080)`.
    static func header(_ status: StatusDocument) -> String {
        var line = status.state
        if let node = status.selfNode {
            line += " as " + (node.name.isEmpty ? "(unnamed)" : node.name)
            let addresses = MeshAddress.select(node.addresses, family: .any)
            if !addresses.isEmpty { line += " (" + joined(addresses) + ")" }
        }
        line += status.controlConnected ? ", control connected" : ", control not connected"
        if let url = status.controlURL, !url.isEmpty { line += " (" + url + ")" }
        return line
    }

    /// The columns of one peer.
    static func peerRow(_ peer: StatusDocument.Peer, now: Int64) -> [String] {
        [MeshAddress.primary(peer.addresses) ?? "-",
         peer.name.isEmpty ? "-" : peer.name,
         peer.endpoint ?? "-",
         DurationText.since(peer.lastHandshake, now: now),
         "rx " + ByteCount.text(peer.rxBytes),
         "tx " + ByteCount.text(peer.txBytes),
         peer.online ? "" : "offline",
         peerRoutes(peer)]
    }

    /// This router's offers: `192.168.10.0/24 (primary), 10.9.0.0/16 (waiting for approval)`.
    static func ownRoutes(_ node: StatusDocument.SelfNode) -> String {
        joined(node.advertisedRoutes.map { route in
            let state = !node.routes.contains(route) ? "waiting for approval"
                : node.primaryRoutes.contains(route) ? "primary" : "standby"
            return route + " (" + state + ")"
        })
    }

    /// The subnet routes used through a peer, and those it stands by for:
    /// `routes 192.168.10.0/24`, `standby 192.168.10.0/24`, or empty.
    static func peerRoutes(_ peer: StatusDocument.Peer) -> String {
        var parts: [String] = []
        let used = peer.primaryRoutes.filter { peer.allowedIPs.contains($0) }
        if !used.isEmpty { parts.append("routes " + list(used)) }
        let standby = peer.routes.filter { !peer.primaryRoutes.contains($0) }
        if !standby.isEmpty { parts.append("standby " + list(standby)) }
        return joined(parts)
    }

    private static func list(_ items: [String]) -> String {
        var text = ""
        for item in items { text += (text.isEmpty ? "" : ",") + item }
        return text
    }

    /// What `tern up` prints after a successful login:
    /// `Logged in as NAME (100.64.0.2, fd7a:...), 3 peers`.
    public static func loginSummary(_ status: StatusDocument) -> String {
        guard let node = status.selfNode else {
            return "ternd is " + status.state + (status.controlConnected ? ", control connected" : "")
        }
        var line = "Logged in as " + (node.name.isEmpty ? "(unnamed)" : node.name)
        let addresses = MeshAddress.select(node.addresses, family: .any)
        if !addresses.isEmpty { line += " (" + joined(addresses) + ")" }
        let count = status.peers.count
        return line + ", " + String(count) + (count == 1 ? " peer" : " peers")
    }

    private static func joined(_ items: [String]) -> String {
        var text = ""
        for (index, item) in items.enumerated() {
            if index > 0 { text += ", " }
            text += item
        }
        return text
    }
}
