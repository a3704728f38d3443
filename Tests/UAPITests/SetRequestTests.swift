import IP
import TernCrypto
import Testing
import UAPI
import WireGuard

/// Parsing `set` bodies: every key with good and bad values, exact errors and errnos.
@Suite struct SetRequestTests {
    init() throws { try Sodium.initialize() }

    static func parse(_ body: String) throws(UAPIError) -> [SetOperation] {
        try SetRequest(body: Array(body.utf8)).operations
    }

    static func prefix(_ text: String) -> IPPrefix { try! IPPrefix(text) }
    static func endpoint(_ text: String) -> Endpoint { try! Endpoint(text) }
    static var peer1: PublicKey { try! PublicKey(hex: Keys.peer1) }

    // MARK: Good values

    @Test func deviceKeys() throws {
        let ops = try Self.parse("""
            private_key=\(Keys.ownPrivate)
            listen_port=51820
            fwmark=4294967295
            replace_peers=true

            """)
        #expect(ops == [.privateKey(try PrivateKey(hex: Keys.ownPrivate)), .listenPort(51820), .fwmark(UInt32.max),
                        .replacePeers])
    }

    @Test func privateKeyAllZeroClearsAndUppercaseHexIsAccepted() throws {
        #expect(try Self.parse("private_key=\(Keys.zero)\n") == [.privateKey(nil)])
        #expect(try Self.parse("private_key=\(Keys.ownPrivate.uppercased())\n")
                == [.privateKey(try PrivateKey(hex: Keys.ownPrivate))])
    }

    @Test func numbersTakeLeadingZerosAndTheirFullRangeLikeGoParseUint() throws {
        #expect(try Self.parse("listen_port=0\nlisten_port=65535\nlisten_port=0051820\nfwmark=0\n")
                == [.listenPort(0), .listenPort(65535), .listenPort(51820), .fwmark(0)])
        let request = try SetRequest(body: Array("listen_port=1\nfwmark=9\nlisten_port=2\n".utf8))
        #expect(request.listenPort == 2)
        #expect(request.fwmark == 9)
        #expect(try SetRequest(body: []).listenPort == nil)
    }

    @Test func peerKeys() throws {
        let ops = try Self.parse("""
            public_key=\(Keys.peer1)
            update_only=true
            remove=true
            preshared_key=\(Keys.psk)
            endpoint=192.0.2.1:51820
            endpoint=[2001:db8::1]:51821
            endpoint=[::ffff:192.0.2.9]:0
            endpoint=192.0.2.1:051820
            persistent_keepalive_interval=65535
            persistent_keepalive_interval=0
            replace_allowed_ips=true
            allowed_ip=10.1.2.3/8
            allowed_ip=-fd00::/8
            allowed_ip=::ffff:192.0.2.9/128
            allowed_ip=0.0.0.0/0
            protocol_version=1

            """)
        #expect(ops == [
            .peer(Self.peer1), .updateOnly, .remove, .presharedKey(try PresharedKey(hex: Keys.psk)),
            .endpoint(Self.endpoint("192.0.2.1:51820")), .endpoint(Self.endpoint("[2001:db8::1]:51821")),
            .endpoint(Self.endpoint("[::ffff:192.0.2.9]:0")), .endpoint(Self.endpoint("192.0.2.1:51820")),
            .persistentKeepalive(65535), .persistentKeepalive(0), .replaceAllowedIPs,
            .addAllowedIP(Self.prefix("10.0.0.0/8")), .removeAllowedIP(Self.prefix("fd00::/8")),
            .addAllowedIP(Self.prefix("::ffff:192.0.2.9/128")), .addAllowedIP(Self.prefix("0.0.0.0/0")),
        ])
    }

    @Test func zeroPresharedKeyMeansNone() throws {
        #expect(try Self.parse("public_key=\(Keys.peer1)\npreshared_key=\(Keys.zero)\n")
                == [.peer(Self.peer1), .presharedKey(.none)])
    }

    @Test func lastLineWithoutNewlineIsTolerated() throws {
        #expect(try Self.parse("listen_port=1") == [.listenPort(1)])
    }

    @Test func emptyBodyIsAnEmptyRequest() throws {
        #expect(try Self.parse("") == [])
    }

    @Test func aGetIsNotASet() {
        #expect(throws: UAPIError.unknownOperation) { try SetRequest(UAPIRequest(operation: .get, body: [])) }
    }

    // MARK: Bad values

    /// A line that must be refused in the device section (it is line 2: `set=1` is line 1).
    static let badDeviceLines: [(String, UAPIError)] = [
        ("private_key=" + String(repeating: "z", count: 64), .invalidValue(line: 2, key: .privateKey)),
        ("private_key=abcd", .invalidValue(line: 2, key: .privateKey)),
        ("private_key=" + Keys.ownPrivate + "00", .invalidValue(line: 2, key: .privateKey)),
        ("private_key=" + String(Keys.ownPrivate.dropLast()), .invalidValue(line: 2, key: .privateKey)),
        ("private_key=", .invalidValue(line: 2, key: .privateKey)),
        ("private_key= " + String(Keys.ownPrivate.dropLast()), .invalidValue(line: 2, key: .privateKey)),
        ("listen_port=65536", .invalidValue(line: 2, key: .listenPort)),
        ("listen_port=-1", .invalidValue(line: 2, key: .listenPort)),
        ("listen_port=+1", .invalidValue(line: 2, key: .listenPort)),
        ("listen_port=", .invalidValue(line: 2, key: .listenPort)),
        ("listen_port= 1", .invalidValue(line: 2, key: .listenPort)),
        ("listen_port=0x10", .invalidValue(line: 2, key: .listenPort)),
        ("listen_port=99999999999999999999999", .invalidValue(line: 2, key: .listenPort)),
        ("fwmark=4294967296", .invalidValue(line: 2, key: .fwmark)),
        ("fwmark=0x1234", .invalidValue(line: 2, key: .fwmark)),
        ("replace_peers=false", .invalidValue(line: 2, key: .replacePeers)),
        ("replace_peers=TRUE", .invalidValue(line: 2, key: .replacePeers)),
        ("replace_peers=", .invalidValue(line: 2, key: .replacePeers)),
        ("public_key=" + String(repeating: "g", count: 64), .invalidValue(line: 2, key: .publicKey)),
        ("public_key=uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=", .invalidValue(line: 2, key: .publicKey)),
        // Peer keys before any public_key=.
        ("endpoint=192.0.2.1:51820", .unknownKey(line: 2)),
        ("allowed_ip=10.0.0.0/8", .unknownKey(line: 2)),
        ("preshared_key=" + Keys.psk, .unknownKey(line: 2)),
        ("protocol_version=1", .unknownKey(line: 2)),
        ("remove=true", .unknownKey(line: 2)),
        // Unknown keys and malformed lines.
        ("foo=bar", .unknownKey(line: 2)),
        ("=value", .unknownKey(line: 2)),
        ("=", .unknownKey(line: 2)),
        ("Private_Key=" + Keys.ownPrivate, .unknownKey(line: 2)),
        (" private_key=" + Keys.ownPrivate, .unknownKey(line: 2)),
        ("get=1", .unknownKey(line: 2)),
        ("private_key", .malformedLine(line: 2)),
        ("no equals sign here", .malformedLine(line: 2)),
        ("", .malformedLine(line: 2)),
    ]

    /// A line that must be refused inside a peer block (line 3, after `public_key=`).
    static let badPeerLines: [(String, UAPIError)] = [
        ("private_key=" + Keys.ownPrivate, .unknownKey(line: 3)),
        ("listen_port=1", .unknownKey(line: 3)),
        ("fwmark=1", .unknownKey(line: 3)),
        ("replace_peers=true", .unknownKey(line: 3)),
        ("update_only=1", .invalidValue(line: 3, key: .updateOnly)),
        ("remove=yes", .invalidValue(line: 3, key: .remove)),
        ("preshared_key=short", .invalidValue(line: 3, key: .presharedKey)),
        ("preshared_key=" + String(repeating: "x", count: 64), .invalidValue(line: 3, key: .presharedKey)),
        ("endpoint=192.0.2.1", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=192.0.2.1:", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=192.0.2.1:65536", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=192.0.2.1:-1", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=:51820", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=2001:db8::1:51820", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=[2001:db8::1]", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=[2001:db8::1]x:1", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=[192.0.2.1]:51820", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=[]:51820", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=example.com:51820", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=[fe80::1%eth0]:51820", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=01.2.3.4:1", .invalidValue(line: 3, key: .endpoint)),
        ("endpoint=1.2.3.4:1 ", .invalidValue(line: 3, key: .endpoint)),
        ("persistent_keepalive_interval=70000", .invalidValue(line: 3, key: .persistentKeepaliveInterval)),
        ("persistent_keepalive_interval=65536", .invalidValue(line: 3, key: .persistentKeepaliveInterval)),
        ("persistent_keepalive_interval=-1", .invalidValue(line: 3, key: .persistentKeepaliveInterval)),
        ("persistent_keepalive_interval=", .invalidValue(line: 3, key: .persistentKeepaliveInterval)),
        ("persistent_keepalive_interval=2.5", .invalidValue(line: 3, key: .persistentKeepaliveInterval)),
        ("persistent_keepalive_interval=off", .invalidValue(line: 3, key: .persistentKeepaliveInterval)),
        ("replace_allowed_ips=false", .invalidValue(line: 3, key: .replaceAllowedIPs)),
        ("allowed_ip=10.0.0.1", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=10.0.0.0/33", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=::/129", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=10.0.0.0/08", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=10.0.0.256/32", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=fe80::1%eth0/64", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=10.0.0.0/8 ", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=10.0.0.0/8=", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=/8", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=-", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=--10.0.0.0/8", .invalidValue(line: 3, key: .allowedIP)),
        ("allowed_ip=", .invalidValue(line: 3, key: .allowedIP)),
        ("protocol_version=2", .unsupportedProtocolVersion(line: 3)),
        ("protocol_version=0", .unsupportedProtocolVersion(line: 3)),
        ("protocol_version=01", .unsupportedProtocolVersion(line: 3)),
        ("protocol_version=", .unsupportedProtocolVersion(line: 3)),
        ("public_key=" + Keys.peer2 + "0", .invalidValue(line: 3, key: .publicKey)),
        ("last_handshake_time_sec=0", .unknownKey(line: 3)),
        ("tx_bytes=0", .unknownKey(line: 3)),
        ("errno=0", .unknownKey(line: 3)),
        ("allowed_ip", .malformedLine(line: 3)),
        ("", .malformedLine(line: 3)),
    ]

    /// Every bad line that can reach the parser through the framer, as the
    /// body of a whole request. (An empty line cannot: it ends the request.)
    static let badRequests: [(String, UAPIError)] =
        badDeviceLines.filter { !$0.0.isEmpty }.map { ($0.0 + "\n", $0.1) }
        + badPeerLines.filter { !$0.0.isEmpty }.map { ("public_key=\(Keys.peer1)\n" + $0.0 + "\n", $0.1) }

    @Test(arguments: badDeviceLines)
    func badDeviceLine(line: String, error: UAPIError) {
        #expect(throws: error) { try Self.parse(line + "\n") }
    }

    @Test(arguments: badPeerLines)
    func badPeerLine(line: String, error: UAPIError) {
        #expect(throws: error) { try Self.parse("public_key=\(Keys.peer1)\n" + line + "\n") }
    }

    @Test func errnosAreWireguardGos() {
        #expect(UAPIError.malformedLine(line: 2).errno == -71)                          // -EPROTO
        #expect(UAPIError.unknownKey(line: 2).errno == -22)                             // -EINVAL
        #expect(UAPIError.invalidValue(line: 2, key: .endpoint).errno == -22)
        #expect(UAPIError.unsupportedProtocolVersion(line: 2).errno == -22)
        #expect(UAPIError.unexpectedLineInGet(line: 2).errno == -22)
        #expect(UAPIError.addressInUse.errno == -98)                                    // -EADDRINUSE
        #expect(UAPIError.io.errno == -5)                                               // -EIO
        #expect(!UAPIError.unknownKey(line: 2).closesConnection)
    }

    @Test(arguments: badRequests)
    func badRequestAnswersTheExactErrno(body: String, error: UAPIError) {
        #expect(Harness().set(body) == "errno=\(error.errno)\n\n")
    }

    @Test func errorReportsTheFirstBadLine() {
        #expect(throws: UAPIError.invalidValue(line: 5, key: .endpoint)) {
            try Self.parse("listen_port=1\npublic_key=\(Keys.peer1)\nallowed_ip=10.0.0.0/8\nendpoint=nowhere\nfoo\n")
        }
    }

    @Test func keysHaveTheirWireSpelling() {
        #expect(UAPIKey.allCases.map(\.name) == [
            "private_key", "listen_port", "fwmark", "replace_peers", "public_key", "update_only", "remove",
            "preshared_key", "endpoint", "persistent_keepalive_interval", "replace_allowed_ips", "allowed_ip",
            "protocol_version",
        ])
        #expect("\(UAPIError.invalidValue(line: 4, key: .endpoint))" == "line 4: invalid value for endpoint")
    }
}
