import IP
import TernCrypto
import UAPI
import WireGuard

/// libFuzzer entry point for the UAPI core: framing, `set` parsing and
/// applying, `get` rendering.
///
/// The first byte picks the chunk size (1...16 bytes, or all at once) with
/// which the rest is fed to a `RequestFramer`, so splits are exercised too.
/// Every complete request is answered against a fresh `Device<SystemRandom>`
/// that has a private key and one peer. Checked properties (a trap is a finding):
/// - a `set` that fails changes nothing: the `get` output is the same before and after;
/// - a `set` that succeeds answers exactly `errno=0\n\n`;
/// - after a successful `set`, the `get` output, turned back into a `set`
///   (`replace_peers=true` plus the settable lines), rebuilds a device whose
///   `get` is identical: `get` and `set` agree on every value they print.
/// Socket changes to port 1 fail with -EADDRINUSE, to reach that path as well.

let ownPrivateKey = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
let initialPeer = "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33"
let now: UInt64 = 100_000_000_000
let wallNow: UInt64 = 1_700_000_000_000_000_000

nonisolated(unsafe) var sodiumReady = false

func makeDevice() -> Device<SystemRandom> {
    Device(random: SystemRandom(), maxPacketSize: 2048, stagingSlots: 4)
}

/// The fake socket: port 1 is "in use", port 0 binds 43210.
func configureSocket(_ wanted: DeviceSettings) throws(UAPIError) -> DeviceSettings {
    if wanted.listenPort == 1 { throw .addressInUse }
    var bound = wanted
    if bound.listenPort == 0 { bound.listenPort = 43210 }
    return bound
}

func answer(_ text: [UInt8], device: Device<SystemRandom>, settings: inout DeviceSettings) -> [UInt8] {
    var framer = RequestFramer()
    framer.feed(text)
    var output: [UInt8] = []
    while let request = try? framer.nextRequest() {
        output += request.respond(device: device, settings: &settings, now: now, wallNow: wallNow,
                                  configureSocket: configureSocket)
    }
    return output
}

/// The `set` request that recreates what `get` printed.
func setRequest(fromGet get: [UInt8]) -> [UInt8] {
    var request = Array("set=1\nreplace_peers=true\n".utf8)
    let settable = ["private_key", "listen_port", "fwmark", "public_key", "preshared_key", "protocol_version",
                    "endpoint", "persistent_keepalive_interval", "allowed_ip"]
    for line in get.split(separator: UInt8(ascii: "\n")) {
        guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
        let key = String(decoding: line[line.startIndex..<equals], as: UTF8.self)
        if settable.contains(key) { request += line + [UInt8(ascii: "\n")] }
    }
    return request + [UInt8(ascii: "\n")]
}

func run(_ data: UnsafeRawBufferPointer) {
    guard let mode = data.first else { return }
    let input = Array(data[1...])
    let device = makeDevice()
    device.setPrivateKey(try! PrivateKey(hex: ownPrivateKey))
    let peer = device.addPeer(try! PublicKey(hex: initialPeer))!
    device.addAllowedIP(peer, try! IPPrefix("10.0.0.0/8"))
    var settings = DeviceSettings(listenPort: 51820)

    var framer = RequestFramer()
    let chunk = mode < 240 ? Int(mode % 16) + 1 : max(1, input.count)
    var offset = 0
    var requests = 0
    while offset < input.count && !framer.hasFailed {
        framer.feed(Array(input[offset..<min(offset + chunk, input.count)]))
        offset += chunk
        while let request = try? framer.nextRequest() {
            requests += 1
            let before = GetResponse.render(device, settings: settings, now: now, wallNow: wallNow)
            let settingsBefore = settings
            let response = request.respond(device: device, settings: &settings, now: now, wallNow: wallNow,
                                           configureSocket: configureSocket)
            let after = GetResponse.render(device, settings: settings, now: now, wallNow: wallNow)
            guard request.operation == .set else {
                precondition(request.body.isEmpty ? response == before : response == Array("errno=-22\n\n".utf8),
                             "get answered something else")
                continue
            }
            if response != UAPIResponse.success {
                precondition(after == before, "a failed set changed the device")
                precondition(settings == settingsBefore, "a failed set changed the settings")
                continue
            }
            // Round trip: what get printed, set again on a fresh device, prints the same.
            let fresh = makeDevice()
            var freshSettings = DeviceSettings()
            let rebuilt = answer(setRequest(fromGet: after), device: fresh, settings: &freshSettings)
            precondition(rebuilt == UAPIResponse.success, "get output did not parse back as a set")
            precondition(GetResponse.render(fresh, settings: freshSettings, now: now, wallNow: wallNow) == after,
                         "get → set → get changed something")
        }
        var scratch = [UInt8](repeating: 0, count: 4096)
        scratch.withUnsafeMutableBytes { out in while device.poll(into: out, now: now) != .done {} }
    }
    _ = requests
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUAPI(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if !sodiumReady {
        _ = try? Sodium.initialize()
        sodiumReady = true
    }
    run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
