import ControlProtocol
import HTTP
import JSON
import TernCrypto
import WireGuard

/// The node's side of one connection to the coordination server, without
/// I/O: bytes from the socket go in, bytes to write and decoded server
/// messages come out. The shell owns the socket, the clock and randomness.
///
/// The exchange (see Docs/control-protocol.md):
///
///     GET /control/v1/key                  (only while no key is pinned)
///       <- 200 {"publicKey": "..."}       -> pin it
///     POST /control/v1, Upgrade: tern-control/1, then at once the framed
///       Noise IK initiation (machine key -> server key)
///       <- 101 Switching Protocols, then the framed response
///     sealed JSON frames both ways: the node's login first.
public struct ControlConnection {
    /// What the shell must do after feeding bytes in.
    public enum Output: Equatable {
        /// Write these bytes to the socket.
        case write([UInt8])
        /// The server's key was fetched on first contact: store (pin) it.
        case pinServerKey(PublicKey)
        /// The secure channel is up: send the login now.
        case established
        /// A message from the server.
        case message(ServerMessage)
    }

    /// Where the exchange stands.
    public enum Phase: Equatable, Sendable {
        case idle, fetchingKey, upgrading, handshaking, established, closed
    }

    /// The path of the key document.
    public static let keyPath = "/control/v1/key"
    /// The path upgraded to the control channel.
    public static let channelPath = "/control/v1"
    /// The Upgrade token.
    public static let upgradeToken = "tern-control/1"

    public private(set) var phase = Phase.idle
    private let url: ControlURL
    private let machine: StaticIdentity
    private var serverKey: PublicKey?
    private var http = HTTPResponseParser(limits: HTTPLimits(maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024))
    /// Interim (1xx) responses seen on this connection, and the most taken.
    private var interimResponses = 0
    static let maximumInterimResponses = 8
    private var frames = ControlFrameDecoder()
    private var handshake: ControlClientHandshake?
    private var session: ControlSession?
    private var ephemeral: PrivateKey
    private var timestamp: TAI64N

    /// A connection to `url` for the machine key `machine`, against the
    /// pinned `serverKey` (nil: fetch it first). `ephemeral` and `timestamp`
    /// (the current wall clock) make this connection's handshake.
    public init(url: ControlURL, machine: StaticIdentity, serverKey: PublicKey?, ephemeral: PrivateKey, timestamp: TAI64N) {
        self.url = url
        self.machine = machine
        self.serverKey = serverKey
        self.ephemeral = ephemeral
        self.timestamp = timestamp
    }

    /// The first bytes to write once the TCP connection is up.
    public mutating func start(now: UInt64) throws(ControlClientError) -> [Output] {
        guard phase == .idle else { throw ControlClientError("the connection was already started") }
        if serverKey == nil {
            phase = .fetchingKey
            return [.write(request("GET", ControlConnection.keyPath, upgrade: false))]
        }
        return try upgrade(now: now)
    }

    /// Feeds bytes read from the socket; returns what to do.
    public mutating func receive(_ bytes: [UInt8], now: UInt64) throws(ControlClientError) -> [Output] {
        var outputs: [Output] = []
        switch phase {
        case .fetchingKey, .upgrading:
            http.append(bytes)
            try readHTTP(into: &outputs, now: now)
        case .handshaking, .established:
            frames.append(bytes)
            try readFrames(into: &outputs)
        case .idle, .closed:
            throw ControlClientError("bytes arrived on a connection that is not open")
        }
        return outputs
    }

    /// Seals `message` for the server; only once `established`.
    public mutating func send(_ message: NodeMessage) throws(ControlClientError) -> [UInt8] {
        guard phase == .established, session != nil else { throw ControlClientError("the control channel is not up yet") }
        do { return try session!.seal(message) } catch { throw ControlClientError(error.description) }
    }

    /// The server closed the connection: the error to report.
    public mutating func closedByServer() -> ControlClientError {
        let previous = phase
        close()
        switch previous {
        case .fetchingKey: return ControlClientError("the server closed the connection before sending its key")
        case .upgrading, .handshaking:
            return ControlClientError("the server closed the connection during the handshake"
                                      + " (its key may differ from the pinned one: was the server reinstalled?)")
        default: return ControlClientError("the server closed the connection")
        }
    }

    /// Forgets keys; the connection is over.
    public mutating func close() {
        phase = .closed
        session?.wipe()
        session = nil
        handshake = nil
        ephemeral.wipe()
    }

    // MARK: Steps

    private func request(_ method: String, _ path: String, upgrade: Bool) -> [UInt8] {
        var headers: HTTPHeaders = ["Host": url.hostHeader, "User-Agent": "ternd"]
        if upgrade {
            headers.add("Connection", "Upgrade")
            headers.add("Upgrade", ControlConnection.upgradeToken)
            headers.add("Content-Length", "0")
        }
        return HTTPRequest(method: method, target: path, headers: headers).serialized()
    }

    /// The upgrade request with the initiation right behind it: the server
    /// reads it as the first bytes of the new protocol (one round trip saved).
    private mutating func upgrade(now: UInt64) throws(ControlClientError) -> [Output] {
        guard let serverKey else { throw ControlClientError("no server key") }
        var client = ControlClientHandshake(machine: machine, serverKey: serverKey)
        let initiation: [UInt8]
        do { initiation = try client.initiation(ephemeral: ephemeral, timestamp: timestamp, now: now) } catch {
            throw ControlClientError("cannot start the handshake: " + error.description)
        }
        handshake = client
        phase = .upgrading
        return [.write(request("POST", ControlConnection.channelPath, upgrade: true) + initiation)]
    }

    private mutating func readHTTP(into outputs: inout [Output], now: UInt64) throws(ControlClientError) {
        while phase == .fetchingKey || phase == .upgrading {
            let response: HTTPResponse?
            do { response = try http.next(requestMethod: phase == .fetchingKey ? "GET" : "POST") } catch {
                throw ControlClientError("the server's HTTP answer is malformed: " + error.description)
            }
            guard let response else { return }
            if response.status >= 100 && response.status < 200 && response.status != 101 {
                // A server sends one or two; an endless stream would hold this node's thread.
                interimResponses += 1
                guard interimResponses <= ControlConnection.maximumInterimResponses else {
                    throw ControlClientError("the server sent more than " + String(ControlConnection.maximumInterimResponses)
                                             + " interim (1xx) HTTP responses")
                }
                continue
            }
            if phase == .fetchingKey {
                guard response.status == 200 else { throw httpFailure(response) }
                let key = try parseKeyDocument(response.body)
                serverKey = key
                outputs.append(.pinServerKey(key))
                outputs += try upgrade(now: now)
                continue
            }
            guard response.status == 101 else { throw httpFailure(response) }
            phase = .handshaking
            frames.append(http.takeRemainingBytes())
            try readFrames(into: &outputs)
        }
    }

    private mutating func readFrames(into outputs: inout [Output]) throws(ControlClientError) {
        while true {
            let body: [UInt8]?
            do { body = try frames.next() } catch { throw ControlClientError(error.description) }
            guard let body else { return }
            if phase == .handshaking {
                guard var client = handshake else { throw ControlClientError("no handshake in progress") }
                do { session = try client.finish(response: body) } catch {
                    throw ControlClientError("the server's handshake response is not valid: " + error.description)
                }
                handshake = nil
                ephemeral.wipe()
                phase = .established
                outputs.append(.established)
                continue
            }
            do { outputs.append(.message(try session!.openServerMessage(body))) } catch {
                throw ControlClientError("bad message from the server: " + error.description)
            }
        }
    }

    private func parseKeyDocument(_ body: [UInt8]) throws(ControlClientError) -> PublicKey {
        guard let document = try? JSONParser.parse(body), let text = document["publicKey"]?.string,
              let key = try? PublicKey(base64: text)
        else { throw ControlClientError("the server's key document is malformed") }
        return key
    }

    private func httpFailure(_ response: HTTPResponse) -> ControlClientError {
        var text = "the server answered HTTP " + String(response.status)
        if let document = try? JSONParser.parse(response.body), let message = document["error"]?.string {
            text += ": " + message
        }
        if response.status == 404 { text += " (is this a Tern coordination server?)" }
        return ControlClientError(text)
    }
}

/// Why a control connection failed, in words for the log and `tern status`.
public struct ControlClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What happened.
    public let description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
