import CTern

/// A connection to the kernel's routing netlink (NETLINK_ROUTE): links,
/// addresses and routes of one network namespace.
///
/// Its operations live in `Links.swift`, `Addresses.swift`, `Routes.swift`
/// and `Ownership.swift`. Changes need CAP_NET_ADMIN in the namespace
/// (`NetlinkError.Code.notPermitted` otherwise); reading does not. One
/// instance serves one thread at a time.
public final class RTNetlink {
    let socket: NetlinkSocket

    /// Opens a routing netlink socket in the network namespace at
    /// `namespacePath` ("/var/run/netns/NAME", "/proc/PID/ns/net"), or in the
    /// calling thread's namespace when nil. The socket stays in that
    /// namespace for its whole life; entering one needs CAP_SYS_ADMIN.
    public init(namespacePath: String? = nil) throws(NetlinkError) {
        socket = try NetlinkSocket(bus: NETLINK_ROUTE, namespacePath: namespacePath, name: "routing")
    }

    /// Dumps with the request `build` writes (given the buffer and a
    /// sequence number) and collects what `parse` makes of each reply
    /// (nil skips it). Dumps again, up to 5 times in all, when the kernel
    /// reports the dump was interrupted by a concurrent change.
    func dump<Item>(
        _ operation: String,
        _ build: (MessageBuffer, UInt32) -> Void,
        _ parse: (UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Item?
    ) throws(NetlinkError) -> [Item] {
        var attempt = 0
        while true {
            attempt += 1
            let request = MessageBuffer(capacity: 256)
            build(request, socket.nextSequence())
            var items: [Item] = []
            let consistent = try socket.request(request, operation) { (message) throws(NetlinkError) in
                if let item = try parse(message) { items.append(item) }
            }
            if consistent || attempt == 5 { return items }
        }
    }

    /// Sends `messages` (each with NLM_F_ACK) as one batch and throws the
    /// first failure as `operation` describes it; for single changes.
    func perform(_ operation: String, _ messages: MessageBuffer) throws(NetlinkError) {
        let acks = try socket.exchange(messages, operation)
        for ack in acks {
            guard let ack else { throw NetlinkError(.malformedReply, operation) }
            if ack.errno != 0 { throw NetlinkError(errno: ack.errno, operation, detail: ack.kernelMessage) }
        }
    }
}
