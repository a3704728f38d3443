import JSON
@testable import LocalAPI
import TernCLI
import Testing
import TextFormat

@Suite("Output formatting")
struct FormattingTests {
    @Test(arguments: [
        (Int64(0), "0 B"), (1, "1 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
        (10188, "9.9 KiB"), (10189, "10 KiB"), (10 * 1024, "10 KiB"), (1_048_063, "1023 KiB"),
        (1_048_064, "1.0 MiB"), (1_048_576, "1.0 MiB"), (3_145_728, "3.0 MiB"), (150 * 1_048_576, "150 MiB"),
        (5 * 1_073_741_824 + 536_870_912, "5.5 GiB"), (Int64.max, "8.0 EiB"), (-5, "0 B"),
    ] as [(Int64, String)])
    func byteCounts(bytes: Int64, text: String) {
        #expect(ByteCount.text(bytes) == text)
    }

    @Test func byteCountExtremes() {
        #expect(ByteCount.text(UInt64.max) == "16 EiB")
    }

    @Test func durations() {
        #expect(DurationText.ago(seconds: 0) == "0s ago")
        #expect(DurationText.ago(seconds: 12) == "12s ago")
        #expect(DurationText.ago(seconds: 59) == "59s ago")
        #expect(DurationText.ago(seconds: 60) == "1m ago")
        #expect(DurationText.ago(seconds: 185) == "3m ago")
        #expect(DurationText.ago(seconds: 3600) == "1h ago")
        #expect(DurationText.ago(seconds: 86399) == "23h ago")
        #expect(DurationText.ago(seconds: 3 * 86400 + 5) == "3d ago")
        #expect(DurationText.ago(seconds: -4) == "0s ago")
        #expect(DurationText.since(nil, now: 1000) == "never")
        #expect(DurationText.since(0, now: 1000) == "never")
        #expect(DurationText.since(990, now: 1000) == "10s ago")

        #expect(DurationText.milliseconds(microseconds: 1234) == "1.234")
        #expect(DurationText.milliseconds(microseconds: 50) == "0.050")
        #expect(DurationText.milliseconds(microseconds: 0) == "0.000")
        #expect(DurationText.milliseconds(microseconds: 12_345_678) == "12345.678")
        #expect(DurationText.milliseconds(microseconds: -3) == "0.000")

        #expect(DurationText.seconds(milliseconds: 30_000) == "30 s")
        #expect(DurationText.seconds(milliseconds: 1500) == "1.5 s")
        #expect(DurationText.seconds(milliseconds: 250) == "0.25 s")
        #expect(DurationText.seconds(milliseconds: 1) == "0.001 s")
    }

    @Test func columns() {
        let lines = TextColumns.lines([["a", "long name", "x"], ["bbbb", "n", ""], ["c"]])
        #expect(lines == ["a     long name  x", "bbbb  n", "c"])
        #expect(TextColumns.lines([]) == [])
    }

    @Test func meshAddresses() {
        let addresses = ["100.64.0.1/32", "fd7a:115c:a1e0::1/128", "100.64.9.9"]
        #expect(MeshAddress.select(addresses, family: .any) == ["100.64.0.1", "fd7a:115c:a1e0::1", "100.64.9.9"])
        #expect(MeshAddress.select(addresses, family: .ipv4) == ["100.64.0.1", "100.64.9.9"])
        #expect(MeshAddress.select(addresses, family: .ipv6) == ["fd7a:115c:a1e0::1"])
        #expect(MeshAddress.primary(["fd7a::2", "100.64.0.2"]) == "100.64.0.2")
        #expect(MeshAddress.primary(["fd7a::2"]) == "fd7a::2")
        #expect(MeshAddress.primary([]) == nil)
    }

    // The human status: header, health, then aligned peer columns.
    @Test func humanStatus() throws {
        let now: Int64 = 1_700_000_000
        let status = try #require(StatusDocument(json: sampleStatus(now: now)))
        #expect(status.peers.count == 2)
        #expect(status.selfNode?.tags == ["tag:router"])
        #expect(status.peers[0].lastHandshake == now - 125)
        #expect(StatusFormatter.lines(status, now: now) == [
            "Running as gateway (100.64.0.1, fd7a:115c:a1e0::1), control connected (http://10.0.0.1:8080)",
            "health: relay unreachable",
            "100.64.0.2  laptop               10.0.0.2:41641  2m ago  rx 1.5 KiB  tx 3.0 MiB",
            "100.64.0.3  nas-in-the-basement  -               never   rx 0 B      tx 0 B      offline",
        ])
        #expect(StatusFormatter.loginSummary(status) == "Logged in as gateway (100.64.0.1, fd7a:115c:a1e0::1), 2 peers")
    }

    @Test func subnetRoutesInTheStatus() throws {
        let now: Int64 = 1_700_000_000
        var document = sampleStatus(now: now)
        document["self"]?["advertisedRoutes"] = ["192.168.10.0/24", "10.9.0.0/16", "10.8.0.0/16"]
        document["self"]?["routes"] = ["192.168.10.0/24", "10.8.0.0/16"]
        document["self"]?["primaryRoutes"] = ["192.168.10.0/24"]
        var laptop = try #require(document["peers"]?[0])
        laptop["routes"] = ["172.16.0.0/24", "172.17.0.0/24"]
        laptop["primaryRoutes"] = ["172.16.0.0/24"]
        laptop["allowedIPs"] = ["100.64.0.2/32", "172.16.0.0/24"]
        document["peers"] = [laptop]
        let status = try #require(StatusDocument(json: document))
        let lines = StatusFormatter.lines(status, now: now)
        #expect(lines[1] == "routes: 192.168.10.0/24 (primary), 10.9.0.0/16 (waiting for approval), 10.8.0.0/16 (standby)")
        #expect(lines[3].hasSuffix("rx 1.5 KiB  tx 3.0 MiB    routes 172.16.0.0/24, standby 172.17.0.0/24"))
    }

    @Test func statusWithoutLogin() throws {
        let status = try #require(StatusDocument(json: [
            "state": "NeedsLogin", "controlURL": nil, "controlConnected": false, "health": [],
            "mapVersion": 0, "self": nil, "peers": [],
        ]))
        #expect(StatusFormatter.lines(status, now: 0) == [
            "NeedsLogin, control not connected",
            "Log in with: tern up --login-server URL --auth-key KEY",
        ])
        let stopped = try #require(StatusDocument(json: ["state": "Stopped", "controlURL": "http://c:1"]))
        #expect(StatusFormatter.lines(stopped, now: 0) == [
            "Stopped, control not connected (http://c:1)", "Run 'tern up' to connect.",
        ])
        #expect(StatusDocument(json: ["peers": []]) == nil)
        #expect(StatusDocument(json: "Running") == nil)
    }

    // Fields of the wrong type read as empty instead of failing the whole document.
    @Test func lenientStatus() throws {
        let status = try #require(StatusDocument(json: [
            "state": "Running", "controlConnected": "yes", "health": ["ok", 5],
            "self": ["id": 42, "name": "solo", "addresses": "100.64.0.9"],
            "peers": [["name": "p", "rxBytes": 5_000_000_000, "lastHandshake": "soon"], "junk"],
        ]))
        #expect(!status.controlConnected)
        #expect(status.health == ["ok"])
        #expect(status.selfNode?.addresses == [])
        #expect(status.selfNode?.id == "42")
        #expect(status.peers.count == 1)
        #expect(status.peers[0].rxBytes == 5_000_000_000)
        #expect(status.peers[0].lastHandshake == nil)
        #expect(StatusFormatter.loginSummary(status) == "Logged in as solo, 1 peer")
    }

    @Test func peerLookup() throws {
        var document = sampleStatus(now: 0)
        document["peers"] = [["name": "laptop.mesh.example", "addresses": ["100.64.0.2/32"]]]
        let status = try #require(StatusDocument(json: document))
        #expect(status.peer(named: "laptop.mesh.example")?.addresses == ["100.64.0.2/32"])
        #expect(status.peer(named: "laptop") != nil)
        #expect(status.peer(named: "100.64.0.2") != nil)
        #expect(status.peer(named: "desktop") == nil)
    }

    @Test func pingReport() throws {
        let report = try #require(PingReport(json: [
            "peer": "laptop", "address": "100.64.0.2",
            "results": [
                ["rttMicroseconds": 1234, "endpoint": "10.0.0.2:41641"],
                ["timeout": true],
                ["rttMicroseconds": 980, "endpoint": nil],
            ],
        ]))
        #expect(report.results == [.pong(rttMicroseconds: 1234, endpoint: "10.0.0.2:41641"), .timeout,
                                   .pong(rttMicroseconds: 980, endpoint: nil)])
        #expect(report.anyReply)
        #expect(report.lines == [
            "pong from laptop (100.64.0.2) via 10.0.0.2:41641 in 1.234 ms",
            "timeout waiting for pong from laptop",
            "pong from laptop (100.64.0.2) in 0.980 ms",
        ])
        let silent = PingReport(peer: "nas", address: "100.64.0.3", results: [.timeout, .timeout])
        #expect(!silent.anyReply)
        #expect(silent.lines == ["timeout waiting for pong from nas", "timeout waiting for pong from nas"])
        #expect(PingReport(json: ["peer": "x"]) == nil)
    }
}
