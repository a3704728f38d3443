import IP

/// A coordination server address as `tern up --login-server` takes it:
/// "http://HOST:PORT" (port 80 when omitted), where HOST is an IPv4
/// address, a bracketed IPv6 address or a name to resolve.
public struct ControlURL: Equatable, Sendable, CustomStringConvertible {
    /// The host as written (without brackets).
    public let host: String
    /// The TCP port.
    public let port: UInt16
    /// The address, when the host is an IP literal (no resolution needed).
    public let address: IPAddress?

    /// Parses `text`; the error says what is wrong in words.
    public init(_ text: String) throws(ControlURLError) {
        let scheme = "http://"
        guard text.hasPrefix(scheme) else {
            throw ControlURLError("'" + text + "' must start with http:// (the channel is encrypted end to end inside it)")
        }
        var rest = String(text.dropFirst(scheme.count))
        while rest.hasSuffix("/") { rest.removeLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@"), !rest.contains("?") else {
            throw ControlURLError("'" + text + "' must be http://HOST[:PORT] with no path")
        }
        var hostPart = rest
        var portText: String? = nil
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw ControlURLError("'" + text + "': unclosed '['") }
            hostPart = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw ControlURLError("'" + text + "': expected ':' after ']'") }
                portText = String(after.dropFirst())
            }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = String(rest[..<colon])
            portText = String(rest[rest.index(after: colon)...])
        }
        guard !hostPart.isEmpty else { throw ControlURLError("'" + text + "' has no host") }
        var port: UInt16 = 80
        if let portText {
            guard let number = UInt16(portText), number > 0 else {
                throw ControlURLError("'" + text + "': port must be 1-65535")
            }
            port = number
        }
        host = hostPart
        self.port = port
        address = try? IPAddress(hostPart)
    }

    /// The canonical text: "http://host:port".
    public var description: String {
        let shownHost = address.map { $0.isIPv4 ? host : "[" + host + "]" } ?? host
        return "http://" + shownHost + ":" + String(port)
    }

    /// The Host header value.
    public var hostHeader: String {
        let shownHost = address.map { $0.isIPv4 ? host : "[" + host + "]" } ?? host
        return shownHost + ":" + String(port)
    }
}

/// A login server address that cannot be used.
public struct ControlURLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}
