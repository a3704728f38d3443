import ControlProtocol
import JSON
import Mesh
import TernCrypto
import WireGuard

/// libFuzzer entry point for the node's side of the control plane. The
/// input is used as:
///
/// 1. a login server URL (`ControlURL`): whatever parses prints to a URL
///    that parses to the same value;
/// 2. a stored node state document: whatever reads back writes and reads
///    again to the same state;
/// 3. bytes from a server, fed to a `ControlConnection` in every phase it can
///    be in before the channel is up (key fetch, upgrade), in two chunks.
///
/// Errors are fine; a trap is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMesh(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if !initialized {
        try? Sodium.initialize()
        initialized = true
    }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)

    if let url = try? ControlURL(text) {
        let again = try? ControlURL(url.description)
        precondition(again?.port == url.port && again?.host == url.host, "URL did not round-trip")
    }

    if let document = try? JSONParser.parse(bytes), let state = try? NodeState(json: document) {
        let reread = try? NodeState(json: try JSONParser.parse(JSONSerializer.bytes(state.json)))
        precondition(reread == state, "node state did not round-trip")
    }

    for pinned in [nil, server.publicKey] {
        var connection = ControlConnection(url: url, machine: machine, serverKey: pinned,
                                           ephemeral: PrivateKey(bytes: Bytes32(repeating: 5)),
                                           timestamp: TAI64N(unixSeconds: 1_800_000_000, nanoseconds: 0))
        guard (try? connection.start(now: 0)) != nil else { continue }
        let cut = size / 2
        if (try? connection.receive(Array(bytes[0..<cut]), now: 1)) != nil {
            _ = try? connection.receive(Array(bytes[cut...]), now: 2)
        }
        _ = connection.closedByServer()
    }
    return 0
}

nonisolated(unsafe) private var initialized = false
private let machine = StaticIdentity(privateKey: PrivateKey(bytes: Bytes32(repeating: 1)))
private let server = StaticIdentity(privateKey: PrivateKey(bytes: Bytes32(repeating: 2)))
private let url = try! ControlURL("http://192.0.2.1:8080")
