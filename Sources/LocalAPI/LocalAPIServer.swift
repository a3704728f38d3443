import CTern
import HTTP
import JSON
import Linux

/// The daemon side of a local API: HTTP/1.1 with JSON bodies on a Unix
/// socket, one request per connection, living in the owner's `EventLoop`
/// (nothing here blocks).
///
/// The owner dispatches every ready event whose token `owns(_:)` claims to
/// `handle(_:handler:)`. The handler sees each complete request once and
/// either answers at once (`LocalAPIAnswer.respond`) or defers; a deferred
/// request is answered later with `respond(to:status:body:)` (a login that
/// takes seconds, a ping waiting for its pong). Answers carry
/// `Content-Type: application/json` and `Connection: close`, with the body
/// pretty-printed plus a final newline; the connection closes once the
/// answer is written.
///
/// Requests that cannot be parsed, or exceed `limits`, get the parse
/// error's status (400, 413, 431, 501 or 505) with a JSON error body
/// (`LocalAPIErrorBody`), and the handler never sees them. A body that is
/// not JSON gets 400 `invalid-json`.
///
/// A client that hangs up while its request is pending is dropped at once
/// (so is one that half-closes its sending side: clients must keep the
/// connection open until they have the answer); answering it later does
/// nothing.
public final class LocalAPIServer {
    /// Names a request the handler deferred, to answer it later. Tokens are
    /// reused when clients come and go; the serial number keeps an old id
    /// from answering a newer client with the same token.
    public struct PendingRequest: Hashable, Sendable {
        /// The event-loop token of the client's connection.
        public let token: UInt64
        /// Counts requests over the server's life.
        let serial: UInt64
    }

    /// Where one client's connection is.
    private enum Phase: Equatable {
        /// Reading the request.
        case reading
        /// The handler has the request; reading only to notice a hang-up.
        case pending(serial: UInt64)
        /// Writing the answer; afterwards close, or drain when input may be left unread.
        case writing(thenDrain: Bool)
        /// Answer sent and our side shut down after a rejected request:
        /// reading (and dropping) what the client still sends until it closes,
        /// so closing does not reset the connection under the answer.
        case draining(discarded: Int)
    }

    private final class Client {
        let token: UInt64
        let connection: UnixConnection
        var parser: HTTPRequestParser
        var phase = Phase.reading
        /// The serialized answer and how much of it the connection has taken.
        var output: [UInt8] = []
        var sent = 0
        /// What the descriptor is registered for now.
        var interest = Interest.readable

        init(token: UInt64, connection: UnixConnection, limits: HTTPLimits) {
            self.token = token
            self.connection = connection
            parser = HTTPRequestParser(limits: limits)
        }
    }

    /// The limits when none are given: 64 KiB of headers, 1 MiB of body.
    public static var defaultLimits: HTTPLimits {
        HTTPLimits(maxHeaderBytes: 64 * 1024, maxBodyBytes: 1 << 20)
    }

    /// The socket's filesystem path.
    public let path: String
    /// The limits every request is held to.
    public let limits: HTTPLimits
    /// The event-loop tokens this server uses: the first for the listener,
    /// the others for clients.
    public let tokens: Range<UInt64>
    /// The most clients connected at once; more are refused with 503.
    public let maximumClients: Int

    private let loop: EventLoop
    private let listener: UnixListener
    private var clients: [UInt64: Client] = [:]
    private var nextToken: UInt64
    private var nextSerial: UInt64 = 0
    private let scratch: UnsafeMutableRawBufferPointer
    /// How much a rejected client may still send after its answer before it is cut off.
    private static var maximumDrain: Int { 4 << 20 }

    /// Listens at `path` and registers the listener in `loop` with
    /// `tokens.lowerBound`; clients get the other tokens of `tokens` (at
    /// least two tokens are needed). Missing parent directories are created
    /// with mode 0755, a stale socket file is replaced, and the socket file
    /// gets `mode` (default 0600: only the owner — root — may drive the
    /// daemon; connecting needs write permission).
    public init(path: String, mode: UInt32 = 0o600, loop: EventLoop, tokens: Range<UInt64>,
                limits: HTTPLimits = LocalAPIServer.defaultLimits, maximumClients: Int = 32) throws(SystemError) {
        precondition(tokens.upperBound - tokens.lowerBound >= 2, "LocalAPIServer needs at least two tokens")
        precondition(maximumClients >= 1, "LocalAPIServer needs room for a client")
        let listener = try UnixListener(path: path)
        // The listener binds the socket 0700; set the asked mode (on the
        // file just created: the directory above is root's).
        if path.withCString({ chmod($0, mode_t(mode)) }) != 0 {
            let error = SystemError.current("chmod")
            listener.close()
            throw error
        }
        do {
            try loop.register(listener.fileDescriptor, token: tokens.lowerBound, interest: .readable)
        } catch {
            listener.close()
            throw error
        }
        self.path = path
        self.limits = limits
        self.tokens = tokens
        self.maximumClients = maximumClients
        self.loop = loop
        self.listener = listener
        nextToken = tokens.lowerBound + 1
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 8)
    }

    deinit {
        scratch.deallocate()
    }

    /// True if `token` is one of this server's (its listener's or a client's).
    public func owns(_ token: UInt64) -> Bool {
        tokens.contains(token)
    }

    /// The number of connected clients.
    public var clientCount: Int { clients.count }

    /// True while the request named `id` waits for `respond(to:status:body:)`
    /// (false once answered or once its client has gone).
    public func isPending(_ id: PendingRequest) -> Bool {
        guard let client = clients[id.token] else { return false }
        return client.phase == .pending(serial: id.serial)
    }

    /// Every request waiting for an answer, in no particular order.
    public var pendingRequests: [PendingRequest] {
        var result: [PendingRequest] = []
        for (token, client) in clients {
            if case .pending(let serial) = client.phase { result.append(PendingRequest(token: token, serial: serial)) }
        }
        return result
    }

    /// Serves one ready event of a token this server owns: accepts new
    /// clients, reads requests (calling `handler` for each complete one),
    /// writes answers, and closes finished or broken connections.
    public func handle(_ event: ReadyEvent, handler: (LocalAPIRequest) -> LocalAPIAnswer) {
        guard owns(event.token) else { return }
        if event.token == tokens.lowerBound {
            acceptAll()
            return
        }
        guard let client = clients[event.token] else { return }
        switch client.phase {
        case .reading: read(client, handler: handler)
        case .pending, .draining: discardInput(client)
        case .writing: pump(client)
        }
    }

    /// Answers the deferred request `id`. Returns false, doing nothing, if
    /// it was answered already or its client has gone.
    @discardableResult
    public func respond(to id: PendingRequest, status: Int, body: JSONValue) -> Bool {
        guard let client = clients[id.token], client.phase == .pending(serial: id.serial) else { return false }
        send(status: status, body: body, to: client, thenDrain: false)
        return true
    }

    /// Closes every client (pending requests go unanswered) and the
    /// listener, which removes the socket file.
    public func shutdown() {
        for client in Array(clients.values) { drop(client) }
        try? loop.unregister(listener.fileDescriptor)
        listener.close()
    }

    // MARK: Connections

    private func acceptAll() {
        while true {
            let accepted: UnixConnection?
            do { accepted = try listener.accept() } catch { return }  // EMFILE and the like: next wake-up
            guard let connection = accepted else { return }
            guard clients.count < maximumClients, let token = freeToken() else {
                refuse(connection)
                continue
            }
            do {
                try loop.register(connection.fileDescriptor, token: token, interest: .readable)
            } catch {
                connection.close()
                continue
            }
            clients[token] = Client(token: token, connection: connection, limits: limits)
        }
    }

    /// The next client token not in use, going round the range.
    private func freeToken() -> UInt64? {
        let first = tokens.lowerBound + 1
        // At most `clients.count` tokens are taken: one more step finds a free one.
        var steps = 0
        while steps <= clients.count {
            let token = nextToken
            nextToken = nextToken + 1 >= tokens.upperBound ? first : nextToken + 1
            if clients[token] == nil { return token }
            steps += 1
        }
        return nil
    }

    /// Tells a client over the limit to come back later, best effort, and closes it.
    private func refuse(_ connection: UnixConnection) {
        let body = LocalAPIErrorBody.make(message: "too many clients, try again", code: "busy")
        _ = try? connection.write(LocalAPIServer.answerBytes(status: 503, body: body))
        connection.close()
    }

    private func drop(_ client: Client) {
        guard let current = clients[client.token], current === client else { return }
        clients[client.token] = nil
        try? loop.unregister(client.connection.fileDescriptor)
        client.connection.close()
    }

    private func setInterest(_ interest: Interest, _ client: Client) {
        guard client.interest != interest else { return }
        do {
            try loop.modify(client.connection.fileDescriptor, token: client.token, interest: interest)
            client.interest = interest
        } catch {
            drop(client)
        }
    }

    // MARK: Requests

    private func read(_ client: Client, handler: (LocalAPIRequest) -> LocalAPIAnswer) {
        while true {
            let count: Int?
            do { count = try client.connection.read(into: scratch) } catch {
                drop(client)
                return
            }
            guard let count else { return }  // drained: wait for more
            guard count > 0 else {
                drop(client)  // gone before a complete request: nobody to answer
                return
            }
            client.parser.append(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
            do throws(HTTPError) {
                if let request = try client.parser.next() {
                    client.parser = HTTPRequestParser(limits: limits)  // one request per connection: free its buffer
                    dispatch(request, from: client, handler: handler)
                    return
                }
            } catch {
                send(status: error.statusCode, body: LocalAPIErrorBody.make(for: error, limits: limits),
                     to: client, thenDrain: true)
                return
            }
        }
    }

    private func dispatch(_ request: HTTPRequest, from client: Client, handler: (LocalAPIRequest) -> LocalAPIAnswer) {
        var body = JSONValue.null
        if !request.body.isEmpty {
            do throws(JSONError) {
                body = try JSONParser.parse(request.body)
            } catch {
                let reply = LocalAPIErrorBody.make(message: "request body is not valid JSON: " + error.description,
                                                   code: "invalid-json")
                send(status: 400, body: reply, to: client, thenDrain: false)
                return
            }
        }
        nextSerial += 1
        let id = PendingRequest(token: client.token, serial: nextSerial)
        // Pending before the handler runs, so it may answer (or see the id) right away.
        client.phase = .pending(serial: id.serial)
        let answer = handler(LocalAPIRequest(id: id, method: request.method, path: request.path,
                                             query: request.query, headers: request.headers, body: body))
        if case .respond(let status, let reply) = answer {
            respond(to: id, status: status, body: reply)
        }
    }

    /// Reads and drops input: a pending client is only watched for its
    /// hang-up; a draining one until it closes or has sent too much.
    private func discardInput(_ client: Client) {
        while true {
            let count: Int?
            do { count = try client.connection.read(into: scratch) } catch {
                drop(client)
                return
            }
            guard let count else { return }
            guard count > 0 else {
                drop(client)
                return
            }
            if case .draining(let discarded) = client.phase {
                guard discarded + count <= LocalAPIServer.maximumDrain else {
                    drop(client)
                    return
                }
                client.phase = .draining(discarded: discarded + count)
            }
        }
    }

    // MARK: Answers

    /// The bytes of an answer: headers, pretty JSON and a newline.
    static func answerBytes(status: Int, body: JSONValue) -> [UInt8] {
        var text = JSONSerializer.bytes(body, style: .pretty)
        text.append(0x0A)
        let response = HTTPResponse(status: status,
                                    headers: ["Content-Type": "application/json", "Connection": "close"],
                                    body: text)
        return response.serialized()
    }

    private func send(status: Int, body: JSONValue, to client: Client, thenDrain: Bool) {
        client.output = LocalAPIServer.answerBytes(status: status, body: body)
        client.sent = 0
        client.phase = .writing(thenDrain: thenDrain)
        pump(client)
    }

    /// Hands the connection as much of the answer as it takes; waits for
    /// `.writable` when the socket is full, and finishes once all is out.
    private func pump(_ client: Client) {
        do throws(SystemError) {
            while client.sent < client.output.count {
                let space = client.connection.outputSpace
                guard space > 0 else { break }
                let end = min(client.output.count, client.sent + space)
                guard try client.connection.write(client.output[client.sent..<end]) else { break }
                client.sent = end
            }
            if try client.connection.flush() && client.sent == client.output.count {
                finishWriting(client)
                return
            }
        } catch {
            drop(client)
            return
        }
        setInterest(.writable, client)
    }

    private func finishWriting(_ client: Client) {
        guard case .writing(thenDrain: true) = client.phase else {
            drop(client)
            return
        }
        client.output = []
        do { try client.connection.shutdownOutput() } catch {
            drop(client)
            return
        }
        client.phase = .draining(discarded: 0)
        setInterest(.readable, client)
        if clients[client.token] === client { discardInput(client) }
    }
}
