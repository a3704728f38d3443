import Foundation
import IP
import TernCrypto
import Testing
import UAPI
import WireGuard

/// Applying `set` requests and reading the result back with `get`.
@Suite struct ApplyTests {
    init() throws { try Sodium.initialize() }

    /// A device with our key and two peers, configured the way `wg setconf` would.
    static func configured() -> Harness {
        let harness = Harness()
        let answer = harness.set("""
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
            allowed_ip=fd00::1/128
            allowed_ip=10.10.0.0/16
            public_key=\(Keys.peer2)
            endpoint=[2001:db8::1]:51821
            replace_allowed_ips=true
            allowed_ip=10.0.0.2/32

            """)
        #expect(answer == "errno=0\n\n")
        return harness
    }

    static let configuredGet =
        "private_key=\(Keys.ownPrivate)\nlisten_port=51820\nfwmark=4660\n"
        + peerBlock(Keys.peer1, psk: Keys.psk, endpoint: "192.0.2.1:51820", keepalive: 25,
                    allowedIPs: ["10.0.0.1/32", "10.10.0.0/16", "fd00::1/128"])
        + peerBlock(Keys.peer2, endpoint: "[2001:db8::1]:51821", allowedIPs: ["10.0.0.2/32"])
        + "errno=0\n\n"

    @Test func roundTripExactText() {
        let harness = Self.configured()
        // Spelled out once in full, in §9 order, so a change in any helper shows.
        #expect(harness.get() == """
            private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
            listen_port=51820
            fwmark=4660
            public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
            preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52
            protocol_version=1
            endpoint=192.0.2.1:51820
            last_handshake_time_sec=0
            last_handshake_time_nsec=0
            tx_bytes=0
            rx_bytes=0
            persistent_keepalive_interval=25
            allowed_ip=10.0.0.1/32
            allowed_ip=10.10.0.0/16
            allowed_ip=fd00::1/128
            public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376
            preshared_key=0000000000000000000000000000000000000000000000000000000000000000
            protocol_version=1
            endpoint=[2001:db8::1]:51821
            last_handshake_time_sec=0
            last_handshake_time_nsec=0
            tx_bytes=0
            rx_bytes=0
            persistent_keepalive_interval=0
            allowed_ip=10.0.0.2/32
            errno=0


            """)
        #expect(harness.get() == Self.configuredGet)
        #expect(harness.settings == DeviceSettings(listenPort: 51820, fwmark: 4660))
        #expect(harness.device.identity?.publicKey.hex == Keys.ownPublic)
    }

    @Test func emptyDeviceRendersOnlyTheStatus() {
        #expect(Harness().get() == "errno=0\n\n")
    }

    @Test func turningPersistentKeepaliveOnQueuesAPacket() throws {
        let harness = Self.configured()
        // The set turned keepalive on for peer1 (no session yet): the device owes it a handshake.
        let actions = drain(harness.device, now: harness.now)
        #expect(actions == [.writeToNetwork(.udp(try Endpoint("192.0.2.1:51820")), peer: 0, length: Initiation.size)])
        // Setting the same interval again is not "turning it on".
        harness.set("public_key=\(Keys.peer1)\npersistent_keepalive_interval=25\n")
        #expect(drain(harness.device, now: harness.now + 10 * second).isEmpty)
        harness.set("public_key=\(Keys.peer1)\npersistent_keepalive_interval=0\n")
        #expect(harness.device.peer(for: try PublicKey(hex: Keys.peer1))?.persistentKeepaliveInterval == 0)
    }

    @Test func replacePeersRemovesEveryPeerFirst() {
        let harness = Self.configured()
        #expect(harness.set("replace_peers=true\npublic_key=\(Keys.peer3)\nallowed_ip=10.0.0.3/32\n") == "errno=0\n\n")
        #expect(harness.get() == "private_key=\(Keys.ownPrivate)\nlisten_port=51820\nfwmark=4660\n"
                + peerBlock(Keys.peer3, allowedIPs: ["10.0.0.3/32"]) + "errno=0\n\n")
        #expect(harness.device.route(try! IPAddress("10.0.0.1")) == nil)
    }

    @Test func removeDeletesThePeerAndSkipsTheRestOfItsBlock() {
        let harness = Self.configured()
        harness.set("public_key=\(Keys.peer1)\nremove=true\nallowed_ip=10.0.0.2/32\n")
        #expect(harness.get() == "private_key=\(Keys.ownPrivate)\nlisten_port=51820\nfwmark=4660\n"
                + peerBlock(Keys.peer2, endpoint: "[2001:db8::1]:51821", allowedIPs: ["10.0.0.2/32"])
                + "errno=0\n\n")
        // Removing a peer that does not exist changes nothing.
        let before = harness.get()
        #expect(harness.set("public_key=\(Keys.peer3)\nremove=true\n") == "errno=0\n\n")
        #expect(harness.get() == before)
    }

    @Test func updateOnlyDoesNotCreateAMissingPeer() {
        let harness = Self.configured()
        harness.set("public_key=\(Keys.peer3)\nupdate_only=true\nendpoint=192.0.2.3:1\nallowed_ip=10.0.0.2/32\n")
        #expect(harness.get() == Self.configuredGet)
    }

    @Test func updateOnlyUpdatesAnExistingPeer() {
        let harness = Self.configured()
        harness.set("public_key=\(Keys.peer2)\nupdate_only=true\nendpoint=192.0.2.2:2\n")
        #expect(harness.get() == Self.configuredGet.replacingOccurrences(
            of: "endpoint=[2001:db8::1]:51821", with: "endpoint=192.0.2.2:2"))
    }

    @Test func updateOnlyAfterOtherLinesUndoesTheNewPeerLikeWireguardGo() {
        // wireguard-go creates the peer at public_key=, applies lines in order,
        // and removes it again at update_only=: a prefix it took is gone with it.
        let harness = Self.configured()
        harness.set("public_key=\(Keys.peer3)\nallowed_ip=10.0.0.2/32\nupdate_only=true\n")
        #expect(harness.device.peer(for: try! PublicKey(hex: Keys.peer3)) == nil)
        #expect(harness.device.route(try! IPAddress("10.0.0.2")) == nil)
    }

    @Test func replaceAllowedIPsClearsThePeersPrefixesFirst() {
        let harness = Self.configured()
        harness.set("public_key=\(Keys.peer1)\nreplace_allowed_ips=true\nallowed_ip=192.168.0.0/24\n")
        #expect(harness.get() == Self.configuredGet.replacingOccurrences(
            of: "allowed_ip=10.0.0.1/32\nallowed_ip=10.10.0.0/16\nallowed_ip=fd00::1/128\n",
            with: "allowed_ip=192.168.0.0/24\n"))
    }

    @Test func minusRemovesOnePrefixOnlyFromItsOwner() {
        let harness = Self.configured()
        harness.set("""
            public_key=\(Keys.peer1)
            allowed_ip=-10.10.0.0/16
            allowed_ip=-10.0.0.2/32
            allowed_ip=-172.16.0.0/12

            """)
        #expect(harness.get() == Self.configuredGet.replacingOccurrences(of: "allowed_ip=10.10.0.0/16\n", with: ""))
    }

    @Test func allowedIPMovesToAnotherPeer() {
        let harness = Self.configured()
        harness.set("public_key=\(Keys.peer2)\nallowed_ip=10.10.0.0/16\n")
        #expect(harness.get() == "private_key=\(Keys.ownPrivate)\nlisten_port=51820\nfwmark=4660\n"
                + peerBlock(Keys.peer1, psk: Keys.psk, endpoint: "192.0.2.1:51820", keepalive: 25,
                            allowedIPs: ["10.0.0.1/32", "fd00::1/128"])
                + peerBlock(Keys.peer2, endpoint: "[2001:db8::1]:51821", allowedIPs: ["10.0.0.2/32", "10.10.0.0/16"])
                + "errno=0\n\n")
        let peer2 = harness.device.peer(for: try! PublicKey(hex: Keys.peer2))!.id
        #expect(harness.device.route(try! IPAddress("10.10.3.4")) == peer2)
    }

    @Test func ownPublicKeyIsIgnoredWithItsLines() {
        let harness = Self.configured()
        #expect(harness.set("""
            public_key=\(Keys.ownPublic)
            endpoint=192.0.2.99:1
            allowed_ip=10.0.0.1/32
            replace_allowed_ips=true
            remove=true
            public_key=\(Keys.peer3)
            allowed_ip=10.0.0.3/32

            """) == "errno=0\n\n")
        #expect(harness.get() == Self.configuredGet.replacingOccurrences(
            of: "errno=0\n\n", with: peerBlock(Keys.peer3, allowedIPs: ["10.0.0.3/32"]) + "errno=0\n\n"))
    }

    @Test func privateKeyEqualToAPeersKeyPairRemovesThatPeer() {
        let harness = Harness()
        harness.set("public_key=\(Keys.ownPublic)\nallowed_ip=10.0.0.9/32\npublic_key=\(Keys.peer1)\n")
        #expect(harness.device.peers.count == 2)   // no key yet: our public key is just a peer
        harness.set("private_key=\(Keys.ownPrivate)\n")
        #expect(harness.get() == "private_key=\(Keys.ownPrivate)\n" + peerBlock(Keys.peer1) + "errno=0\n\n")
    }

    @Test func zeroPrivateKeyClearsIt() {
        let harness = Self.configured()
        harness.set("private_key=\(Keys.zero)\n")
        #expect(harness.device.identity == nil)
        #expect(harness.get() == Self.configuredGet.replacingOccurrences(of: "private_key=\(Keys.ownPrivate)\n", with: ""))
    }

    @Test func presharedKeyZeroRemovesIt() {
        let harness = Self.configured()
        harness.set("public_key=\(Keys.peer1)\npreshared_key=\(Keys.zero)\n")
        #expect(harness.get() == Self.configuredGet.replacingOccurrences(of: Keys.psk, with: Keys.zero))
    }

    @Test func socketSettingsAreReturnedNotApplied() throws {
        let device = makeDevice()
        let request = try SetRequest(body: Array("listen_port=0\nfwmark=0\nlisten_port=7\n".utf8))
        let result = request.apply(to: device, now: 0)
        #expect(result == SetResult(listenPort: 7, fwmark: 0))
        #expect(result.changesSocket)
        #expect(result.applied(to: DeviceSettings(listenPort: 1, fwmark: 2)) == DeviceSettings(listenPort: 7, fwmark: 0))
        #expect(!SetResult().changesSocket)
        #expect(SetResult().applied(to: DeviceSettings(listenPort: 1, fwmark: 2)) == DeviceSettings(listenPort: 1, fwmark: 2))
    }

    @Test func listenPortZeroStoresTheBoundPortAndZeroValuesAreOmitted() {
        let harness = Self.configured()
        harness.set("listen_port=0\nfwmark=0\n")
        #expect(harness.socketCalls.last == DeviceSettings(listenPort: 0, fwmark: 0))
        #expect(harness.settings == DeviceSettings(listenPort: 43210, fwmark: 0))
        #expect(harness.get() == Self.configuredGet.replacingOccurrences(
            of: "listen_port=51820\nfwmark=4660\n", with: "listen_port=43210\n"))
    }

    @Test func socketIsNotTouchedWhenTheRequestDoesNotAskForIt() {
        let harness = Self.configured()
        let calls = harness.socketCalls.count
        harness.set("public_key=\(Keys.peer3)\n")
        #expect(harness.socketCalls.count == calls)
    }

    @Test func wallClockConversion() {
        #expect(GetResponse.wallTime(of: nil, now: 10, wallNow: 100) == 0)
        #expect(GetResponse.wallTime(of: 4, now: 10, wallNow: 100) == 94)
        #expect(GetResponse.wallTime(of: 10, now: 10, wallNow: 100) == 100)
        #expect(GetResponse.wallTime(of: 11, now: 10, wallNow: 100) == 100)   // a future instant counts as now
        #expect(GetResponse.wallTime(of: 0, now: 500, wallNow: 100) == 0)      // before 1970
    }

    @Test func errnoResponses() {
        #expect(UAPIResponse.success == Array("errno=0\n\n".utf8))
        #expect(UAPIResponse.errno(-22) == Array("errno=-22\n\n".utf8))
        #expect(UAPIResponse.errno(-2147483648) == Array("errno=-2147483648\n\n".utf8))
    }
}
