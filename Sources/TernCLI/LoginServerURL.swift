import TextFormat

/// Checks the `--login-server` URL before `tern up` sends it: the
/// coordination server speaks plain HTTP (its own Noise channel protects
/// the traffic), so the URL must be `http://HOST[:PORT][/PATH]` with a
/// non-empty host and, if given, a port in 1...65535. IPv6 hosts go in
/// brackets (`http://[fd00::1]:8080`).
public enum LoginServerURL {
    /// Returns `text` unchanged if it is such a URL; throws a
    /// `CommandLineError` saying what is wrong otherwise.
    @discardableResult
    public static func validate(_ text: String) throws(CommandLineError) -> String {
        let bytes = Array(text.utf8)
        let scheme = Array("http://".utf8)
        guard bytes.count >= scheme.count, Array(bytes[0..<scheme.count]).lowercasedASCII() == scheme else {
            if text.hasPrefix("https://") {
                throw CommandLineError("--login-server must be an http:// URL (the control protocol brings its own encryption), not '" + text + "'")
            }
            throw CommandLineError("--login-server must be an http:// URL such as http://10.0.0.1:8080, not '" + text + "'")
        }
        var end = scheme.count
        while end < bytes.count && bytes[end] != UInt8(ascii: "/") && bytes[end] != UInt8(ascii: "?")
            && bytes[end] != UInt8(ascii: "#") {
            end += 1
        }
        let authority = Array(bytes[scheme.count..<end])
        guard !authority.contains(UInt8(ascii: "@")) else {
            throw CommandLineError("--login-server must not carry a user name or password: '" + text + "'")
        }
        var host = authority
        var port: [UInt8]? = nil
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else {
                throw CommandLineError("--login-server has an unclosed '[' in its host: '" + text + "'")
            }
            host = Array(authority[1..<close])
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else {
                    throw CommandLineError("--login-server has junk after its host: '" + text + "'")
                }
                port = Array(after.dropFirst())
            }
        } else if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
            host = Array(authority[0..<colon])
            port = Array(authority[(colon + 1)...])
        }
        guard !host.isEmpty else {
            throw CommandLineError("--login-server needs a host, as in http://10.0.0.1:8080: '" + text + "'")
        }
        for byte in host where byte <= 0x20 || byte >= 0x7F {
            throw CommandLineError("--login-server has an invalid character in its host: '" + text + "'")
        }
        if let port {
            guard ArgumentScanner.integer(String(decoding: port, as: UTF8.self), in: 1...65535) != nil else {
                throw CommandLineError("--login-server needs a port between 1 and 65535: '" + text + "'")
            }
        }
        return text
    }
}

extension Array where Element == UInt8 {
    /// The bytes with ASCII letters folded to lower case.
    fileprivate func lowercasedASCII() -> [UInt8] {
        map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    }
}
