import CTern
import IP

/// Route protocol numbers (`rtm_protocol`, "proto" in `ip route`): who
/// installed a route. The kernel does not interpret values above 4.
public enum RouteProtocol {
    /// Tern's own number, 116 (ASCII "t"), set on every route Tern adds so
    /// that Tern can find its routes again after a crash and never touches
    /// anyone else's. 116 is in the range the kernel leaves to user space
    /// and is not used by the kernel headers, iproute2's rt_protos or the
    /// common routing daemons (BIRD 12, FRR 186-198, keepalived 18, Babel
    /// 42, Open/R 99). `ip route` shows it as "proto 116"; a line "116 tern"
    /// in /etc/iproute2/rt_protos.d/tern.conf makes it show "proto tern".
    public static let tern: UInt8 = 116
    /// Routes the kernel made itself (RTPROT_KERNEL), such as the
    /// connected route of an address.
    public static let kernel: UInt8 = 2
    /// Routes added by an administrator without a protocol (RTPROT_BOOT).
    public static let boot: UInt8 = 3
    /// Routes added by an administrator as static (RTPROT_STATIC).
    public static let `static`: UInt8 = 4
}

/// A route: a destination prefix reached through an interface and/or a
/// gateway, in a routing table, with a metric.
///
/// Values read from the kernel carry what the kernel reported; values made
/// with `init(destination:interfaceIndex:...)` are what Tern asks for.
public struct Route: Hashable, Sendable, CustomStringConvertible {
    /// The main routing table (RT_TABLE_MAIN), where `ip route` works.
    public static let mainTable: UInt32 = 254
    /// The metric the kernel gives an IPv6 route added with metric 0.
    public static let defaultIPv6Metric: UInt32 = 1024

    /// The destination prefix.
    public let destination: IPPrefix
    /// The output interface's index; 0 for none (a gateway-only or
    /// multipath route read from the kernel).
    public let interfaceIndex: Int32
    /// The next hop, or nil for a route straight onto the link.
    public let gateway: IPAddress?
    /// The routing table (254 is main).
    public let table: UInt32
    /// The metric ("priority"); lower wins.
    public let metric: UInt32
    /// Who installed the route (see `RouteProtocol`).
    public let protocolNumber: UInt8
    /// The RT_SCOPE_* scope (0 universe, 253 link, 254 host).
    public let scope: UInt8
    /// The RTN_* type (1 unicast, 2 local, ...).
    public let type: UInt8

    /// A unicast route to `destination` through the interface
    /// `interfaceIndex` (and `gateway`, if any) in `table` with `metric`,
    /// marked with `protocolNumber` (Tern's by default).
    ///
    /// The scope is "link" for an IPv4 route without a gateway and
    /// "universe" otherwise, as `ip route add` chooses. An IPv6 metric of 0
    /// becomes 1024, the value the kernel stores, so a route read back
    /// compares equal to the one asked for.
    public init(
        destination: IPPrefix, interfaceIndex: Int32, gateway: IPAddress? = nil,
        table: UInt32 = Route.mainTable, metric: UInt32 = 0, protocolNumber: UInt8 = RouteProtocol.tern
    ) {
        let isIPv4 = destination.address.isIPv4
        self.init(
            destination: destination, interfaceIndex: interfaceIndex, gateway: gateway, table: table,
            metric: !isIPv4 && metric == 0 ? Route.defaultIPv6Metric : metric,
            protocolNumber: protocolNumber,
            scope: isIPv4 && gateway == nil ? UInt8(RT_SCOPE_LINK.rawValue) : UInt8(RT_SCOPE_UNIVERSE.rawValue),
            type: UInt8(RTN_UNICAST))
    }

    /// A route with every field given (as read from the kernel).
    public init(
        destination: IPPrefix, interfaceIndex: Int32, gateway: IPAddress?, table: UInt32, metric: UInt32,
        protocolNumber: UInt8, scope: UInt8, type: UInt8
    ) {
        self.destination = destination
        self.interfaceIndex = interfaceIndex
        self.gateway = gateway
        self.table = table
        self.metric = metric
        self.protocolNumber = protocolNumber
        self.scope = scope
        self.type = type
    }

    /// IPv4 or IPv6.
    public var family: AddressFamily { AddressFamily(of: destination.address) }

    /// "10.1.0.0/16 dev #3 table 254 metric 0 proto 116".
    public var description: String { describe(deviceName: "#" + String(interfaceIndex)) }

    /// The route as `ip route` would write it, with the device named
    /// `deviceName`: "10.1.0.0/16 via dev tern0", "... table 52 metric 10".
    func describe(deviceName: String) -> String {
        var text = destination.description + " via "
        if let gateway { text += gateway.description + " " }
        if interfaceIndex != 0 { text += "dev " + deviceName }
        if table != Route.mainTable { text += " table " + String(table) }
        let defaultMetric: UInt32 = family == .ipv4 ? 0 : Route.defaultIPv6Metric
        if metric != defaultMetric { text += " metric " + String(metric) }
        if protocolNumber != RouteProtocol.tern { text += " proto " + String(protocolNumber) }
        return text
    }

    /// True if replacing `self` in the kernel would replace `other`: the
    /// same family, table, destination and metric (NLM_F_REPLACE's match).
    func occupiesSameSlot(as other: Route) -> Bool {
        destination == other.destination && table == other.table && metric == other.metric
    }
}

/// One change to the routing tables.
public enum RouteChange: Hashable, Sendable {
    /// Adds the route; fails with `.exists` if it is there already.
    case add(Route)
    /// Adds the route, or replaces the one with the same destination,
    /// table and metric.
    case replace(Route)
    /// Removes the route. Only a route with the same protocol number
    /// matches, so removing a Tern route never removes someone else's.
    case remove(Route)

    /// The route the change is about.
    public var route: Route {
        switch self {
        case .add(let route), .replace(let route), .remove(let route): return route
        }
    }

    /// "adding route 10.1.0.0/16 via dev tern0".
    func describe(deviceName: String) -> String {
        switch self {
        case .add(let route): return "adding route " + route.describe(deviceName: deviceName)
        case .replace(let route): return "replacing route " + route.describe(deviceName: deviceName)
        case .remove(let route): return "removing route " + route.describe(deviceName: deviceName)
        }
    }
}

extension RTNetlink {
    /// The routes of the namespace, optionally only those of one family,
    /// table and protocol number. Cached clones are left out.
    public func routes(
        family: AddressFamily? = nil, table: UInt32? = nil, protocolNumber: UInt8? = nil
    ) throws(NetlinkError) -> [Route] {
        let all = try dump("listing routes", { request, sequence in
            request.begin(type: UInt16(RTM_GETROUTE), flags: NLM_F_DUMP, sequence: sequence)
            var header = rtmsg()
            header.rtm_family = family?.socketFamily ?? UInt8(AF_UNSPEC)
            request.extraHeader(header)
            request.end()
        }, parseRoute)
        return all.filter { route in
            (family == nil || route.family == family) && (table == nil || route.table == table)
                && (protocolNumber == nil || route.protocolNumber == protocolNumber)
        }
    }

    /// Applies `changes` in order, in one batched exchange (one datagram
    /// while it fits the socket buffers), all or nothing: if any change
    /// fails, the ones that succeeded are undone in reverse order (an add
    /// is removed, a removal re-added, a replacement put back as it was
    /// before — read in one dump first when the batch has replacements),
    /// and the first failure is thrown with `rollback` saying whether
    /// undoing worked. The kernel carries on with the rest of a datagram
    /// after a failed message, so changes after the failure in the same
    /// datagram are applied and undone too; later datagrams (only a batch
    /// too large for the socket buffers has them) are not sent. An empty
    /// list does nothing.
    public func apply(_ changes: [RouteChange]) throws(NetlinkError) {
        guard !changes.isEmpty else { return }
        var previous: [Route] = []
        if changes.contains(where: { if case .replace = $0 { return true } else { return false } }) {
            previous = try routes()
        }
        let operation = "applying " + String(changes.count) + " route changes"
        let acks = try socket.exchange(routeMessages(changes), operation)
        let succeeded = acks.indices.filter { acks[$0]?.errno == 0 }
        guard succeeded.count < changes.count else { return }

        let names = linkNames()
        func deviceName(_ index: Int32) -> String { names[index] ?? "#" + String(index) }
        var error = NetlinkError(.malformedReply, operation, detail: "a change was not acknowledged")
        if let failed = acks.indices.first(where: { (acks[$0]?.errno ?? 0) != 0 }), let ack = acks[failed] {
            let change = changes[failed]
            error = NetlinkError(
                errno: ack.errno, change.describe(deviceName: deviceName(change.route.interfaceIndex)),
                detail: ack.kernelMessage)
        }
        var undo: [RouteChange] = []
        for index in succeeded.reversed() {
            switch changes[index] {
            case .add(let route):
                undo.append(.remove(route))
            case .remove(let route):
                undo.append(.add(route))
            case .replace(let route):
                if let old = previous.first(where: { $0.occupiesSameSlot(as: route) }) {
                    undo.append(.replace(old))
                } else {
                    undo.append(.remove(route))
                }
            }
        }
        guard !undo.isEmpty else { throw error.with(rollback: .undone(0)) }
        let undone = (try? socket.exchange(routeMessages(undo), "rolling back " + operation)) ?? []
        let failures = undo.count - undone.filter { $0?.errno == 0 }.count
        throw error.with(rollback: failures == 0 ? .undone(undo.count) : .failed(failures))
    }

    /// Adds `route` (`.exists` if it is there).
    public func addRoute(_ route: Route) throws(NetlinkError) { try apply([.add(route)]) }

    /// Adds `route` or replaces the route in its slot.
    public func replaceRoute(_ route: Route) throws(NetlinkError) { try apply([.replace(route)]) }

    /// Removes `route` (`.noSuchEntry` if it is not there).
    public func removeRoute(_ route: Route) throws(NetlinkError) { try apply([.remove(route)]) }

    /// One RTM_NEWROUTE/RTM_DELROUTE with NLM_F_ACK per change, with
    /// consecutive sequence numbers.
    private func routeMessages(_ changes: [RouteChange]) -> MessageBuffer {
        let batch = MessageBuffer(capacity: 96 * changes.count + 64)
        for change in changes {
            let route = change.route
            var header = rtmsg()
            header.rtm_family = route.family.socketFamily
            header.rtm_dst_len = UInt8(route.destination.length)
            header.rtm_table = route.table < 256 ? UInt8(route.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
            header.rtm_protocol = route.protocolNumber
            header.rtm_type = route.type
            let type: Int
            var flags = NLM_F_ACK
            switch change {
            case .add:
                type = Int(RTM_NEWROUTE)
                flags |= NLM_F_CREATE | NLM_F_EXCL
                header.rtm_scope = route.scope
            case .replace:
                type = Int(RTM_NEWROUTE)
                flags |= NLM_F_CREATE | NLM_F_REPLACE
                header.rtm_scope = route.scope
            case .remove:
                type = Int(RTM_DELROUTE)
                // Match a route of any scope (`ip route del` does the same).
                header.rtm_scope = UInt8(RT_SCOPE_NOWHERE.rawValue)
            }
            batch.begin(type: UInt16(type), flags: flags, sequence: socket.nextSequence())
            batch.extraHeader(header)
            if route.destination.length > 0 {
                batch.put(Int(RTA_DST.rawValue), address: IPAddressBytes(route.destination.address))
            }
            if route.interfaceIndex != 0 {
                batch.put(Int(RTA_OIF.rawValue), u32: UInt32(bitPattern: route.interfaceIndex))
            }
            if let gateway = route.gateway {
                batch.put(Int(RTA_GATEWAY.rawValue), address: IPAddressBytes(gateway))
            }
            batch.put(Int(RTA_TABLE.rawValue), u32: route.table)
            batch.put(Int(RTA_PRIORITY.rawValue), u32: route.metric)
            batch.end()
        }
        return batch
    }
}

/// The route in an RTM_NEWROUTE message; nil for other messages, other
/// families and cached clones.
private func parseRoute(_ message: UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Route? {
    guard Int(message.pointee.nlmsg_type) == Int(RTM_NEWROUTE),
          let header = familyHeader(of: message, as: rtmsg.self),
          let family = AddressFamily(socketFamily: header.rtm_family),
          header.rtm_flags & UInt32(RTM_F_CLONED) == 0 else { return nil }
    var destination: IPAddress?
    var gateway: IPAddress?
    var interfaceIndex: Int32 = 0
    var table = UInt32(header.rtm_table)
    var metric: UInt32 = 0
    try forEachAttribute(in: attributeRegion(of: message, after: MemoryLayout<rtmsg>.size)) {
        (type, payload) throws(NetlinkError) in
        switch type {
        case Int(RTA_DST.rawValue): destination = payload.ipAddress
        case Int(RTA_GATEWAY.rawValue): gateway = payload.ipAddress
        case Int(RTA_OIF.rawValue): interfaceIndex = Int32(bitPattern: payload.u32 ?? 0)
        case Int(RTA_TABLE.rawValue): table = payload.u32 ?? table
        case Int(RTA_PRIORITY.rawValue): metric = payload.u32 ?? 0
        default: break
        }
    }
    let unspecified: IPAddress = family == .ipv4 ? .v4(.unspecified) : .v6(.unspecified)
    guard let prefix = try? IPPrefix(destination ?? unspecified, length: Int(header.rtm_dst_len)) else {
        throw NetlinkError(.malformedReply, "listing routes")
    }
    return Route(
        destination: prefix, interfaceIndex: interfaceIndex, gateway: gateway, table: table, metric: metric,
        protocolNumber: header.rtm_protocol, scope: header.rtm_scope, type: header.rtm_type)
}
