/// Why a configuration request failed, and what to tell the client.
///
/// Every case maps to the negative errno that wireguard-go answers in
/// `errno=N` (spec digest §9), using Linux errno values: a line without "="
/// is -EPROTO (-71); an unknown key, a key in the wrong section or a bad value
/// is -EINVAL (-22); a port or fwmark the shell could not apply is
/// -EADDRINUSE (-98); an I/O failure is -EIO (-5).
///
/// The framing errors (`unknownOperation`, `lineTooLong`, `requestTooLarge`)
/// leave the byte stream out of step: the connection must be closed
/// (`closesConnection`), as wireguard-go does for an unknown operation. Their
/// `errno` is -EPROTO, for a shell that wants to answer before closing.
public enum UAPIError: Error, Equatable, Sendable {
    /// The first line of a request is neither `get=1` nor `set=1`.
    case unknownOperation
    /// A line longer than the framer's limit (bytes before "\n").
    case lineTooLong(limit: Int)
    /// A request larger than the framer's limit (all its bytes).
    case requestTooLarge(limit: Int)
    /// Line `line` (1-based, the operation line is line 1) has no "=" (-EPROTO).
    case malformedLine(line: Int)
    /// Line `line` names a key that is unknown, or a peer key before the first
    /// `public_key=`, or a device key after it (-EINVAL).
    case unknownKey(line: Int)
    /// Line `line` has a value that does not parse for `key` (-EINVAL).
    case invalidValue(line: Int, key: UAPIKey)
    /// Line `line` is `protocol_version=` with a value other than "1" (-EINVAL).
    case unsupportedProtocolVersion(line: Int)
    /// A `get` request carried lines before its terminating blank line; `wg`
    /// sends exactly `get=1\n\n` (-EINVAL).
    case unexpectedLineInGet(line: Int)
    /// The shell could not bind the requested listen port or set the fwmark (-EADDRINUSE).
    case addressInUse
    /// The shell failed to read or write (-EIO).
    case io

    /// The negative errno to answer with (`errno=N`); Linux values.
    public var errno: Int32 {
        switch self {
        case .malformedLine, .unknownOperation, .lineTooLong, .requestTooLarge: return -71  // EPROTO
        case .unknownKey, .invalidValue, .unsupportedProtocolVersion, .unexpectedLineInGet: return -22  // EINVAL
        case .addressInUse: return -98  // EADDRINUSE
        case .io: return -5  // EIO
        }
    }

    /// True for framing errors, after which the connection must be closed
    /// without reading further requests from it.
    public var closesConnection: Bool {
        switch self {
        case .unknownOperation, .lineTooLong, .requestTooLarge: return true
        default: return false
        }
    }
}

extension UAPIError: CustomStringConvertible {
    /// A one-line message for people (logs); never contains key material.
    public var description: String {
        switch self {
        case .unknownOperation:
            return "request is neither get=1 nor set=1"
        case .lineTooLong(let limit):
            return "line longer than " + String(limit) + " bytes"
        case .requestTooLarge(let limit):
            return "request larger than " + String(limit) + " bytes"
        case .malformedLine(let line):
            return "line " + String(line) + " has no '='"
        case .unknownKey(let line):
            return "line " + String(line) + ": unknown key or key in the wrong section"
        case .invalidValue(let line, let key):
            return "line " + String(line) + ": invalid value for " + key.name
        case .unsupportedProtocolVersion(let line):
            return "line " + String(line) + ": protocol_version must be 1"
        case .unexpectedLineInGet(let line):
            return "line " + String(line) + ": a get request takes no arguments"
        case .addressInUse:
            return "could not apply listen_port or fwmark"
        case .io:
            return "I/O error"
        }
    }
}
