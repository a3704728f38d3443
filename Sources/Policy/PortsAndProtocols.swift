import ControlProtocol

/// The `proto` field of ACLs and tests: IANA protocol names and numbers.
public enum PolicyProtocol {
    /// The names Tailscale accepts, with their numbers.
    public static let names: [(name: String, number: UInt8)] = [
        ("icmp", 1), ("igmp", 2), ("ipv4", 4), ("ip-in-ip", 4), ("tcp", 6), ("egp", 8), ("igp", 9),
        ("udp", 17), ("gre", 47), ("esp", 50), ("ah", 51), ("ipv6-icmp", 58), ("sctp", 132), ("fc", 133),
    ]

    /// TCP, UDP and SCTP: the protocols whose rules may name ports.
    public static func hasPorts(_ number: UInt8) -> Bool { number == 6 || number == 17 || number == 132 }

    /// The name of `number` if it has one, else the number in decimal.
    public static func name(of number: UInt8) -> String {
        for entry in names where entry.number == number { return entry.name }
        return String(number)
    }

    /// Reads a name (any case) or a decimal number 1–255 without leading zeros.
    static func parse(_ text: String, at path: PolicyPath) throws(PolicyError) -> UInt8 {
        let lowered = asciiLowercased(text)
        for entry in names where entry.name == lowered { return entry.number }
        if text == "*" {
            throw path.invalid("proto \"*\" is not allowed: leave proto out for TCP, UDP and ICMP, or name one protocol")
        }
        guard let number = decimal(text), number >= 1, number <= 255 else {
            throw path.invalid("unknown proto " + quoted(text) + " (use a name such as tcp, udp, icmp, or a number 1-255)")
        }
        return UInt8(number)
    }
}

/// Reads the `<ports>` part of a `dst`: `*`, or a comma list of single ports
/// (1–65535) and `first-last` ranges (first ≤ last ≤ 65535).
func parsePorts(_ text: String, at path: PolicyPath) throws(PolicyError) -> [PortRange] {
    if text == "*" { return [.all] }
    var ranges: [PortRange] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
        let bad = path.invalid("bad port " + quoted(String(part)) + " in " + quoted(text)
            + " (write *, a port 1-65535, or a range such as 8000-8999, separated by commas)")
        guard bounds.count == 1 || bounds.count == 2 else { throw bad }
        guard let first = decimal(String(bounds[0])), first <= 65535 else { throw bad }
        if bounds.count == 1 {
            guard first >= 1 else { throw path.invalid("port 0 is not a port (use * for all ports)") }
            ranges.append(PortRange(first: UInt16(first), last: UInt16(first))!)
        } else {
            guard let last = decimal(String(bounds[1])), last <= 65535 else { throw bad }
            guard let range = PortRange(first: UInt16(first), last: UInt16(last)) else {
                throw path.invalid("bad port range " + quoted(String(part)) + ": the first port is larger than the last")
            }
            ranges.append(range)
        }
    }
    return ranges
}

/// Splits a `dst` entry at its last `:` into the target and the ports.
/// Returns nil if there is no `:` or either side is empty.
func splitDestination(_ text: String) -> (target: String, ports: String)? {
    let bytes = Array(text.utf8)
    guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")), colon > 0, colon + 1 < bytes.count else { return nil }
    return (String(decoding: bytes[..<colon], as: UTF8.self), String(decoding: bytes[(colon + 1)...], as: UTF8.self))
}

/// A plain decimal number (digits only, no sign, no leading zero unless it
/// is "0"), or nil; more than six digits is nil, so nothing overflows.
func decimal(_ text: String) -> Int? {
    let bytes = text.utf8
    guard let first = bytes.first, bytes.count <= 6 else { return nil }
    if first == UInt8(ascii: "0") && bytes.count > 1 { return nil }
    var value = 0
    for byte in bytes {
        guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return value
}
