import TernCrypto
import Testing
import UAPI
import WireGuard

/// A `set` with any bad line changes nothing: not the Device, not the socket
/// settings, not the queue of packets to send.
@Suite struct AtomicityTests {
    init() throws { try Sodium.initialize() }

    /// Device lines that would change everything.
    static let deviceMutations = """
        private_key=\(Keys.psk)
        listen_port=1
        fwmark=1
        replace_peers=true

        """

    /// Peer lines that would change everything.
    static let peerMutations = """
        public_key=\(Keys.peer3)
        endpoint=192.0.2.3:3
        persistent_keepalive_interval=5
        allowed_ip=10.0.0.1/32
        public_key=\(Keys.peer2)
        remove=true
        public_key=\(Keys.peer1)
        replace_allowed_ips=true
        preshared_key=\(Keys.zero)
        allowed_ip=-fd00::1/128
        persistent_keepalive_interval=0

        """

    /// Every bad line of the parser tests, placed last after lines that would
    /// change everything.
    static let cases: [(String, Int32)] =
        SetRequestTests.badDeviceLines.filter { !$0.0.isEmpty }.map { (deviceMutations + $0.0 + "\n", $0.1.errno) }
        + SetRequestTests.badPeerLines.filter { !$0.0.isEmpty }.map {
            (deviceMutations + peerMutations + "public_key=\(Keys.peer1)\n" + $0.0 + "\n", $0.1.errno)
        }

    @Test(arguments: cases)
    func badLastLineChangesNothing(body: String, errno: Int32) {
        let harness = ApplyTests.configured()
        _ = drain(harness.device, now: harness.now)
        let before = harness.get()
        let settings = harness.settings
        let socketCalls = harness.socketCalls.count

        #expect(harness.set(body) == "errno=\(errno)\n\n")

        #expect(harness.get() == before)
        #expect(harness.settings == settings)
        #expect(harness.socketCalls.count == socketCalls)
        #expect(drain(harness.device, now: harness.now).isEmpty)
    }

    @Test func theSameMutationsWithoutTheBadLineDoChangeThings() {
        // Guards the test above: its mutations are real changes.
        let harness = ApplyTests.configured()
        let before = harness.get()
        #expect(harness.set(Self.deviceMutations + Self.peerMutations) == "errno=0\n\n")
        #expect(harness.get() != before)
        #expect(harness.settings == DeviceSettings(listenPort: 1, fwmark: 1))
    }

    @Test func socketFailureChangesNothingAndAnswersEADDRINUSE() {
        let harness = ApplyTests.configured()
        let before = harness.get()
        harness.socketFailure = .addressInUse
        #expect(harness.set(Self.deviceMutations + Self.peerMutations) == "errno=-98\n\n")
        #expect(harness.get() == before)
        #expect(harness.settings == DeviceSettings(listenPort: 51820, fwmark: 4660))
        #expect(harness.socketCalls.last == DeviceSettings(listenPort: 1, fwmark: 1))
    }

    @Test func failedSetDoesNotStopTheConnection() {
        let harness = ApplyTests.configured()
        let before = harness.get()
        let answers = harness.send("set=1\nlisten_port=1\nbogus\n\nget=1\n\nset=1\nfoo=bar\n\nget=1\n\n")
        #expect(answers == "errno=-71\n\n" + before + "errno=-22\n\n" + before)
    }
}
