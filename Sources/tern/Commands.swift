import JSON
import LocalAPI
import TernCLI
import TextFormat

/// Each `tern` command: one request to `ternd`, its answer printed.
struct Commands {
    let client: LocalAPIClient

    /// Extra time the client allows on top of what the daemon is asked to wait.
    static let margin: Int64 = 5_000
    /// How long plain queries may take.
    static let queryTimeout = 10_000

    /// `POST /v1/up`, waiting as long as the login may take; the auth key
    /// is read from its file or standard input first.
    func up(_ options: TernUpOptions) -> Int32 {
        var authKey: String?
        if let source = options.authKey {
            do throws(CommandLineError) { authKey = try AuthKeyInput.read(source) } catch {
                Console.error("tern: " + error.message)
                return 1
            }
        }
        let timeout = Commands.clamp(options.timeoutMilliseconds + Commands.margin)
        let body = options.requestBody(authKey: authKey)
        guard let answer = call("POST", "/v1/up", body: body, timeout: timeout) else { return 1 }
        guard let status = StatusDocument(json: answer) else {
            return malformed("/v1/up")
        }
        Console.line(StatusFormatter.loginSummary(status))
        for warning in status.health { Console.line("health: " + warning) }
        return 0
    }

    /// `GET /v1/status`, printed for people or as the raw document.
    func status(json: Bool) -> Int32 {
        guard let answer = call("GET", "/v1/status", body: nil, timeout: Commands.queryTimeout) else { return 1 }
        if json {
            Console.line(answer.prettyText)
            return 0
        }
        guard let status = StatusDocument(json: answer) else { return malformed("/v1/status") }
        Console.lines(StatusFormatter.lines(status, now: Console.unixTime()))
        return 0
    }

    /// This node's addresses, or a peer's, from the status document.
    func ip(family: MeshAddress.Family, peer: String?) -> Int32 {
        guard let answer = call("GET", "/v1/status", body: nil, timeout: Commands.queryTimeout) else { return 1 }
        guard let status = StatusDocument(json: answer) else { return malformed("/v1/status") }
        let owner: String
        let addresses: [String]
        if let peer {
            guard let found = status.peer(named: peer) else {
                Console.error("tern: no peer named '" + peer + "'")
                return 1
            }
            owner = found.name
            addresses = found.addresses
        } else {
            guard let node = status.selfNode else {
                Console.error("tern: not logged in (ternd is " + status.state + ")")
                return 1
            }
            owner = node.name
            addresses = node.addresses
        }
        let selected = MeshAddress.select(addresses, family: family)
        guard !selected.isEmpty else {
            let kind = family == .ipv4 ? "IPv4 " : family == .ipv6 ? "IPv6 " : ""
            Console.error("tern: " + owner + " has no " + kind + "address")
            return 1
        }
        Console.lines(selected)
        return 0
    }

    /// `POST /v1/ping`; exits 0 if any pong came back.
    func ping(_ options: TernPingOptions) -> Int32 {
        let timeout = Commands.clamp(Int64(options.count) * options.timeoutMilliseconds + Commands.margin)
        guard let answer = call("POST", "/v1/ping", body: options.requestBody, timeout: timeout) else { return 1 }
        guard let report = PingReport(json: answer) else { return malformed("/v1/ping") }
        Console.lines(report.lines)
        return report.anyReply ? 0 : 1
    }

    /// `POST /v1/logout`; says so when the coordination server could not be told.
    func logout() -> Int32 {
        guard let answer = call("POST", "/v1/logout", body: nil, timeout: Commands.queryTimeout) else { return 1 }
        Console.line(answer["serverTold"]?.bool == false
                     ? "Logged out (the coordination server could not be told)." : "Logged out.")
        return 0
    }

    /// A `POST` without a body whose success prints `done`.
    func simple(_ path: String, done: String) -> Int32 {
        guard call("POST", path, body: nil, timeout: Commands.queryTimeout) != nil else { return 1 }
        Console.line(done)
        return 0
    }

    /// One request; the answer's body on a 2xx status. Otherwise prints
    /// why (`tern: <sentence>`) and returns nil.
    private func call(_ method: String, _ path: String, body: JSONValue?, timeout: Int) -> JSONValue? {
        do throws(LocalAPIError) {
            let answer = try client.request(method: method, path: path, body: body, timeoutMilliseconds: timeout)
            guard answer.status >= 200 && answer.status < 300 else {
                Console.error("tern: " + LocalAPIErrorBody.message(in: answer.body, status: answer.status))
                return nil
            }
            return answer.body
        } catch {
            Console.error("tern: " + error.message)
            return nil
        }
    }

    private func malformed(_ path: String) -> Int32 {
        Console.error("tern: ternd answered " + path + " with a document tern does not understand")
        return 1
    }

    /// Milliseconds as an `Int` that fits even where `Int` is 32 bits.
    private static func clamp(_ milliseconds: Int64) -> Int {
        Int(min(max(milliseconds, 0), Int64(Int32.max)))
    }
}
