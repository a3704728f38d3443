import Linux
import UAPI
import WireGuard

/// The `wg` configuration socket (`/var/run/wireguard/IFACE.sock`): accepts
/// connections, frames their requests and answers them against the device.
/// Owned by the interface's event loop; nothing here blocks.
final class UAPIServer {
    /// One connected `wg` client.
    final class Client {
        let connection: UnixConnection
        var framer = RequestFramer()
        /// Close once the output is flushed (after a framing error or EOF).
        var closing = false

        init(_ connection: UnixConnection) { self.connection = connection }
    }

    let listener: UnixListener
    private(set) var clients: [UInt64: Client] = [:]
    private var nextToken: UInt64

    /// Listens at `path`; client tokens count up from `firstToken`.
    init(path: String, firstToken: UInt64) throws(SystemError) {
        listener = try UnixListener(path: path)
        nextToken = firstToken
    }

    /// Accepts every waiting client, registering each in `loop`.
    func acceptAll(into loop: EventLoop) {
        while let connection = try? listener.accept() {
            let token = nextToken
            nextToken += 1
            do {
                try loop.register(connection.fileDescriptor, token: token, interest: .readable)
            } catch {
                connection.close()
                continue
            }
            clients[token] = Client(connection)
        }
    }

    /// Serves the client behind `token`: reads what it sent, answers every
    /// complete request with `answer`, writes the replies, and closes it on
    /// EOF, error or a request too large to frame.
    func serve(_ token: UInt64, loop: EventLoop, scratch: UnsafeMutableRawBufferPointer,
               answer: (UAPIRequest) -> [UInt8]) {
        guard let client = clients[token] else { return }
        var open = true
        while open, !client.closing {
            let count: Int?
            do { count = try client.connection.read(into: scratch) } catch { open = false; break }
            guard let count else { break }                    // drained
            guard count > 0 else { client.closing = true; break }   // EOF
            client.framer.feed(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
            while true {
                let request: UAPIRequest?
                do { request = try client.framer.nextRequest() } catch {
                    var reply: [UInt8] = []
                    UAPIResponse.write(errno: error.errno, to: &reply)
                    _ = reply.withUnsafeBytes { try? client.connection.write($0) }
                    client.closing = true
                    break
                }
                guard let request else { break }
                let reply = answer(request)
                let written = reply.withUnsafeBytes { (try? client.connection.write($0)) ?? false }
                if !written { open = false; break }
            }
        }
        let flushed = (try? client.connection.flush()) ?? false
        if !open || (client.closing && flushed) {
            close(token, loop: loop)
        } else if client.connection.hasPendingOutput {
            try? loop.modify(client.connection.fileDescriptor, token: token, interest: [.readable, .writable])
        } else {
            try? loop.modify(client.connection.fileDescriptor, token: token, interest: .readable)
        }
    }

    /// Drops a client.
    func close(_ token: UInt64, loop: EventLoop) {
        guard let client = clients.removeValue(forKey: token) else { return }
        try? loop.unregister(client.connection.fileDescriptor)
        client.connection.close()
    }

    /// Closes every client and the listener (which removes the socket file).
    func shutdown(loop: EventLoop) {
        for token in Array(clients.keys) { close(token, loop: loop) }
        try? loop.unregister(listener.fileDescriptor)
        listener.close()
    }
}
