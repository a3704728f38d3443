import IP
import TernCrypto
import UAPI
import WireGuard
import TestSupport

/// A deterministic random source (SplitMix64) so every run is the same.
struct SeededRandom: RandomSource {
    private var generator: SplitMix64

    init(state: UInt64) { generator = SplitMix64(seed: state) }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) { generator.fill(buffer) }
}

/// Keys used throughout (the hex keys of wireguard.com's cross-platform example).
enum Keys {
    /// Our private key and its public key.
    static let ownPrivate = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
    static let ownPublic = "c1532e1b3d3508fc7ebc354fa679620f33f287149542e684c67b7b0d81362b29"
    static let peer1 = "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33"
    static let peer2 = "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376"
    static let peer3 = "662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58"
    static let psk = "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
    static let zero = String(repeating: "0", count: 64)
}

/// The wall clock used by the tests' `get`s: 2023-11-14T22:13:20Z.
let wallNow: UInt64 = 1_700_000_000 * 1_000_000_000
let second: UInt64 = 1_000_000_000

func makeDevice(seed: UInt64 = 1) -> Device<SeededRandom> {
    Device(random: SeededRandom(state: seed), maxPacketSize: 2048, stagingSlots: 16)
}

/// A small UAPI "server" over one device: frames text, answers it, keeps the settings.
final class Harness {
    let device: Device<SeededRandom>
    var settings = DeviceSettings()
    var now: UInt64 = 5 * second
    /// The port the fake socket binds when asked for port 0.
    var ephemeralPort: UInt16 = 43210
    /// Make the next socket change fail with this error.
    var socketFailure: UAPIError?
    var socketCalls: [DeviceSettings] = []

    init(seed: UInt64 = 1) { device = makeDevice(seed: seed) }

    /// Feeds `text` as one connection's bytes and returns every response, concatenated.
    @discardableResult
    func send(_ text: String) -> String {
        var framer = RequestFramer()
        framer.feed(Array(text.utf8))
        var output: [UInt8] = []
        while true {
            do {
                guard let request = try framer.nextRequest() else { break }
                output += request.respond(device: device, settings: &settings, now: now, wallNow: wallNow) {
                    (wanted: DeviceSettings) throws(UAPIError) -> DeviceSettings in
                    self.socketCalls.append(wanted)
                    if let failure = self.socketFailure { throw failure }
                    var bound = wanted
                    if bound.listenPort == 0 { bound.listenPort = self.ephemeralPort }
                    return bound
                }
            } catch {
                output += Array("<closed: \(error)>".utf8)
                break
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The `get` response.
    func get() -> String { send("get=1\n\n") }

    /// Sends `set=1\n` + `lines` + `\n` and returns the response.
    @discardableResult
    func set(_ lines: String) -> String { send("set=1\n" + lines + "\n") }
}

/// The `get` lines of one peer as `GetResponse` renders a peer that never
/// completed a handshake and moved no data.
func peerBlock(_ publicKey: String, psk: String = Keys.zero, endpoint: String? = nil, keepalive: Int = 0,
               allowedIPs: [String] = []) -> String {
    var text = "public_key=\(publicKey)\npreshared_key=\(psk)\nprotocol_version=1\n"
    if let endpoint { text += "endpoint=\(endpoint)\n" }
    text += "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
    text += "persistent_keepalive_interval=\(keepalive)\n"
    for prefix in allowedIPs { text += "allowed_ip=\(prefix)\n" }
    return text
}

/// Everything the device has queued for the network, drained.
func drain<R: RandomSource>(_ device: Device<R>, now: UInt64) -> [Action] {
    var buffer = [UInt8](repeating: 0, count: 4096)
    var actions: [Action] = []
    while true {
        let action = buffer.withUnsafeMutableBytes { device.poll(into: $0, now: now) }
        if action == .done { return actions }
        actions.append(action)
    }
}
