import IP
import JSON

/// An inclusive range of TCP/UDP/SCTP ports.
public struct PortRange: Hashable, Sendable, CustomStringConvertible {
    /// The first port.
    public var first: UInt16
    /// The last port (≥ `first`).
    public var last: UInt16

    /// `first...last`; nil unless first ≤ last.
    public init?(first: UInt16, last: UInt16) {
        guard first <= last else { return nil }
        self.first = first
        self.last = last
    }

    /// Every port, 0–65535.
    public static let all = PortRange(first: 0, last: 65535)!

    /// True if `port` is in the range.
    public func contains(_ port: UInt16) -> Bool { port >= first && port <= last }

    /// "22", "8000-8999" or "*".
    public var description: String {
        if self == .all { return "*" }
        return first == last ? String(first) : String(first) + "-" + String(last)
    }
}

/// Where a rule lets packets go: a destination prefix and its ports.
public struct FilterDestination: Hashable, Sendable {
    /// The destination addresses (a node's /32 or /128, or a subnet route).
    public var prefix: IPPrefix
    /// The destination ports (ignored for protocols without ports).
    public var ports: PortRange

    /// A destination.
    public init(prefix: IPPrefix, ports: PortRange) {
        self.prefix = prefix
        self.ports = ports
    }
}

/// One rule of a node's packet filter, compiled by the server from the
/// policy: packets from `sources` to `destinations` over `protocols` may
/// open connections to this node (or to the subnet it routes). Rules only
/// allow; anything no rule allows is dropped.
public struct FilterRule: Hashable, Sendable {
    /// The source prefixes (0.0.0.0/0 and ::/0 for "anyone").
    public var sources: [IPPrefix]
    /// The destinations with their ports.
    public var destinations: [FilterDestination]
    /// IP protocol numbers; empty means TCP, UDP, ICMP and ICMPv6.
    public var protocols: [UInt8]
    /// The index of the policy rule it came from, for per-rule counters.
    public var policyRule: Int

    /// A rule.
    public init(sources: [IPPrefix], destinations: [FilterDestination], protocols: [UInt8], policyRule: Int) {
        self.sources = sources
        self.destinations = destinations
        self.protocols = protocols
        self.policyRule = policyRule
    }

    /// The protocols an empty `protocols` stands for.
    public static let defaultProtocols: [UInt8] = [6, 17, 1, 58]

    /// `{"src": ["100.64.0.1/32"], "dst": [{"ip": "100.64.0.5/32", "ports": "22"}], "proto": [6], "rule": 0}`.
    public var json: JSONValue {
        ["src": .array(sources.map { .string($0.description) }),
         "dst": .array(destinations.map { ["ip": .string($0.prefix.description), "ports": .string($0.ports.description)] }),
         "proto": .array(protocols.map { .number(JSONNumber(Int64($0))) }),
         "rule": .number(JSONNumber(Int64(policyRule)))]
    }

    /// Reads a rule from its JSON object.
    public init(json: JSONValue) throws(ControlMessageError) {
        let fields = Fields(json)
        sources = try fields.prefixes("src")
        destinations = try fields.array("dst") { value throws(ControlMessageError) in
            let entry = Fields(value)
            let prefix = try entry.prefix("ip")
            let text = try entry.string("ports")
            guard let ports = PortRange(parsing: text) else {
                throw ControlMessageError("dst ports: expected *, a port or first-last, not '" + text + "'")
            }
            return FilterDestination(prefix: prefix, ports: ports)
        }
        protocols = try fields.array("proto") { value throws(ControlMessageError) in
            guard let number = value.int, (0...255).contains(number) else { throw ControlMessageError("proto: expected 0-255") }
            return UInt8(number)
        }
        guard let rule = json["rule"]?.int, rule >= 0 else { throw ControlMessageError("rule: expected an index") }
        policyRule = rule
    }
}

extension PortRange {
    /// Parses "*", "22" or "8000-8999".
    public init?(parsing text: String) {
        if text == "*" { self = .all; return }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let first = UInt16(parts[0]) else { return nil }
        guard let last = parts.count == 2 ? UInt16(parts[1]) : first else { return nil }
        self.init(first: first, last: last)
    }
}
