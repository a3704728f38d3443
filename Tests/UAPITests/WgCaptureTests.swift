import Foundation
import TernCrypto
import Testing
import UAPI
import WireGuard

/// The bytes real `wg` (wireguard-tools 1.0.20210914, Debian bookworm) sent
/// to a Unix socket at /var/run/wireguard/uapitest0.sock, captured with a
/// small recording server. Each command first opens and closes one empty
/// connection (the existence check), then sends one request on a second one.
///
/// The configuration file given to `wg setconf` / `wg addconf`:
///
///     [Interface]
///     PrivateKey = 6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=
///     ListenPort = 51820
///     FwMark = 0x1234
///
///     [Peer]
///     PublicKey = uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM=
///     PresharedKey = GIUVCT6VL18i6GXO8wEucvi18LWYrAMJ1drM47cPz1I=
///     Endpoint = 192.0.2.1:51820
///     PersistentKeepalive = 25
///     AllowedIPs = 10.0.0.1/32, 10.10.0.0/16, fd00::1/128
///
///     [Peer]
///     PublicKey = WEAuaVuhdyscyTCXVfBDJR6nf9zxD75jmJzrfhkyE3Y=
///     Endpoint = [2001:db8::1]:51821
///     AllowedIPs = 10.0.0.2/32, ::ffff:192.0.2.9/128, 0.0.0.0/0
enum Captured {
    /// `wg setconf uapitest0 setconf.conf`
    static let setconf = """
        set=1
        private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
        listen_port=51820
        fwmark=4660
        replace_peers=true
        public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
        preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52
        endpoint=192.0.2.1:51820
        persistent_keepalive_interval=25
        replace_allowed_ips=true
        allowed_ip=10.0.0.1/32
        allowed_ip=10.10.0.0/16
        allowed_ip=fd00::1/128
        public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376
        endpoint=[2001:db8::1]:51821
        replace_allowed_ips=true
        allowed_ip=10.0.0.2/32
        allowed_ip=::ffff:192.0.2.9/128
        allowed_ip=0.0.0.0/0


        """

    /// `wg addconf uapitest0 setconf.conf` (the same file: no replace_peers)
    static let addconf = """
        set=1
        private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
        listen_port=51820
        fwmark=4660
        public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
        preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52
        endpoint=192.0.2.1:51820
        persistent_keepalive_interval=25
        replace_allowed_ips=true
        allowed_ip=10.0.0.1/32
        allowed_ip=10.10.0.0/16
        allowed_ip=fd00::1/128
        public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376
        endpoint=[2001:db8::1]:51821
        replace_allowed_ips=true
        allowed_ip=10.0.0.2/32
        allowed_ip=::ffff:192.0.2.9/128
        allowed_ip=0.0.0.0/0


        """

    /// `wg set uapitest0 listen-port 0 fwmark off private-key priv.key
    /// peer Zi4U/VlFVvUiYEcDNANRJYkDtk81VTdj8ZQmqypRXFg= preshared-key psk.key
    /// endpoint localhost:4000 persistent-keepalive off allowed-ips 192.168.4.0/24,fe80::/64`
    static let set = """
        set=1
        private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
        listen_port=0
        fwmark=0
        public_key=662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58
        preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52
        endpoint=127.0.0.1:4000
        persistent_keepalive_interval=0
        replace_allowed_ips=true
        allowed_ip=192.168.4.0/24
        allowed_ip=fe80::/64


        """

    /// `wg set uapitest0 peer WEAuaVuhdyscyTCXVfBDJR6nf9zxD75jmJzrfhkyE3Y= remove`
    static let remove = """
        set=1
        public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376
        remove=true


        """

    /// `wg set uapitest0 peer uFmW/sycfx/G0lcqdu2hHVm80gvo5UOxXOS9hajnWjM= allowed-ips ""`
    static let clearAllowedIPs = """
        set=1
        public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
        replace_allowed_ips=true


        """

    /// `wg show uapitest0 dump` (and `wg show`, `wg showconf`)
    static let get = """
        get=1


        """

    /// `wg syncconf uapitest0 setconf.conf` after `wg set` had moved 10.10.0.0/16
    /// to a new peer Zi4U… and removed peer WEAu…: `wg` first did a `get`
    /// (answered by this module, compiled as Embedded Swift, behind a Unix
    /// socket), then sent this diff.
    static let syncconf = """
        set=1
        private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
        listen_port=51820
        fwmark=4660
        public_key=662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58
        remove=true
        public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
        preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52
        endpoint=192.0.2.1:51820
        persistent_keepalive_interval=25
        replace_allowed_ips=true
        allowed_ip=10.0.0.1/32
        allowed_ip=10.10.0.0/16
        allowed_ip=fd00::1/128
        public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376
        endpoint=[2001:db8::1]:51821
        replace_allowed_ips=true
        allowed_ip=10.0.0.2/32
        allowed_ip=::ffff:192.0.2.9/128
        allowed_ip=0.0.0.0/0


        """

    /// The sizes of the captured requests, guarding the literals above.
    static let sizes = [647, 628, 390, 95, 108, 7, 716]
}

/// Real `wg` traffic applied to a device, on one connection.
@Suite struct WgCaptureTests {
    init() throws { try Sodium.initialize() }

    static let afterSetconf =
        "private_key=\(Keys.ownPrivate)\nlisten_port=51820\nfwmark=4660\n"
        + peerBlock(Keys.peer1, psk: Keys.psk, endpoint: "192.0.2.1:51820", keepalive: 25,
                    allowedIPs: ["10.0.0.1/32", "10.10.0.0/16", "fd00::1/128"])
        + peerBlock(Keys.peer2, endpoint: "[2001:db8::1]:51821",
                    allowedIPs: ["0.0.0.0/0", "10.0.0.2/32", "::ffff:192.0.2.9/128"])
        + "errno=0\n\n"

    static let afterAll =
        "private_key=\(Keys.ownPrivate)\nlisten_port=43210\n"
        + peerBlock(Keys.peer1, psk: Keys.psk, endpoint: "192.0.2.1:51820", keepalive: 25)
        + peerBlock(Keys.peer3, psk: Keys.psk, endpoint: "127.0.0.1:4000", allowedIPs: ["192.168.4.0/24", "fe80::/64"])
        + "errno=0\n\n"

    @Test func capturedLiteralsAreIntact() {
        let all = [Captured.setconf, Captured.addconf, Captured.set, Captured.remove, Captured.clearAllowedIPs,
                   Captured.get, Captured.syncconf]
        #expect(all.map { $0.utf8.count } == Captured.sizes)
        #expect(all.allSatisfy { $0.hasSuffix("\n\n") })
    }

    @Test func setconfApplies() {
        let harness = Harness()
        #expect(harness.send(Captured.setconf) == "errno=0\n\n")
        #expect(harness.send(Captured.get) == Self.afterSetconf)
        #expect(harness.settings == DeviceSettings(listenPort: 51820, fwmark: 4660))
    }

    @Test func setconfReplacesWhatWasThere() {
        let harness = ApplyTests.configured()
        harness.set("public_key=\(Keys.peer3)\nallowed_ip=172.16.0.0/12\n")
        #expect(harness.send(Captured.setconf) == "errno=0\n\n")
        #expect(harness.get() == Self.afterSetconf)
    }

    @Test func addconfOfTheSameFileIsIdempotent() {
        let harness = Harness()
        harness.send(Captured.setconf)
        #expect(harness.send(Captured.addconf) == "errno=0\n\n")
        #expect(harness.get() == Self.afterSetconf)
    }

    @Test func syncconfRestoresTheFile() {
        let harness = Harness()
        harness.send(Captured.setconf)
        harness.set("public_key=\(Keys.peer3)\nallowed_ip=10.10.0.0/16\npublic_key=\(Keys.peer2)\nremove=true\n")
        #expect(harness.get() == "private_key=\(Keys.ownPrivate)\nlisten_port=51820\nfwmark=4660\n"
                + peerBlock(Keys.peer1, psk: Keys.psk, endpoint: "192.0.2.1:51820", keepalive: 25,
                            allowedIPs: ["10.0.0.1/32", "fd00::1/128"])
                + peerBlock(Keys.peer3, allowedIPs: ["10.10.0.0/16"]) + "errno=0\n\n")
        #expect(harness.send(Captured.syncconf) == "errno=0\n\n")
        #expect(harness.get() == Self.afterSetconf)
    }

    @Test func wholeSessionOnOneConnection() {
        let harness = Harness()
        let answers = harness.send(Captured.setconf + Captured.addconf + Captured.get + Captured.set + Captured.remove
                                   + Captured.clearAllowedIPs + Captured.get)
        #expect(answers == "errno=0\n\nerrno=0\n\n" + Self.afterSetconf + "errno=0\n\nerrno=0\n\nerrno=0\n\n" + Self.afterAll)
        #expect(harness.socketCalls == [
            DeviceSettings(listenPort: 51820, fwmark: 4660), DeviceSettings(listenPort: 51820, fwmark: 4660),
            DeviceSettings(listenPort: 0, fwmark: 0),
        ])
    }

    @Test func wholeSessionSplitAtEveryByte() {
        // The same conversation, fed one byte at a time to one framer.
        let harness = Harness()
        let stream = Array((Captured.setconf + Captured.set + Captured.remove + Captured.clearAllowedIPs + Captured.get).utf8)
        var framer = RequestFramer()
        var answers: [UInt8] = []
        for byte in stream {
            framer.feed([byte])
            while let request = try? framer.nextRequest() {
                answers += request.respond(device: harness.device, settings: &harness.settings, now: harness.now,
                                           wallNow: wallNow) { (wanted: DeviceSettings) throws(UAPIError) in
                    DeviceSettings(listenPort: wanted.listenPort == 0 ? 43210 : wanted.listenPort, fwmark: wanted.fwmark)
                }
            }
        }
        #expect(String(decoding: answers, as: UTF8.self) == String(repeating: "errno=0\n\n", count: 4) + Self.afterAll)
    }

    /// What `wg setconf` sends for the configuration in `ApplyTests.configured`,
    /// written down from spec digest §9 (device keys, then per peer
    /// public_key, preshared_key, endpoint, persistent_keepalive_interval,
    /// replace_allowed_ips, allowed_ip...), and checked against the capture's shape.
    @Test func handWrittenSetconfMatchesTheCapturedShape() {
        let handWritten = """
            set=1
            private_key=\(Keys.ownPrivate)
            listen_port=51820
            fwmark=4660
            replace_peers=true
            public_key=\(Keys.peer1)
            preshared_key=\(Keys.psk)
            endpoint=192.0.2.1:51820
            persistent_keepalive_interval=25
            replace_allowed_ips=true
            allowed_ip=10.0.0.1/32
            allowed_ip=10.10.0.0/16
            allowed_ip=fd00::1/128
            public_key=\(Keys.peer2)
            endpoint=[2001:db8::1]:51821
            replace_allowed_ips=true
            allowed_ip=10.0.0.2/32
            allowed_ip=::ffff:192.0.2.9/128
            allowed_ip=0.0.0.0/0


            """
        #expect(handWritten == Captured.setconf)
    }
}
