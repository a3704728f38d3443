import ControlProtocol
import JSON
import TernCrypto
import WireGuard

/// libFuzzer entry point for the control channel's parsers.
///
/// Every input goes through all of these; a trap is a finding:
/// 1. the frame decoder, fed in chunks whose sizes come from the input
///    itself: it must return bodies that re-frame to exactly the bytes fed
///    (up to a pending partial frame), or fail with `frameTooLarge` on a
///    header that really announces too much;
/// 2. the server handshake, as an initiation (raw, and with a valid mac1 so
///    the Noise code is reached): it must refuse, since the fuzzer cannot
///    forge the AEAD fields;
/// 3. a real client session opening the input as a frame body (it must
///    refuse), and a server session opening the input sealed by the client
///    (it must decode or throw `badMessage`, never anything else);
/// 4. NodeMessage and ServerMessage decoding from JSON: whatever decodes must
///    re-encode to JSON that decodes to an equal message.
final class Target {
    let responder: ControlResponder
    let machine: StaticIdentity
    var replayGuard = ControlReplayGuard(capacity: 8)
    var random = SystemRandom()
    var client: ControlSession
    var server: ControlSession
    var clock: UInt64 = 1

    init() {
        _ = try? Sodium.initialize()
        var random = SystemRandom()
        let server = StaticIdentity(privateKey: random.privateKey())
        machine = StaticIdentity(privateKey: random.privateKey())
        responder = ControlResponder(identity: server)
        var handshake = ControlClientHandshake(machine: machine, serverKey: server.publicKey)
        var decoder = ControlFrameDecoder()
        let guardian = ControlReplayGuard()
        decoder.append(try! handshake.initiation(ephemeral: random.privateKey(),
                                                 timestamp: TAI64N(unixSeconds: 1_700_000_000, nanoseconds: 0), now: 1))
        let acceptance = try! responder.accept(initiation: try! decoder.next()!, replayGuard: guardian,
                                               ephemeral: random.privateKey(), index: 1, now: 1)
        decoder.append(acceptance.response)
        client = try! handshake.finish(response: try! decoder.next()!)
        self.server = acceptance.session
    }

    func run(_ input: [UInt8]) {
        decodeFrames(input)
        handshake(input)
        sessions(input)
        messages(input)
    }

    private func decodeFrames(_ input: [UInt8]) {
        var decoder = ControlFrameDecoder()
        var reframed: [UInt8] = []
        var offset = 0
        var step = 0
        while offset < input.count {
            // Chunk sizes 1...64, chosen by the input so the fuzzer explores splits.
            let size = min(input.count - offset, Int(input[step % input.count] & 63) + 1)
            step += 1
            decoder.append(Array(input[offset..<offset + size]))
            offset += size
            do {
                while let body = try decoder.next() { reframed += ControlFraming.frame(body) }
            } catch {
                guard case .frameTooLarge(let length) = error else { preconditionFailure("decoder threw \(error)") }
                precondition(length > ControlFraming.maxFrameLength, "refused a length within the limit")
                let at = reframed.count
                let announced = UInt32(input[at]) << 24 | UInt32(input[at + 1]) << 16
                    | UInt32(input[at + 2]) << 8 | UInt32(input[at + 3])
                precondition(Int(announced) == length, "refused length is not the announced one")
                return
            }
        }
        precondition(reframed.count + decoder.bufferedCount == input.count, "decoder lost or invented bytes")
        precondition(reframed == Array(input[0..<reframed.count]), "frames do not re-frame to the input")
    }

    private func handshake(_ input: [UInt8]) {
        clock += 1
        var raw = input
        for attempt in 0..<2 {
            if attempt == 1 {
                // Give it a valid mac1 so the Noise code, not the MAC, does the refusing.
                guard raw.count == Initiation.size else { return }
                let mac1 = raw.withUnsafeBytes { bytes in
                    withUnsafeBytes(of: responder.identity.mac1Key) {
                        Blake2s.mac(key: $0, UnsafeRawBufferPointer(rebasing: bytes[0..<Initiation.mac1]))
                    }
                }
                for i in 0..<16 { raw[Initiation.mac1 + i] = mac1[i] }
            }
            do {
                _ = try responder.accept(initiation: raw, replayGuard: replayGuard, ephemeral: random.privateKey(),
                                         index: 2, now: clock)
                preconditionFailure("the server accepted a forged initiation")
            } catch {
                _ = error.description
            }
        }
    }

    private func sessions(_ input: [UInt8]) {
        // Opening forged bytes must fail and close that copy of the session.
        var forgedTarget = client
        do {
            _ = try forgedTarget.open(input)
            preconditionFailure("a forged frame opened")
        } catch {
            precondition(error == .decryptionFailed, "forged frame: unexpected \(error)")
        }
        // Authentic frames with arbitrary plaintext: a message or badMessage.
        guard input.count <= ControlSession.maxPlaintextLength, let frame = try? client.seal(input) else { return }
        var decoder = ControlFrameDecoder()
        decoder.append(frame)
        guard let body = try? decoder.next() else { preconditionFailure("a sealed frame did not decode") }
        do {
            let message = try server.openNodeMessage(body)
            precondition((try? NodeMessage(json: message.json)) == message, "opened message does not round-trip")
        } catch {
            guard case .badMessage = error else { preconditionFailure("authentic frame: unexpected \(error)") }
        }
    }

    private func messages(_ input: [UInt8]) {
        guard let json = try? JSONParser.parse(input, options: JSONParser.Options(maxDepth: 16)) else { return }
        if let message = try? NodeMessage(json: json) {
            let printed = JSONSerializer.bytes(message.json)
            guard let reparsed = try? JSONParser.parse(printed) else { preconditionFailure("node message printed bad JSON") }
            precondition((try? NodeMessage(json: reparsed)) == message, "node message did not round-trip")
        }
        if let message = try? ServerMessage(json: json) {
            let printed = JSONSerializer.bytes(message.json)
            guard let reparsed = try? JSONParser.parse(printed) else { preconditionFailure("server message printed bad JSON") }
            precondition((try? ServerMessage(json: reparsed)) == message, "server message did not round-trip")
            if case .delta(let delta) = message, var map = Self.baseMap(version: delta.baseVersion) {
                try? map.apply(delta)
                precondition(map.version == delta.version, "delta did not move the map to its version")
                precondition(zip(map.peers, map.peers.dropFirst()).allSatisfy { $0.id <= $1.id }, "peers not sorted")
            }
        }
    }

    /// A minimal map at `version` for delta application.
    private static func baseMap(version: UInt64) -> NetworkMap? {
        guard case .map(let map)? = try? ServerMessage(json: JSONParser.parse(
            #"{"type":"map","version":0,"ipv4Range":"100.64.0.0/10","ipv6Range":"fd00::/48","node":{"id":1,"name":"n","nodeKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","addresses":[],"allowedIPs":[],"endpoints":[],"keyExpiry":null,"online":true,"user":"u","tags":[]},"peers":[]}"#))
        else { return nil }
        var copy = map
        copy.version = version
        return copy
    }
}

nonisolated(unsafe) var target: Target?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControl(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if target == nil { target = Target() }
    target!.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
