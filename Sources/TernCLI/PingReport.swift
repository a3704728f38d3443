import JSON
import TextFormat

/// The answer to `POST /v1/ping`, and how `tern ping` prints it.
///
/// ```
/// {"peer": name, "address": ip,
///  "results": [{"rttMicroseconds": int, "endpoint": str|null} | {"timeout": true}]}
/// ```
public struct PingReport: Equatable {
    /// One ping's outcome.
    public enum Result: Equatable {
        /// A pong after `rttMicroseconds`, over `endpoint` (nil: not a direct path).
        case pong(rttMicroseconds: Int64, endpoint: String?)
        /// No pong in time.
        case timeout
    }

    /// The peer's name.
    public var peer: String
    /// The peer's mesh address that was pinged.
    public var address: String
    /// One entry per ping sent, in order.
    public var results: [Result]

    /// Reads `json`; nil unless it is an object with a `results` array.
    /// A result without `rttMicroseconds` counts as a timeout.
    public init?(json: JSONValue) {
        guard json.object != nil, let results = json["results"]?.array else { return nil }
        peer = json["peer"]?.string ?? ""
        address = json["address"]?.string ?? ""
        self.results = results.map { result in
            if let rtt = result["rttMicroseconds"]?.int64, result["timeout"]?.bool != true {
                return .pong(rttMicroseconds: rtt, endpoint: result["endpoint"]?.string)
            }
            return .timeout
        }
    }

    /// A report with these parts.
    public init(peer: String, address: String, results: [Result]) {
        self.peer = peer
        self.address = address
        self.results = results
    }

    /// True if at least one pong came back (`tern ping` exits 0 then).
    public var anyReply: Bool {
        results.contains { if case .pong = $0 { return true } else { return false } }
    }

    /// One line per result: `pong from NAME (100.64.0.2) via 10.0.0.2:41641
    /// in 1.234 ms` or `timeout waiting for pong from NAME`.
    public var lines: [String] {
        let who = peer.isEmpty ? address : peer
        return results.map { result in
            switch result {
            case .pong(let rtt, let endpoint):
                var line = "pong from " + who
                if !address.isEmpty && address != who { line += " (" + address + ")" }
                if let endpoint { line += " via " + endpoint }
                return line + " in " + DurationText.milliseconds(microseconds: rtt) + " ms"
            case .timeout:
                return "timeout waiting for pong from " + who
            }
        }
    }
}
