import IP
import TernCrypto
import WireGuard

/// libFuzzer entry point for WireGuard's message parser and receive path.
///
/// The first byte picks a mode:
/// - 0 mod 4: the rest is a raw UDP datagram fed to `Device.receive` (message
///   classification, MAC checks, index lookups, cookie replies);
/// - 2 mod 4: the same through `Datapath.receiveUDP`, so the STUN/disco
///   demultiplexer and the deliver path see it first;
/// - odd: the rest is sealed as the plaintext of a transport message under a
///   real session, so the fuzzer reaches what only authenticated packets
///   reach: padding, inner IP parsing and the allowed-IPs source check.
///
/// Every call must end in an `Action`; a trap is a finding.
final class Target: UDPOutput, TunnelOutput {
    let device: Device<SystemRandom>
    var datapath: Datapath<SystemRandom>!
    var slot = [UInt8](repeating: 0, count: 16 + 65535 + 32)
    var keypair: Keypair
    let source = Endpoint(.v4(IPv4Address(192, 0, 2, 1)), port: 51820)
    var buffer = [UInt8](repeating: 0, count: 16 + 65535 + 32)

    init() {
        _ = try? Sodium.initialize()
        var random = SystemRandom()
        let device = Device(random: SystemRandom())
        let receiverKey = random.privateKey()
        device.setPrivateKey(receiverKey)
        let sender = StaticIdentity(privateKey: random.privateKey())
        let id = device.addPeer(sender.publicKey)!
        device.addAllowedIP(id, try! IPPrefix("10.0.0.0/8"))
        device.addAllowedIP(id, try! IPPrefix("fd00::/8"))
        let peer = PeerKeys(identity: sender, remoteStatic: receiverKey.publicKey)

        // A real handshake, the harness as initiator.
        var handshake = Handshake()
        var cookie = PeerCookie()
        var scratch = [UInt8](repeating: 0, count: Initiation.size)
        let source = self.source
        let keys = scratch.withUnsafeMutableBytes { message -> SessionKeys in
            try! handshake.createInitiation(into: message, identity: sender, peer: peer, ephemeral: random.privateKey(),
                                            localIndex: 7, timestamp: TAI64N(unixSeconds: 1_700_000_000, nanoseconds: 0))
            cookie.addMACs(to: message, peer: peer, now: 1)
            guard case .writeToNetwork(_, _, let length) = device.receive(message, length: Initiation.size, from: source, now: 1)
            else { fatalError("fuzz set-up: the device refused the initiation") }
            return try! handshake.consumeResponse(UnsafeRawBufferPointer(rebasing: message[0..<length]),
                                                  identity: sender, peer: peer)
        }
        self.device = device
        keypair = Keypair(keys, now: 1)
        datapath = Datapath(device: device, udp: self, tunnel: self)
        datapath.otherDatagrams = { kind, datagram, _, _ in
            precondition(kind == .stun || kind == .disco, "the demultiplexer handed over WireGuard")
            precondition(datagram.count >= DatagramKind.stunHeaderSize, "a short datagram was classified")
        }
    }

    // The datapath's outputs: sent datagrams and tunnel packets go nowhere.
    var nextSlot: UnsafeMutableRawBufferPointer { slot.withUnsafeMutableBytes { $0 } }
    func commit(length: Int, to endpoint: Endpoint) { precondition(length <= slot.count) }
    func write(_ packet: UnsafeRawBufferPointer) { precondition(packet.count <= 65535) }

    func run(_ data: UnsafeRawBufferPointer) {
        guard let mode = data.first else { return }
        let input = UnsafeRawBufferPointer(rebasing: data[1...])
        let now: UInt64 = 2
        buffer.withUnsafeMutableBytes { out in
            if mode & 1 == 0 {
                guard input.count <= out.count else { return }
                UnsafeMutableRawBufferPointer(rebasing: out[0..<input.count]).copyMemory(from: input)
                if mode & 2 == 0 {
                    _ = device.receive(out, length: input.count, from: source, now: now)
                } else {
                    datapath.receiveUDP(UnsafeMutableRawBufferPointer(rebasing: out[0..<input.count]), from: source, now: now)
                    datapath.drain(now: now)
                }
            } else {
                guard input.count <= 65535 else { return }
                UnsafeMutableRawBufferPointer(rebasing: out[16..<16 + input.count]).copyMemory(from: input)
                guard let sealed = keypair.seal(out, length: input.count, mtu: 0, now: now) else { return }
                let action = device.receive(out, length: sealed, from: source, now: now)
                if case .writeToTunnel(_, let offset, let length) = action {
                    // The IP length may reach into the zero padding, never past it.
                    precondition(offset == 16 && length <= Transport.paddedLength(input.count, mtu: 0),
                                 "tunnel write outside the plaintext")
                }
            }
            while device.poll(into: out, now: now) != .done {}
        }
    }
}

nonisolated(unsafe) var target: Target?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireGuard(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if target == nil { target = Target() }
    target!.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
