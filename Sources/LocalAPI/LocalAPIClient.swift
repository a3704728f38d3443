import CTern
import HTTP
import JSON
import Linux

/// The CLI side of a local API: one blocking request over a fresh Unix
/// connection (`tern` to `ternd`, `tern-control` commands to the server).
///
/// Every call connects, sends one HTTP/1.1 request with
/// `Connection: close` and a JSON body, and reads the answer, all within
/// the call's timeout. Failures to get an answer are thrown as
/// `LocalAPIError` with a sentence fit for people; an answer with an error
/// status is returned like any other (see `LocalAPIErrorBody.message`).
public struct LocalAPIClient: Sendable {
    /// The daemon's socket path.
    public let socketPath: String
    /// The daemon's name, for messages (`ternd is not running ...`).
    public let daemonName: String
    /// The largest answer body accepted.
    public var maximumResponseBytes = 16 << 20

    /// A client for the daemon called `daemonName` listening at `socketPath`.
    public init(socketPath: String, daemonName: String) {
        self.socketPath = socketPath
        self.daemonName = daemonName
    }

    /// Sends `method` `path` with `body` (compact JSON; none when nil) and
    /// returns the answer's status and JSON body (`null` when it had none).
    /// Gives up with `.timedOut` once `timeoutMilliseconds` have passed.
    public func request(method: String, path: String, body: JSONValue? = nil,
                        timeoutMilliseconds: Int) throws(LocalAPIError) -> (status: Int, body: JSONValue) {
        var headers: HTTPHeaders = ["Host": daemonName, "Accept": "application/json", "Connection": "close"]
        var bytes: [UInt8] = []
        if let body {
            headers.add("Content-Type", "application/json")
            bytes = JSONSerializer.bytes(body, style: .compact)
        }
        let request = HTTPRequest(method: method, target: path, headers: headers, body: bytes)
        let response = try exchange(request.serialized(), method: method, timeoutMilliseconds: timeoutMilliseconds)
        guard !response.body.isEmpty else { return (response.status, .null) }
        do throws(JSONError) {
            return (response.status, try JSONParser.parse(response.body))
        } catch {
            throw .malformedResponse(daemon: daemonName, detail: "the body is not JSON (" + error.description + ")")
        }
    }

    /// Sends `requestBytes` as they are and reads one response (skipping
    /// interim 1xx ones) to the request `method`.
    func exchange(_ requestBytes: [UInt8], method: String, timeoutMilliseconds: Int) throws(LocalAPIError) -> HTTPResponse {
        let deadline = tern_monotonic_ns() &+ UInt64(max(timeoutMilliseconds, 0)) &* 1_000_000
        let connection = try connect()
        defer { connection.close() }
        try send(requestBytes, on: connection, deadline: deadline, timeoutMilliseconds: timeoutMilliseconds)
        return try receive(on: connection, method: method, deadline: deadline, timeoutMilliseconds: timeoutMilliseconds)
    }

    private func connect() throws(LocalAPIError) -> UnixConnection {
        do throws(SystemError) {
            return try UnixConnection.connect(to: socketPath)
        } catch {
            switch error.errno {
            case ENOENT: throw .notRunning(daemon: daemonName, path: socketPath, socketMissing: true)
            case ECONNREFUSED: throw .notRunning(daemon: daemonName, path: socketPath, socketMissing: false)
            case EACCES, EPERM: throw .permissionDenied(daemon: daemonName, path: socketPath)
            default: throw .connectionFailed(daemon: daemonName, path: socketPath, error: error)
            }
        }
    }

    /// Writes the whole request. A daemon that answers early (refusing an
    /// oversize body) and closes makes the write fail with EPIPE or
    /// ECONNRESET: then stop writing and go read its answer.
    private func send(_ bytes: [UInt8], on connection: UnixConnection, deadline: UInt64,
                      timeoutMilliseconds: Int) throws(LocalAPIError) {
        var offset = 0
        while true {
            do throws(SystemError) {
                while offset < bytes.count {
                    let end = min(bytes.count, offset + connection.outputSpace)
                    guard end > offset, try connection.write(bytes[offset..<end]) else { break }
                    offset = end
                }
                if try connection.flush() && offset == bytes.count { return }
            } catch {
                if error.errno == EPIPE || error.errno == ECONNRESET { return }
                throw .connectionFailed(daemon: daemonName, path: socketPath, error: error)
            }
            try wait(for: POLLOUT, on: connection, deadline: deadline, timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// Sleeps until the connection is ready for `events` or throws `.timedOut`.
    private func wait(for events: Int32, on connection: UnixConnection, deadline: UInt64,
                      timeoutMilliseconds: Int) throws(LocalAPIError) {
        switch Poll.wait(connection.fileDescriptor, events: events, deadline: deadline) {
        case .ready:
            return
        case .timedOut:
            throw .timedOut(daemon: daemonName, milliseconds: timeoutMilliseconds)
        case .failed(let code):
            throw .connectionFailed(daemon: daemonName, path: socketPath, error: SystemError("poll", errno: code))
        }
    }

    private func receive(on connection: UnixConnection, method: String, deadline: UInt64,
                         timeoutMilliseconds: Int) throws(LocalAPIError) -> HTTPResponse {
        var parser = HTTPResponseParser(limits: HTTPLimits(maxHeaderBytes: 64 * 1024, maxBodyBytes: maximumResponseBytes))
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count: Int?
            do throws(SystemError) {
                count = try read(into: &buffer, from: connection)
            } catch {
                // The daemon reset the connection: whatever it sent before is all there is.
                if error.errno == ECONNRESET || error.errno == EPIPE {
                    return try finish(&parser)
                }
                throw .connectionFailed(daemon: daemonName, path: socketPath, error: error)
            }
            guard let count else {
                try wait(for: POLLIN, on: connection, deadline: deadline, timeoutMilliseconds: timeoutMilliseconds)
                continue
            }
            if count == 0 { return try finish(&parser) }
            parser.append(buffer[0..<count])
            do throws(HTTPError) {
                while let response = try parser.next(requestMethod: method) {
                    if response.status >= 200 { return response }
                }
            } catch {
                throw .malformedResponse(daemon: daemonName, detail: error.description)
            }
        }
    }

    /// The response that ended with the connection, if any.
    private func finish(_ parser: inout HTTPResponseParser) throws(LocalAPIError) -> HTTPResponse {
        do throws(HTTPError) {
            if let response = try parser.finish(), response.status >= 200 { return response }
        } catch {
            if error == .truncatedMessage { throw .connectionClosed(daemon: daemonName) }
            throw .malformedResponse(daemon: daemonName, detail: error.description)
        }
        throw .connectionClosed(daemon: daemonName)
    }

    private func read(into buffer: inout [UInt8], from connection: UnixConnection) throws(SystemError) -> Int? {
        var failure: SystemError?
        let count = buffer.withUnsafeMutableBytes { raw -> Int? in
            do throws(SystemError) {
                return try connection.read(into: raw)
            } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        return count
    }
}
