import CTern
import IP

/// An address configured on an interface: the host address and the length
/// of its network's prefix, as in "100.64.0.1/10". Unlike `IPPrefix`, the
/// host bits are kept.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    /// The interface's own address.
    public let address: IPAddress
    /// The prefix length of the attached network: 0...32 or 0...128.
    public let prefixLength: Int

    /// `address` with `prefixLength`; throws `.prefixLengthOutOfRange`
    /// unless the length fits the family.
    public init(_ address: IPAddress, prefixLength: Int) throws(IPParseError) {
        _ = try IPPrefix(address, length: prefixLength)
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses "address/length" ("100.64.0.1/10", "fd7a::1/48") with the
    /// rules of `IPPrefix.init(_:)`; a bare address means /32 or /128.
    public init(_ text: String) throws(IPParseError) {
        let prefix = try IPPrefix(text)
        let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")) ?? text.utf8.endIndex
        address = try IPAddress(String(text[..<slash]))
        prefixLength = prefix.length
    }

    /// The attached network (host bits cleared).
    public var network: IPPrefix {
        // The length was validated when the value was made.
        (try? IPPrefix(address, length: prefixLength))!
    }

    /// "address/length".
    public var description: String { address.description + "/" + String(prefixLength) }
}

/// An address the kernel reports for an interface (RTM_NEWADDR).
public struct AddressEntry: Hashable, Sendable {
    /// The interface's index.
    public let interfaceIndex: Int32
    /// The address and its prefix length.
    public let address: InterfaceAddress
    /// IFA_F_* flags (IFA_F_PERMANENT, IFA_F_NODAD, IFA_F_TENTATIVE, ...).
    public let flags: UInt32
    /// The RT_SCOPE_* scope (0 universe, 253 link, 254 host).
    public let scope: UInt8

    /// An entry with these properties (as read from the kernel).
    public init(interfaceIndex: Int32, address: InterfaceAddress, flags: UInt32, scope: UInt8) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.flags = flags
        self.scope = scope
    }
}

extension RTNetlink {
    /// The addresses of the namespace, optionally only of one family and of
    /// one interface.
    public func addresses(family: AddressFamily? = nil, interfaceIndex: Int32? = nil) throws(NetlinkError) -> [AddressEntry] {
        let all = try dump("listing addresses", { request, sequence in
            request.begin(type: UInt16(RTM_GETADDR), flags: NLM_F_DUMP, sequence: sequence)
            var header = ifaddrmsg()
            header.ifa_family = family?.socketFamily ?? UInt8(AF_UNSPEC)
            request.extraHeader(header)
            request.end()
        }, parseAddress)
        return all.filter { entry in
            (interfaceIndex == nil || entry.interfaceIndex == interfaceIndex)
                && (family == nil || AddressFamily(of: entry.address.address) == family)
        }
    }

    /// Adds `address` to the interface `interfaceIndex`; `.exists` if it is
    /// already there. `noDAD` skips IPv6 duplicate address detection so the
    /// address is usable at once (IFA_F_NODAD; ignored for IPv4).
    public func addAddress(_ address: InterfaceAddress, interfaceIndex: Int32, noDAD: Bool = false) throws(NetlinkError) {
        let request = addressMessage(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, address, interfaceIndex, noDAD: noDAD)
        try performNamingDevice(request, interfaceIndex) { name in
            "adding address " + address.description + " to dev " + name
        }
    }

    /// Removes `address` from the interface `interfaceIndex`;
    /// `.addressNotAvailable` if it is not there.
    public func removeAddress(_ address: InterfaceAddress, interfaceIndex: Int32) throws(NetlinkError) {
        let request = addressMessage(RTM_DELADDR, 0, address, interfaceIndex, noDAD: false)
        try performNamingDevice(request, interfaceIndex) { name in
            "removing address " + address.description + " from dev " + name
        }
    }

    /// Sends `request` and, on failure, throws with the operation
    /// `describe` makes from the interface's name (or "#index").
    private func performNamingDevice(
        _ request: MessageBuffer, _ interfaceIndex: Int32, _ describe: (String) -> String
    ) throws(NetlinkError) {
        do {
            try perform("", request)
        } catch {
            let name = linkNames()[interfaceIndex] ?? "#" + String(interfaceIndex)
            throw NetlinkError(error.code, describe(name), detail: error.detail)
        }
    }

    private func addressMessage(
        _ type: Int, _ flags: Int32, _ address: InterfaceAddress, _ interfaceIndex: Int32, noDAD: Bool
    ) -> MessageBuffer {
        let request = MessageBuffer(capacity: 256)
        request.begin(type: UInt16(type), flags: flags | NLM_F_ACK, sequence: socket.nextSequence())
        var header = ifaddrmsg()
        header.ifa_family = AddressFamily(of: address.address).socketFamily
        header.ifa_prefixlen = UInt8(address.prefixLength)
        header.ifa_index = UInt32(bitPattern: interfaceIndex)
        request.extraHeader(header)
        let bytes = IPAddressBytes(address.address)
        request.put(Int(IFA_LOCAL), address: bytes)
        request.put(Int(IFA_ADDRESS), address: bytes)
        if noDAD && !address.address.isIPv4 { request.put(Int(IFA_FLAGS), u32: UInt32(IFA_F_NODAD)) }
        request.end()
        return request
    }
}

/// The address in an RTM_NEWADDR message; nil for other messages and
/// families.
private func parseAddress(_ message: UnsafePointer<nlmsghdr>) throws(NetlinkError) -> AddressEntry? {
    guard Int(message.pointee.nlmsg_type) == Int(RTM_NEWADDR),
          let header = familyHeader(of: message, as: ifaddrmsg.self),
          AddressFamily(socketFamily: header.ifa_family) != nil else { return nil }
    var local: IPAddress?
    var peer: IPAddress?
    var flags = UInt32(header.ifa_flags)
    try forEachAttribute(in: attributeRegion(of: message, after: MemoryLayout<ifaddrmsg>.size)) {
        (type, payload) throws(NetlinkError) in
        switch type {
        case Int(IFA_LOCAL): local = payload.ipAddress
        case Int(IFA_ADDRESS): peer = payload.ipAddress
        case Int(IFA_FLAGS): flags = payload.u32 ?? flags
        default: break
        }
    }
    // IFA_LOCAL is the interface's address when present (IPv4, IPv6 with a
    // peer); otherwise IFA_ADDRESS is.
    guard let address = local ?? peer,
          let value = try? InterfaceAddress(address, prefixLength: Int(header.ifa_prefixlen)) else {
        throw NetlinkError(.malformedReply, "listing addresses")
    }
    return AddressEntry(
        interfaceIndex: Int32(bitPattern: header.ifa_index), address: value, flags: flags, scope: header.ifa_scope)
}
