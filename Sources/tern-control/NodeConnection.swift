import ControlProtocol
import HTTP
import JSON
import Linux
import TernCrypto

/// One TCP connection to the coordination server: plain HTTP at first (the
/// key document, health), then, after the upgrade, the Noise handshake and
/// sealed control messages. The service drives it; this type only parses
/// and frames.
final class NodeConnection {
    enum Phase: Equatable {
        /// Reading HTTP requests.
        case http
        /// Upgraded: waiting for the handshake initiation frame.
        case handshake
        /// The secure channel is up; `nodeID` is set after a successful login.
        case established
        /// Writing the last bytes, then closing.
        case closing
    }

    let tcp: TCPConnection
    let token: UInt64
    var phase = Phase.http
    var http = HTTPRequestParser(limits: HTTPLimits(maxHeaderBytes: 8 * 1024, maxBodyBytes: 0, maxHeaderCount: 32))
    var frames = ControlFrameDecoder()
    var session: ControlSession?
    var machineKey: PublicKey?
    var nodeID: UInt64?
    /// When the connection opened, and when anything last arrived (monotonic ns).
    let openedAt: UInt64
    var lastHeard: UInt64

    init(tcp: TCPConnection, token: UInt64, now: UInt64) {
        self.tcp = tcp
        self.token = token
        openedAt = now
        lastHeard = now
    }

    /// Queues `bytes`; false if the peer is too far behind (then it is dropped).
    func send(_ bytes: [UInt8]) -> Bool {
        do { return try tcp.write(bytes) } catch { return false }
    }

    /// Seals and queues `message`.
    func send(_ message: ServerMessage) -> Bool {
        guard session != nil else { return false }
        do { return send(try session!.seal(message)) } catch { return false }
    }

    /// Answers an HTTP request with `status` and a JSON body.
    func respond(status: Int, _ body: JSONValue, keepAlive: Bool) {
        var response = HTTPResponse(status: status, headers: ["Content-Type": "application/json"],
                                    body: JSONSerializer.bytes(body) + [10])
        if !keepAlive {
            response.headers.set("Connection", "close")
            phase = .closing
        }
        _ = send(response.serialized())
    }
}
