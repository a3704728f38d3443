import IP
import TernCrypto

/// One validated line of a `set` request, in the order the client sent it.
///
/// Device operations come first; `peer` starts a peer block and the
/// operations after it, up to the next `peer`, apply to that peer
/// (spec digest §9). `protocol_version=1` is checked and then dropped: it
/// changes nothing.
public enum SetOperation: Equatable, Sendable {
    /// `private_key=`: the new private key, or nil for all-zero hex (clears it).
    case privateKey(PrivateKey?)
    /// `listen_port=`: the UDP port to bind (0 = any). Shell state, not Device state.
    case listenPort(UInt16)
    /// `fwmark=`: the SO_MARK of the UDP socket (0 clears). Shell state.
    case fwmark(UInt32)
    /// `replace_peers=true`: remove every peer.
    case replacePeers
    /// `public_key=`: select the peer with this key, created if absent.
    case peer(PublicKey)
    /// `update_only=true`: if the selected peer was just created, remove it again.
    case updateOnly
    /// `remove=true`: remove the selected peer; the rest of its block is ignored.
    case remove
    /// `preshared_key=`: the peer's preshared key (`.none` when all zero).
    case presharedKey(PresharedKey)
    /// `endpoint=`: where to send the peer's packets.
    case endpoint(Endpoint)
    /// `persistent_keepalive_interval=`: seconds, 0 = off.
    case persistentKeepalive(UInt16)
    /// `replace_allowed_ips=true`: remove the peer's allowed IPs.
    case replaceAllowedIPs
    /// `allowed_ip=<prefix>`: route the prefix to the peer (taking it from another peer).
    case addAllowedIP(IPPrefix)
    /// `allowed_ip=-<prefix>`: stop routing the prefix to the peer, if it owns it.
    case removeAllowedIP(IPPrefix)
}

/// A parsed and fully validated `set` request.
///
/// Parsing checks every line before anything is applied, so a request with
/// a bad line anywhere is refused as a whole and changes nothing; applying a
/// parsed request cannot fail (`apply(to:now:)`). The accepted grammar is
/// wireguard-go's (`device/uapi.go`):
/// - a line without "=" is `malformedLine` (-EPROTO); the key is what comes
///   before the first "=", the value everything after it;
/// - before the first `public_key=` only `private_key`, `listen_port`,
///   `fwmark` and `replace_peers` are allowed; after it only the peer keys;
///   anything else is `unknownKey` (-EINVAL);
/// - keys are 64 hex digits (either case); numbers are decimal digits
///   (leading zeros allowed) within 16 or 32 bits; flags must be exactly
///   `true`; `protocol_version` must be exactly `1`;
/// - `endpoint` is `a.b.c.d:port` or `[ipv6]:port` with numeric addresses
///   only (`wg` resolves host names before sending); zone indices are refused;
/// - `allowed_ip` is `address/length` (the "/" is required), optionally
///   preceded by "-" to remove the prefix.
public struct SetRequest: Equatable, Sendable {
    /// The operations in request order.
    public let operations: [SetOperation]

    /// A request made of `operations`, as given (no validation of their order).
    public init(operations: [SetOperation]) {
        self.operations = operations
    }

    /// Parses and validates the body of a `set` request: `key=value` lines,
    /// each ending in "\n" (a missing "\n" after the last line is tolerated).
    /// Line numbers in errors count the `set=1` line as line 1.
    public init(body: [UInt8]) throws(UAPIError) {
        var operations: [SetOperation] = []
        var inPeer = false
        var lineNumber = 1
        var start = 0
        while start < body.count {
            lineNumber += 1
            let end = body.firstIndex(of: UInt8(ascii: "\n"), in: start..<body.count) ?? body.count
            let operation = try SetRequest.parseLine(body, start..<end, number: lineNumber, inPeer: &inPeer)
            if let operation { operations.append(operation) }
            start = end + 1
        }
        self.operations = operations
    }

    /// Parses a framed request; throws `unknownOperation` for a `get`.
    public init(_ request: UAPIRequest) throws(UAPIError) {
        guard request.operation == .set else { throw .unknownOperation }
        try self.init(body: request.body)
    }

    /// The listen port the request asks for (the last one), if any. The shell
    /// may bind it before applying, so that a port in use fails the request
    /// before anything changes.
    public var listenPort: UInt16? {
        var port: UInt16?
        for case .listenPort(let value) in operations { port = value }
        return port
    }

    /// The fwmark the request asks for (the last one), if any.
    public var fwmark: UInt32? {
        var mark: UInt32?
        for case .fwmark(let value) in operations { mark = value }
        return mark
    }

    // MARK: Lines

    /// One line → an operation (nil for `protocol_version=1`).
    private static func parseLine(
        _ body: [UInt8], _ line: Range<Int>, number: Int, inPeer: inout Bool
    ) throws(UAPIError) -> SetOperation? {
        guard let equals = body.firstIndex(of: UInt8(ascii: "="), in: line) else {
            throw .malformedLine(line: number)
        }
        let keyRange = line.lowerBound..<equals
        let value = equals + 1..<line.upperBound
        guard let key = UAPIKey.allCases.first(where: { body.matches(keyRange, $0.spelling) }) else {
            throw .unknownKey(line: number)
        }
        if key == .publicKey {
            inPeer = true
        } else if key.isDeviceKey == inPeer {
            throw .unknownKey(line: number)
        }
        let invalid = UAPIError.invalidValue(line: number, key: key)
        switch key {
        case .privateKey:
            guard let bytes = hexKey(body, value) else { throw invalid }
            let clear = PresharedKey(bytes: bytes).isZero
            return .privateKey(clear ? nil : PrivateKey(bytes: bytes))
        case .listenPort:
            guard let port = body.decimal(value, maximum: UInt64(UInt16.max)) else { throw invalid }
            return .listenPort(UInt16(truncatingIfNeeded: port))
        case .fwmark:
            guard let mark = body.decimal(value, maximum: UInt64(UInt32.max)) else { throw invalid }
            return .fwmark(UInt32(truncatingIfNeeded: mark))
        case .replacePeers:
            guard body.matches(value, "true") else { throw invalid }
            return .replacePeers
        case .publicKey:
            guard let bytes = hexKey(body, value) else { throw invalid }
            return .peer(PublicKey(bytes: bytes))
        case .updateOnly:
            guard body.matches(value, "true") else { throw invalid }
            return .updateOnly
        case .remove:
            guard body.matches(value, "true") else { throw invalid }
            return .remove
        case .presharedKey:
            guard let bytes = hexKey(body, value) else { throw invalid }
            return .presharedKey(PresharedKey(bytes: bytes))
        case .endpoint:
            guard let endpoint = parseEndpoint(body, value) else { throw invalid }
            return .endpoint(endpoint)
        case .persistentKeepaliveInterval:
            guard let seconds = body.decimal(value, maximum: UInt64(UInt16.max)) else { throw invalid }
            return .persistentKeepalive(UInt16(truncatingIfNeeded: seconds))
        case .replaceAllowedIPs:
            guard body.matches(value, "true") else { throw invalid }
            return .replaceAllowedIPs
        case .allowedIP:
            let remove = !value.isEmpty && body[value.lowerBound] == UInt8(ascii: "-")
            let text = remove ? value.lowerBound + 1..<value.upperBound : value
            guard let prefix = parsePrefix(body, text) else { throw invalid }
            return remove ? .removeAllowedIP(prefix) : .addAllowedIP(prefix)
        case .protocolVersion:
            guard body.matches(value, "1") else { throw .unsupportedProtocolVersion(line: number) }
            return nil
        }
    }

    // MARK: Values

    /// Exactly 64 hex digits (either case) → 32 bytes.
    private static func hexKey(_ body: [UInt8], _ range: Range<Int>) -> Bytes32? {
        guard range.count == 64 else { return nil }
        var bytes = Bytes32(repeating: 0)
        for i in 0..<32 {
            guard let high = hexValue(body[range.lowerBound + 2 * i]),
                  let low = hexValue(body[range.lowerBound + 2 * i + 1]) else { return nil }
            bytes[i] = high << 4 | low
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `a.b.c.d:port` or `[ipv6]:port`, split at the last ":" as Go's
    /// `netip.ParseAddrPort` does; the port may have leading zeros.
    private static func parseEndpoint(_ body: [UInt8], _ range: Range<Int>) -> Endpoint? {
        var colon: Int?
        for index in range where body[index] == UInt8(ascii: ":") { colon = index }
        guard let colon, colon > range.lowerBound else { return nil }
        guard let port = body.decimal(colon + 1..<range.upperBound, maximum: UInt64(UInt16.max)) else { return nil }
        let host = range.lowerBound..<colon
        let address: IPAddress
        if body[host.lowerBound] == UInt8(ascii: "[") {
            guard host.count >= 2, body[host.upperBound - 1] == UInt8(ascii: "]") else { return nil }
            guard let v6 = try? IPv6Address(body.string(host.lowerBound + 1..<host.upperBound - 1)) else { return nil }
            address = .v6(v6)
        } else {
            guard let v4 = try? IPv4Address(body.string(host)) else { return nil }
            address = .v4(v4)
        }
        return Endpoint(address, port: UInt16(truncatingIfNeeded: port))
    }

    /// `address/length` with the "/" required, as Go's `netip.ParsePrefix`.
    private static func parsePrefix(_ body: [UInt8], _ range: Range<Int>) -> IPPrefix? {
        guard body.firstIndex(of: UInt8(ascii: "/"), in: range) != nil else { return nil }
        return try? IPPrefix(body.string(range))
    }
}
