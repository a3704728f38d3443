import CTern
import IP

/// Tern's nftables table, `inet tern`, over NETLINK_NETFILTER: the forward
/// and source-NAT rules of a subnet router. Nothing outside this one table
/// is ever created, changed or deleted.
///
/// For mesh interface M and advertised LAN prefixes P1, P2, ... the table is
///
///     table inet tern {
///         chain forward {
///             type filter hook forward priority filter - 10; policy accept;
///             iifname "M" ip daddr P1 accept            (one per prefix)
///             oifname "M" ct state established,related accept
///         }
///         chain postrouting {
///             type nat hook postrouting priority srcnat; policy accept;
///             iifname "M" ip daddr P1 masquerade        (one per prefix)
///         }
///     }
///
/// with `ip6 daddr` for IPv6 prefixes. Masquerading makes the LAN hosts see
/// the router's own LAN address, so they answer without a route back to the
/// mesh; without it (`masquerade: false`, no postrouting chain) the LAN
/// needs a route to the mesh's prefixes through the router.
///
/// The forward chain's priority, filter - 10 (-10), runs it before the
/// chains of the usual firewalls at the forward hook (iptables-nft's
/// `filter FORWARD` and Debian's `inet filter` at 0, firewalld at +10), so
/// Tern's rules see the traffic first. But in nftables an `accept` only ends
/// the chain it is in: every other base chain at the hook still runs, and a
/// `drop` there (Docker's FORWARD policy DROP, a default-drop `inet filter`,
/// firewalld, ufw) is final. No priority can change that; on such a host the
/// administrator must allow mesh-to-LAN forwarding in that firewall, since
/// Tern does not edit other tables. The accept rules matter where the policy
/// is accept, and are where Tern's own filtering will go. The NAT chain uses
/// the standard srcnat priority (100), like any masquerade rule.
///
/// Changes need CAP_NET_ADMIN in the namespace (`.notPermitted`); the
/// kernel needs nf_tables with inet NAT (Linux 5.2 or later) and nft_masq.
public final class NFTables {
    /// The table's name; its family is inet (IPv4 and IPv6).
    public static let tableName = "tern"
    /// The forward chain's name.
    public static let forwardChain = "forward"
    /// The source-NAT chain's name.
    public static let postroutingChain = "postrouting"
    /// The forward chain's priority: filter (0) - 10.
    public static let forwardPriority: Int32 = -10
    /// The NAT chain's priority: srcnat (100).
    public static let postroutingPriority: Int32 = 100

    let socket: NetlinkSocket

    /// Opens a netfilter netlink socket in the network namespace at
    /// `namespacePath`, or in the calling thread's namespace when nil (see
    /// `RTNetlink.init(namespacePath:)`).
    public init(namespacePath: String? = nil) throws(NetlinkError) {
        socket = try NetlinkSocket(bus: NETLINK_NETFILTER, namespacePath: namespacePath, name: "netfilter")
    }

    /// Makes `inet tern` exactly the table above for `meshInterface` and
    /// `prefixes`, in one atomic transaction: the table is created (if
    /// missing), deleted and created again with its chains and rules, so
    /// other programs never see it half-built and a table left by a crashed
    /// run is replaced, not duplicated. On any error nothing changes.
    /// Without `masquerade`, only the forward chain is made. A prefix given
    /// twice gets its rules once.
    public func ensureTable(meshInterface: String, prefixes: [IPPrefix], masquerade: Bool = true) throws(NetlinkError) {
        let operation = "replacing nftables table inet " + NFTables.tableName
        try checkInterfaceName(meshInterface, operation)
        var seen = Set<IPPrefix>()
        let prefixes = prefixes.filter { seen.insert($0).inserted }
        let batch = NFTablesTransaction(socket)
        batch.add("creating table inet tern", table(NFT_MSG_NEWTABLE, flags: NLM_F_CREATE))
        batch.add("deleting table inet tern", table(NFT_MSG_DELTABLE, flags: 0))
        batch.add("creating table inet tern", table(NFT_MSG_NEWTABLE, flags: NLM_F_CREATE))
        batch.add("creating chain forward", chain(NFTables.forwardChain, type: "filter",
            hook: NF_INET_FORWARD, priority: NFTables.forwardPriority))
        for prefix in prefixes {
            batch.add(
                "adding rule iifname " + meshInterface + " " + daddr(prefix) + " accept",
                rule(NFTables.forwardChain) { rule in
                    rule.matchInterfaceName(incoming: true, meshInterface)
                    rule.matchDestination(prefix)
                    rule.accept()
                })
        }
        batch.add(
            "adding rule oifname " + meshInterface + " ct state established,related accept",
            rule(NFTables.forwardChain) { rule in
                rule.matchInterfaceName(incoming: false, meshInterface)
                rule.matchEstablishedOrRelated()
                rule.accept()
            })
        if masquerade {
            batch.add("creating chain postrouting", chain(NFTables.postroutingChain, type: "nat",
                hook: NF_INET_POST_ROUTING, priority: NFTables.postroutingPriority))
            for prefix in prefixes {
                batch.add(
                    "adding rule iifname " + meshInterface + " " + daddr(prefix) + " masquerade",
                    rule(NFTables.postroutingChain) { rule in
                        rule.matchInterfaceName(incoming: true, meshInterface)
                        rule.matchDestination(prefix)
                        rule.masquerade()
                    })
            }
        }
        try batch.commit(operation)
    }

    /// Deletes `inet tern` with everything in it, if it exists (creating
    /// and deleting it in one transaction, so a missing table is no error).
    public func removeTable() throws(NetlinkError) {
        let batch = NFTablesTransaction(socket)
        batch.add("creating table inet tern", table(NFT_MSG_NEWTABLE, flags: NLM_F_CREATE))
        batch.add("deleting table inet tern", table(NFT_MSG_DELTABLE, flags: 0))
        try batch.commit("removing nftables table inet " + NFTables.tableName)
    }

    /// True if `inet tern` exists.
    public func tableExists() throws(NetlinkError) -> Bool {
        let request = MessageBuffer(capacity: 256)
        writeTable(request, NFT_MSG_GETTABLE, flags: NLM_F_ACK)
        do {
            _ = try socket.request(request, "looking up nftables table inet " + NFTables.tableName) { _ in }
            return true
        } catch {
            if error.code == .notFound { return false }
            throw error
        }
    }

    // MARK: Messages

    /// "ip daddr P" or "ip6 daddr P", for messages.
    private func daddr(_ prefix: IPPrefix) -> String {
        (prefix.address.isIPv4 ? "ip daddr " : "ip6 daddr ") + prefix.description
    }

    /// A writer of a table message of `type`.
    func table(_ type: nf_tables_msg_types, flags: Int32) -> (MessageBuffer, UInt32) -> Void {
        { [self] buffer, sequence in writeTable(buffer, type, flags: flags | NLM_F_ACK, sequence: sequence) }
    }

    private func writeTable(_ buffer: MessageBuffer, _ type: nf_tables_msg_types, flags: Int32, sequence: UInt32? = nil) {
        begin(buffer, type, flags: flags, sequence: sequence ?? socket.nextSequence())
        buffer.put(Int(NFTA_TABLE_NAME.rawValue), string: NFTables.tableName)
        buffer.end()
    }

    /// A writer of a base chain of `type` ("filter", "nat") at `hook` with
    /// `priority` and policy accept.
    private func chain(
        _ name: String, type: String, hook: nf_inet_hooks, priority: Int32
    ) -> (MessageBuffer, UInt32) -> Void {
        { [self] buffer, sequence in
            begin(buffer, NFT_MSG_NEWCHAIN, flags: NLM_F_CREATE | NLM_F_ACK, sequence: sequence)
            buffer.put(Int(NFTA_CHAIN_TABLE.rawValue), string: NFTables.tableName)
            buffer.put(Int(NFTA_CHAIN_NAME.rawValue), string: name)
            let nest = buffer.beginNest(Int(NFTA_CHAIN_HOOK.rawValue))
            buffer.put(Int(NFTA_HOOK_HOOKNUM.rawValue), u32BigEndian: hook.rawValue)
            buffer.put(Int(NFTA_HOOK_PRIORITY.rawValue), u32BigEndian: UInt32(bitPattern: priority))
            buffer.endNest(nest)
            buffer.put(Int(NFTA_CHAIN_POLICY.rawValue), u32BigEndian: UInt32(NF_ACCEPT))
            buffer.put(Int(NFTA_CHAIN_TYPE.rawValue), string: type)
            buffer.end()
        }
    }

    /// A writer of a rule appended to `chain` with the expressions
    /// `expressions` writes.
    func rule(_ chain: String, _ expressions: @escaping (MessageBuffer) -> Void) -> (MessageBuffer, UInt32) -> Void {
        { [self] buffer, sequence in
            begin(buffer, NFT_MSG_NEWRULE, flags: NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, sequence: sequence)
            buffer.put(Int(NFTA_RULE_TABLE.rawValue), string: NFTables.tableName)
            buffer.put(Int(NFTA_RULE_CHAIN.rawValue), string: chain)
            let nest = buffer.beginNest(Int(NFTA_RULE_EXPRESSIONS.rawValue))
            expressions(buffer)
            buffer.endNest(nest)
            buffer.end()
        }
    }

    /// Starts an nf_tables message of `type` for the inet family.
    private func begin(_ buffer: MessageBuffer, _ type: nf_tables_msg_types, flags: Int32, sequence: UInt32) {
        buffer.begin(
            type: UInt16(TERN_NFNL_SUBSYS_NFTABLES << 8) | UInt16(type.rawValue), flags: flags, sequence: sequence)
        var header = nfgenmsg()
        header.nfgen_family = UInt8(NFPROTO_INET)
        header.version = UInt8(NFNETLINK_V0)
        header.res_id = 0
        buffer.extraHeader(header)
    }
}

/// One nfnetlink transaction: BATCH_BEGIN, the messages, BATCH_END, sent in
/// one datagram; the kernel applies all of it or none of it.
final class NFTablesTransaction {
    private let socket: NetlinkSocket
    private let buffer = MessageBuffer(capacity: 8192)
    private var descriptions: [String] = []

    init(_ socket: NetlinkSocket) {
        self.socket = socket
        marker(TERN_NFNL_MSG_BATCH_BEGIN, "starting the transaction")
    }

    /// Appends the message `write` makes, described by `description`.
    func add(_ description: String, _ write: (MessageBuffer, UInt32) -> Void) {
        write(buffer, socket.nextSequence())
        descriptions.append(description)
    }

    /// Sends the transaction and throws the first message's error, if any.
    func commit(_ operation: String) throws(NetlinkError) {
        marker(TERN_NFNL_MSG_BATCH_END, "ending the transaction")
        let acks = try socket.exchange(buffer, operation, splittable: false)
        for (index, ack) in acks.enumerated() {
            guard let ack, ack.errno != 0 else { continue }
            // An error on BATCH_BEGIN (no permission, no nf_tables) concerns
            // the whole transaction.
            var detail = index == 0 ? "" : descriptions[index]
            if let kernelMessage = ack.kernelMessage, !kernelMessage.isEmpty {
                detail += (detail.isEmpty ? "" : ": ") + kernelMessage
            }
            throw NetlinkError(errno: ack.errno, operation, detail: detail.isEmpty ? nil : detail)
        }
        // Every message but the markers asks for an acknowledgement.
        for index in 1..<acks.count - 1 where acks[index] == nil {
            throw NetlinkError(.malformedReply, operation, detail: descriptions[index] + " was not acknowledged")
        }
    }

    /// BATCH_BEGIN or BATCH_END, which carry the nf_tables subsystem id.
    private func marker(_ type: Int, _ description: String) {
        buffer.begin(type: UInt16(type), flags: 0, sequence: socket.nextSequence())
        var header = nfgenmsg()
        header.nfgen_family = UInt8(AF_UNSPEC)
        header.version = UInt8(NFNETLINK_V0)
        header.res_id = UInt16(TERN_NFNL_SUBSYS_NFTABLES).bigEndian
        buffer.extraHeader(header)
        buffer.end()
        descriptions.append(description)
    }
}
