import CTern
import IP

/// A name lookup that never blocks the caller: glibc's resolver works on
/// it in the background (`getaddrinfo_a`, honouring /etc/hosts,
/// /etc/resolv.conf and nsswitch like any lookup), and the event loop asks
/// `poll()` on its turns until the answer is in.
///
/// Dropping a lookup still under way cancels it; one glibc cannot cancel
/// any more (its query is on the wire) is kept and freed on a later
/// lookup once glibc is done with it, so nothing leaks and nothing waits.
public final class NameLookup {
    /// Where a lookup stands.
    public enum State: Equatable {
        /// Still waiting for an answer.
        case pending
        /// The addresses found, IPv4 first, in the resolver's order otherwise.
        case resolved([IPAddress])
        /// No address: why, in words.
        case failed(String)
    }

    /// The name being looked up.
    public let host: String
    private var lookup: UnsafeMutablePointer<tern_lookup>?
    private var finished: State?

    /// Lookups dropped while glibc still worked on them.
    nonisolated(unsafe) private static var abandoned: [UnsafeMutablePointer<tern_lookup>] = []

    /// Starts looking up `host`.
    public init(host: String) {
        self.host = host
        NameLookup.abandoned.removeAll { tern_lookup_release($0) == 1 }
        var error: Int32 = 0
        lookup = host.withCString { tern_lookup_start($0, &error) }
        if lookup == nil { finished = .failed(NameLookup.describe(error)) }
    }

    deinit {
        if let lookup, tern_lookup_release(lookup) == 0 { NameLookup.abandoned.append(lookup) }
    }

    /// Where the lookup stands now; once answered, the answer stays.
    public func poll() -> State {
        if let finished { return finished }
        guard let lookup else { return .failed("no lookup") }
        let status = tern_lookup_status(lookup)
        if status == 1 { return .pending }
        let state: State
        if status == 0 {
            let addresses = NameLookup.addresses(in: tern_lookup_result(lookup))
            state = addresses.isEmpty ? .failed("no IPv4 or IPv6 address") : .resolved(addresses)
        } else {
            state = .failed(NameLookup.describe(status))
        }
        finished = state
        if tern_lookup_release(lookup) == 0 { NameLookup.abandoned.append(lookup) }
        self.lookup = nil
        return state
    }

    private static func addresses(in list: UnsafePointer<addrinfo>?) -> [IPAddress] {
        var ipv4: [IPAddress] = []
        var ipv6: [IPAddress] = []
        var node = list
        while let entry = node {
            if let address = entry.pointee.ai_addr {
                if entry.pointee.ai_family == AF_INET {
                    ipv4.append(address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        withUnsafeBytes(of: v4.pointee.sin_addr) { IPAddress(networkOrderBytes: $0) }
                    })
                } else if entry.pointee.ai_family == AF_INET6 {
                    ipv6.append(address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        withUnsafeBytes(of: v6.pointee.sin6_addr) { IPAddress(networkOrderBytes: $0) }
                    })
                }
            }
            node = UnsafePointer(entry.pointee.ai_next)
        }
        var unique: [IPAddress] = []
        for address in ipv4 + ipv6 where !unique.contains(address) { unique.append(address) }
        return unique
    }

    private static func describe(_ code: Int32) -> String {
        guard let text = gai_strerror(code) else { return "lookup error " + String(code) }
        return String(cString: text)
    }
}
