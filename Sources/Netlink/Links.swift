import CTern

/// A network interface as the kernel reports it (RTM_NEWLINK).
public struct Link: Hashable, Sendable {
    /// The interface index (ifindex), unique within the namespace.
    public let index: Int32
    /// The interface name, such as "tern0".
    public let name: String
    /// The IFF_* flags (IFF_UP, IFF_RUNNING, ...).
    public let flags: UInt32
    /// The MTU in bytes.
    public let mtu: UInt32

    /// A link with these properties (as read from the kernel).
    public init(index: Int32, name: String, flags: UInt32, mtu: UInt32) {
        self.index = index
        self.name = name
        self.flags = flags
        self.mtu = mtu
    }

    /// True if the link is administratively up (IFF_UP).
    public var isUp: Bool { flags & UInt32(IFF_UP) != 0 }
}

extension RTNetlink {
    /// Every link of the namespace, in the kernel's order (by index).
    public func links() throws(NetlinkError) -> [Link] {
        try dump("listing links", { request, sequence in
            request.begin(type: UInt16(RTM_GETLINK), flags: NLM_F_DUMP, sequence: sequence)
            request.extraHeader(ifinfomsg())
            request.end()
        }, parseLink)
    }

    /// The link called `name`; `.noDevice` if there is none.
    public func link(named name: String) throws(NetlinkError) -> Link {
        let operation = "looking up interface " + name
        try checkInterfaceName(name, operation)
        var found: Link?
        let request = MessageBuffer(capacity: 256)
        request.begin(type: UInt16(RTM_GETLINK), flags: NLM_F_ACK, sequence: socket.nextSequence())
        request.extraHeader(ifinfomsg())
        request.put(Int(IFLA_IFNAME), string: name)
        request.end()
        _ = try socket.request(request, operation) { (message) throws(NetlinkError) in
            if let link = try parseLink(message) { found = link }
        }
        guard let found else { throw NetlinkError(.noDevice, operation) }
        return found
    }

    /// The index of the link called `name`; `.noDevice` if there is none.
    public func linkIndex(named name: String) throws(NetlinkError) -> Int32 {
        try link(named: name).index
    }

    /// Sets the link called `name` administratively up or down (IFF_UP),
    /// leaving its other flags alone.
    public func setLink(named name: String, up: Bool) throws(NetlinkError) {
        let operation = "setting link " + name + (up ? " up" : " down")
        try checkInterfaceName(name, operation)
        var header = ifinfomsg()
        header.ifi_flags = up ? UInt32(IFF_UP) : 0
        header.ifi_change = UInt32(IFF_UP)
        try perform(operation, newLinkMessage(name, header) { _ in })
    }

    /// Sets the MTU of the link called `name`.
    public func setMTU(_ mtu: UInt32, ofLinkNamed name: String) throws(NetlinkError) {
        let operation = "setting the MTU of " + name + " to " + String(mtu)
        try checkInterfaceName(name, operation)
        try perform(operation, newLinkMessage(name, ifinfomsg()) { request in
            request.put(Int(IFLA_MTU), u32: mtu)
        })
    }

    /// An RTM_NEWLINK (without NLM_F_CREATE: change an existing link, found
    /// by name) with `header` and the attributes `attributes` adds.
    private func newLinkMessage(
        _ name: String, _ header: ifinfomsg, _ attributes: (MessageBuffer) -> Void
    ) -> MessageBuffer {
        let request = MessageBuffer(capacity: 256)
        request.begin(type: UInt16(RTM_NEWLINK), flags: NLM_F_ACK, sequence: socket.nextSequence())
        request.extraHeader(header)
        request.put(Int(IFLA_IFNAME), string: name)
        attributes(request)
        request.end()
        return request
    }

    /// Best-effort names of links by index, for error messages.
    func linkNames() -> [Int32: String] {
        var names: [Int32: String] = [:]
        if let links = try? links() {
            for link in links { names[link.index] = link.name }
        }
        return names
    }
}

/// Refuses names the kernel cannot hold (empty, or over IFNAMSIZ - 1 bytes)
/// before anything is sent.
func checkInterfaceName(_ name: String, _ operation: String) throws(NetlinkError) {
    let length = name.utf8.count
    guard length > 0 && length < Int(IFNAMSIZ) else {
        throw NetlinkError(.invalidArgument, operation, detail: "interface names are 1-15 bytes")
    }
}

/// The link in an RTM_NEWLINK message; nil for other messages.
private func parseLink(_ message: UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Link? {
    guard Int(message.pointee.nlmsg_type) == Int(RTM_NEWLINK),
          let header = familyHeader(of: message, as: ifinfomsg.self) else { return nil }
    var name = ""
    var mtu: UInt32 = 0
    try forEachAttribute(in: attributeRegion(of: message, after: MemoryLayout<ifinfomsg>.size)) {
        (type, payload) throws(NetlinkError) in
        switch type {
        case Int(IFLA_IFNAME): name = payload.string
        case Int(IFLA_MTU): mtu = payload.u32 ?? 0
        default: break
        }
    }
    return Link(index: header.ifi_index, name: name, flags: header.ifi_flags, mtu: mtu)
}
