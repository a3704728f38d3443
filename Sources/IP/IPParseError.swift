/// Why text could not be parsed as an address, prefix or endpoint.
///
/// Offsets are 0-based byte offsets into the UTF-8 text that was given to the
/// parser, so a message can point at the culprit.
public enum IPParseError: Error, Equatable, Sendable {
    /// The text is empty.
    case empty
    /// A byte that cannot appear at this offset (a letter in a dotted quad, an
    /// empty octet as in "1..2.3", a space, a "::" where no group may follow, ...).
    case unexpectedCharacter(offset: Int)
    /// The text stops where an octet, group, prefix length or port must follow
    /// ("1.2.3.", "fe80:", "10.0.0.0/", "1.2.3.4:").
    case unexpectedEnd
    /// Fewer than four IPv4 octets, or fewer than eight IPv6 groups without "::".
    case tooFewParts
    /// More than four IPv4 octets, or more than eight IPv6 groups (a "::"
    /// stands for at least one group).
    case tooManyParts
    /// A decimal number (octet, prefix length or port) written with a leading
    /// zero, such as "01" or "/08"; only "0" itself may start with a zero.
    case leadingZero(offset: Int)
    /// The number starting at this offset is too large for its field: an octet
    /// over 255, an IPv6 group of more than four hex digits, a port over 65535.
    case numberTooLarge(offset: Int)
    /// A second "::" at this offset; an IPv6 address may compress only one run.
    case secondDoubleColon(offset: Int)
    /// A zone index ("fe80::1%eth0") at this offset; zones have no meaning in
    /// WireGuard's address space and are refused.
    case zoneIndex(offset: Int)
    /// The prefix length is larger than the address family allows.
    case prefixLengthOutOfRange(maximum: Int)
    /// An endpoint without ":port".
    case missingPort
    /// An IPv6 endpoint without its brackets ("fd00::1:51820"), or a "[" without
    /// its "]"; IPv6 endpoints are written "[fd00::1]:51820".
    case missingBracket
}

extension IPParseError: CustomStringConvertible {
    /// A one-line message for people.
    public var description: String {
        switch self {
        case .empty:
            return "empty text"
        case .unexpectedCharacter(let offset):
            return "unexpected character at offset " + String(offset)
        case .unexpectedEnd:
            return "text ends too early"
        case .tooFewParts:
            return "too few octets or groups"
        case .tooManyParts:
            return "too many octets or groups"
        case .leadingZero(let offset):
            return "number with a leading zero at offset " + String(offset)
        case .numberTooLarge(let offset):
            return "number too large at offset " + String(offset)
        case .secondDoubleColon(let offset):
            return "second \"::\" at offset " + String(offset)
        case .zoneIndex(let offset):
            return "zone index at offset " + String(offset) + " is not allowed"
        case .prefixLengthOutOfRange(let maximum):
            return "prefix length must be 0..." + String(maximum)
        case .missingPort:
            return "missing \":port\""
        case .missingBracket:
            return "IPv6 endpoint must be written [address]:port"
        }
    }
}
