import ControlProtocol
import HTTP
import IP
import JSON
import TernCrypto
import Time

/// One client connection as the server core sees it: plain HTTP at first
/// (the key document, health), then, after the upgrade, the Noise
/// handshake and sealed control messages. No socket: the shell owns that.
final class ServerConnection {
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

    let id: ConnectionID
    /// The client's address (per-source limits).
    let source: IPAddress
    var phase = Phase.http
    var http = HTTPRequestParser(limits: HTTPLimits(maxHeaderBytes: 8 * 1024, maxBodyBytes: 0, maxHeaderCount: 32))
    var frames: ControlFrameDecoder
    var session: ControlSession?
    var machineKey: PublicKey?
    /// The handshake's timestamp, recorded against replays once the node logs in.
    var handshakeTimestamp: TAI64N?
    var nodeID: UInt64?
    /// Control messages received while `nodeID` is nil.
    var messagesBeforeLogin = 0
    /// When anything last arrived.
    var lastHeard: MonotonicInstant

    /// A connection just accepted; until its handshake is done, no frame
    /// may be larger than `handshakeFrameLimit`.
    init(id: ConnectionID, source: IPAddress, now: MonotonicInstant, handshakeFrameLimit: Int) {
        self.id = id
        self.source = source
        frames = ControlFrameDecoder(maximumFrameLength: handshakeFrameLimit)
        lastHeard = now
    }

    /// `message` sealed for the channel, or nil (with the reason) when it
    /// cannot go: no session yet, or larger than a frame carries.
    func seal(_ message: ServerMessage) -> (bytes: [UInt8]?, tooLarge: Int?) {
        guard session != nil else { return (nil, nil) }
        do { return (try session!.seal(message), nil) } catch {
            if case .frameTooLarge(let length) = error { return (nil, length) }
            return (nil, nil)
        }
    }

    /// An HTTP answer with `status` and a JSON body (saying "Connection:
    /// close" without keep-alive).
    func response(status: Int, _ body: JSONValue, keepAlive: Bool) -> [UInt8] {
        var response = HTTPResponse(status: status, headers: ["Content-Type": "application/json"],
                                    body: JSONSerializer.bytes(body) + [10])
        if !keepAlive { response.headers.set("Connection", "close") }
        return response.serialized()
    }
}
