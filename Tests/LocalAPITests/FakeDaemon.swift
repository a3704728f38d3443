import Foundation
import JSON
import Linux
@testable import LocalAPI

/// A `LocalAPIServer` in its own event loop on a background thread, in a
/// fresh temporary directory, answering with a test's handler. Every
/// request the handler sees is recorded; `perform` runs code on the loop
/// thread (to answer deferred requests).
final class FakeDaemon: @unchecked Sendable {
    typealias Handler = @Sendable (LocalAPIRequest) -> LocalAPIAnswer

    let directory: String
    let path: String
    private let handler: Handler
    private let lock = NSLock()
    private var actions: [(LocalAPIServer) -> Void] = []
    private var stopRequested = false
    private var seen: [LocalAPIRequest] = []
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var startError: String?

    init(tokens: Range<UInt64> = 100..<200, maximumClients: Int = 32, handler: @escaping Handler) throws {
        directory = makeTemporaryDirectory()
        path = directory + "/run/tern/ternd.sock"
        self.handler = handler
        let thread = Thread { [self] in self.run(tokens: tokens, maximumClients: maximumClients) }
        thread.start()
        started.wait()
        if let startError {
            removeTree(directory)
            throw DaemonError(message: startError)
        }
    }

    struct DaemonError: Error { let message: String }

    /// The requests the handler has seen, in order.
    var requests: [LocalAPIRequest] { lock.withLock { seen } }

    /// Runs `body` on the loop thread and returns its result.
    func perform<T: Sendable>(_ body: @escaping @Sendable (LocalAPIServer) -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        lock.withLock {
            actions.append { server in
                box.value = body(server)
                done.signal()
            }
        }
        done.wait()
        return box.value!
    }

    /// Stops the loop (closing every client and the socket) and removes the directory.
    func stop() {
        lock.withLock { stopRequested = true }
        finished.wait()
        removeTree(directory)
    }

    private func run(tokens: Range<UInt64>, maximumClients: Int) {
        let loop: EventLoop
        let server: LocalAPIServer
        do {
            loop = try EventLoop()
            server = try LocalAPIServer(path: path, loop: loop, tokens: tokens, maximumClients: maximumClients)
        } catch {
            startError = error.description
            started.signal()
            finished.signal()
            return
        }
        started.signal()
        while !lock.withLock({ stopRequested }) {
            _ = try? loop.wait(until: Clock.monotonicNanoseconds() + 10_000_000)
            for event in loop.readyEvents where server.owns(event.token) {
                server.handle(event) { request in
                    lock.withLock { seen.append(request) }
                    return handler(request)
                }
            }
            let pending = lock.withLock { () -> [(LocalAPIServer) -> Void] in
                let taken = actions
                actions = []
                return taken
            }
            for action in pending { action(server) }
        }
        server.shutdown()
        finished.signal()
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// A fresh directory under /tmp (short, so socket paths fit in 107 bytes).
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/tern-api-XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(result != nil, "mkdtemp failed")
    return String(cString: template)
}

func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Polls `condition` every 5 ms for up to `seconds`; true once it holds.
func eventually(within seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}

/// Runs `body` on a new thread; `wait` returns its result (or nil after `seconds`).
final class Background<T>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: T?
    private var finished = false

    init(_ body: @escaping @Sendable () -> T) {
        Thread { [self] in
            let value = body()
            lock.withLock {
                result = value
                finished = true
            }
            done.signal()
        }.start()
    }

    /// True once `body` has returned.
    var isDone: Bool { lock.withLock { finished } }

    func wait(seconds: Double = 10) -> T? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        done.signal()  // later waits return at once
        return lock.withLock { result }
    }
}

/// A status document like ternd's, for formatter and CLI tests.
func sampleStatus(now: Int64) -> JSONValue {
    [
        "state": "Running",
        "controlURL": "http://10.0.0.1:8080",
        "controlConnected": true,
        "health": ["relay unreachable"],
        "mapVersion": 7,
        "self": [
            "id": "n1", "name": "gateway", "nodeKey": "bm9kZWtleQ==",
            "addresses": ["100.64.0.1", "fd7a:115c:a1e0::1"], "endpoints": ["192.168.1.2:41641"],
            "keyExpiry": nil, "user": "admin", "tags": ["tag:router"],
        ],
        "peers": [
            [
                "id": "n2", "name": "laptop", "nodeKey": "a2V5Mg==",
                "addresses": ["100.64.0.2", "fd7a:115c:a1e0::2"], "allowedIPs": ["100.64.0.2/32"],
                "endpoints": ["10.0.0.2:41641"], "endpoint": "10.0.0.2:41641", "online": true,
                "lastHandshake": .integer(now - 125), "rxBytes": 1536, "txBytes": 3_145_728, "keyExpiry": nil,
            ],
            [
                "id": "n3", "name": "nas-in-the-basement", "nodeKey": "a2V5Mw==",
                "addresses": ["100.64.0.3/32"], "allowedIPs": ["100.64.0.3/32", "192.168.5.0/24"],
                "endpoints": [], "endpoint": nil, "online": false,
                "lastHandshake": nil, "rxBytes": 0, "txBytes": 0, "keyExpiry": nil,
            ],
        ],
    ]
}
