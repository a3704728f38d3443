import ControlProtocol
import HTTP
import IP
import JSON
import TernCrypto
import Testing
import WireGuard
@testable import Mesh

/// The node's control connection against the real server-side handshake,
/// with the HTTP exchange played by hand (no sockets, manual clock).
@Suite struct ControlConnectionTests {
    let machine = StaticIdentity(privateKey: PrivateKey(bytes: Bytes32(repeating: 7)))
    let server = StaticIdentity(privateKey: PrivateKey(bytes: Bytes32(repeating: 9)))
    let url = try! ControlURL("http://192.0.2.1:8080")

    init() throws { try Sodium.initialize() }

    func connection(pinned: PublicKey?, second: Int64 = 0) -> ControlConnection {
        ControlConnection(url: url, machine: machine, serverKey: pinned, ephemeral: PrivateKey.generate(),
                          timestamp: TAI64N(unixSeconds: 1_800_000_000 + second, nanoseconds: 0))
    }

    /// Parses the HTTP request at the start of `bytes`; returns it and what follows.
    func request(in bytes: [UInt8]) throws -> (HTTPRequest, [UInt8]) {
        var parser = HTTPRequestParser()
        parser.append(bytes)
        let request = try #require(try parser.next())
        return (request, parser.takeRemainingBytes())
    }

    func written(_ outputs: [ControlConnection.Output]) -> [UInt8] {
        var bytes: [UInt8] = []
        for case .write(let chunk) in outputs { bytes += chunk }
        return bytes
    }

    /// Plays the server: answers the upgrade and the pipelined initiation.
    func serve(_ bytes: [UInt8], guard replay: inout ControlReplayGuard) throws -> (response: [UInt8], session: ControlSession) {
        let (upgrade, rest) = try request(in: bytes)
        #expect(upgrade.method == "POST" && upgrade.path == "/control/v1")
        #expect(upgrade.upgradeProtocol == "tern-control/1")
        var frames = ControlFrameDecoder()
        frames.append(rest)
        let initiation = try #require(try frames.next())
        let acceptance = try ControlResponder(identity: server).accept(
            initiation: initiation, replayGuard: replay, ephemeral: PrivateKey.generate(), index: 0, now: 1)
        #expect(acceptance.machineKey == machine.publicKey)
        // As the server does once the machine has logged in.
        replay.record(acceptance.timestamp, for: acceptance.machineKey, now: 1)
        let head = HTTPResponse(status: 101, headers: ["Connection": "Upgrade", "Upgrade": "tern-control/1"]).serialized()
        return (head + acceptance.response, acceptance.session)
    }

    @Test func firstContactFetchesPinsAndUpgrades() throws {
        var client = connection(pinned: nil)
        let first = try client.start(now: 0)
        let (keyRequest, rest) = try request(in: written(first))
        #expect(keyRequest.method == "GET" && keyRequest.path == "/control/v1/key" && rest.isEmpty)
        #expect(client.phase == .fetchingKey)

        let document = JSONSerializer.bytes(["publicKey": .string(server.publicKey.base64), "protocol": 1])
        let keyResponse = HTTPResponse(status: 200, body: document).serialized()
        let afterKey = try client.receive(keyResponse, now: 1)
        #expect(afterKey.contains(.pinServerKey(server.publicKey)))
        #expect(client.phase == .upgrading)

        var replay = ControlReplayGuard()
        var (answer, serverSession) = try serve(written(afterKey), guard: &replay)
        // Delivered one byte at a time: the parsers must not care.
        var outputs: [ControlConnection.Output] = []
        for byte in answer { outputs += try client.receive([byte], now: 2) }
        #expect(outputs == [.established])
        #expect(client.phase == .established)

        // Both directions of the sealed channel.
        let login = LoginRequest(nodeKey: PrivateKey.generate().publicKey, hostname: "pi", credential: .preAuthKey("k"),
                                 endpoints: [try Endpoint("192.0.2.7:41641")], mapVersion: 0)
        var decoder = ControlFrameDecoder()
        decoder.append(try client.send(.login(login)))
        #expect(try serverSession.openNodeMessage(try #require(try decoder.next())) == .login(login))
        answer = try serverSession.seal(ServerMessage.pong(42))
        #expect(try client.receive(answer, now: 3) == [.message(.pong(42))])
    }

    @Test func pinnedKeySkipsTheKeyRequest() throws {
        var client = connection(pinned: server.publicKey)
        let bytes = written(try client.start(now: 0))
        var replay = ControlReplayGuard()
        let (answer, _) = try serve(bytes, guard: &replay)
        #expect(try client.receive(answer, now: 1) == [.established])
    }

    /// Interim responses are skipped, but not without end: a stream of
    /// `100 Continue` (anyone on the path can send it before the channel
    /// is authenticated) ends the attempt instead of holding the node.
    @Test func anEndlessStreamOfInterimResponsesEndsTheAttempt() throws {
        var client = connection(pinned: server.publicKey)
        let bytes = written(try client.start(now: 0))
        var replay = ControlReplayGuard()
        let (answer, _) = try serve(bytes, guard: &replay)
        let interim = HTTPResponse(status: 100).serialized()
        // A real server's one or two interim answers are fine.
        #expect(try client.receive(interim + interim + answer, now: 1) == [.established])

        var flooded = connection(pinned: server.publicKey)
        _ = try flooded.start(now: 0)
        _ = try flooded.receive(Array(repeating: interim, count: 8).flatMap { $0 }, now: 1)
        #expect(flooded.phase == .upgrading)
        let error = #expect(throws: ControlClientError.self) {
            _ = try flooded.receive(Array(repeating: interim, count: 1000).flatMap { $0 }, now: 1)
        }
        #expect(error?.description.contains("more than 8 interim (1xx) HTTP responses") == true)
    }

    @Test func aReplayedInitiationIsRefusedByTheServer() throws {
        var client = connection(pinned: server.publicKey)
        let bytes = written(try client.start(now: 0))
        var replay = ControlReplayGuard()
        _ = try serve(bytes, guard: &replay)
        #expect(throws: ControlChannelError.replayedHandshake) { _ = try serve(bytes, guard: &replay) }
        // A new connection (a later timestamp) is accepted again.
        var later = connection(pinned: server.publicKey, second: 1)
        _ = try serve(written(try later.start(now: 0)), guard: &replay)
    }

    @Test func aServerWithAnotherKeyFailsTheHandshake() throws {
        let impostor = StaticIdentity(privateKey: PrivateKey(bytes: Bytes32(repeating: 3)))
        var client = connection(pinned: server.publicKey)
        let bytes = written(try client.start(now: 0))
        let (_, rest) = try request(in: bytes)
        var frames = ControlFrameDecoder()
        frames.append(rest)
        let replay = ControlReplayGuard()
        #expect(throws: ControlChannelError.self) {
            _ = try ControlResponder(identity: impostor).accept(
                initiation: try #require(try frames.next()), replayGuard: replay, ephemeral: PrivateKey.generate(), index: 0, now: 1)
        }
        #expect(client.closedByServer().description.contains("was the server reinstalled?"))
    }

    @Test func httpErrorsAndGarbageAreClearErrors() throws {
        var client = connection(pinned: nil)
        _ = try client.start(now: 0)
        let notFound = HTTPResponse(status: 404, body: Array("{\"error\":\"no such endpoint\"}".utf8)).serialized()
        let error = try #require(throws: ControlClientError.self) { _ = try client.receive(notFound, now: 1) }
        #expect(error.description.contains("HTTP 404") && error.description.contains("Tern coordination server"))

        var garbage = connection(pinned: nil)
        _ = try garbage.start(now: 0)
        #expect(throws: ControlClientError.self) { _ = try garbage.receive(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8), now: 1) }

        var badKey = connection(pinned: nil)
        _ = try badKey.start(now: 0)
        let response = HTTPResponse(status: 200, body: Array("{\"publicKey\":\"short\"}".utf8)).serialized()
        #expect(throws: ControlClientError("the server's key document is malformed")) { _ = try badKey.receive(response, now: 1) }
    }

    @Test func sendingBeforeTheChannelIsUpIsRefused() throws {
        var client = connection(pinned: server.publicKey)
        #expect(throws: ControlClientError.self) { _ = try client.send(.ping(1)) }
        _ = try client.start(now: 0)
        #expect(throws: ControlClientError.self) { _ = try client.send(.ping(1)) }
    }
}
