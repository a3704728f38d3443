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
    var frames: ControlFrameDecoder
    var session: ControlSession?
    var machineKey: PublicKey?
    /// The handshake's timestamp, recorded against replays once the node logs in.
    var handshakeTimestamp: TAI64N?
    var nodeID: UInt64?
    /// Control messages received while `nodeID` is nil.
    var messagesBeforeLogin = 0
    /// When the connection opened, and when anything last arrived (monotonic ns).
    let openedAt: UInt64
    var lastHeard: UInt64

    /// A connection just accepted; until its handshake is done, no frame
    /// may be larger than `handshakeFrameLimit`.
    init(tcp: TCPConnection, token: UInt64, now: UInt64, handshakeFrameLimit: Int) {
        self.tcp = tcp
        self.token = token
        frames = ControlFrameDecoder(maximumFrameLength: handshakeFrameLimit)
        openedAt = now
        lastHeard = now
    }

    /// True while the peer leaves too many answers unread: it is not read
    /// from until it catches up.
    var isBackedUp: Bool { tcp.pendingOutputCount > ControlService.outputBacklogLimit }

    /// What to register the descriptor for: as the socket needs, without
    /// `.readable` while the peer is backed up.
    var interest: Interest { isBackedUp ? .writable : tcp.interest }

    /// Queues `bytes`; false if the peer is too far behind (then it is dropped).
    func send(_ bytes: [UInt8]) -> Bool {
        do { return try tcp.write(bytes) } catch { return false }
    }

    /// Seals and queues `message`; false if it cannot go (then the
    /// connection is dropped). A message larger than a frame can carry is
    /// said in the log: no retry will deliver it.
    func send(_ message: ServerMessage) -> Bool {
        guard session != nil else { return false }
        do { return send(try session!.seal(message)) } catch {
            if case .frameTooLarge(let length) = error {
                ControlService.log("a message for node " + (nodeID.map { String($0) } ?? "?") + " is " + String(length)
                                   + " bytes, more than the " + String(ControlFraming.maxFrameLength) + " a frame carries")
            }
            return false
        }
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
