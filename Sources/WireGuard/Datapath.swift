import IP
import TernCrypto

/// The UDP side of the transmit path: a batch of send slots, filled in place.
/// The Linux shell implements it over `sendmmsg`; tests over an array.
public protocol UDPOutput: AnyObject {
    /// The buffer the next datagram is built in (a packet read from the TUN
    /// device lands at offset 16 and is sealed there). The same buffer until
    /// `commit` is called.
    var nextSlot: UnsafeMutableRawBufferPointer { get }
    /// Queues `nextSlot[0..<length]` for `endpoint` (sending the batch when
    /// it is full); `nextSlot` then moves on.
    func commit(length: Int, to endpoint: Endpoint)
}

/// A transport that carries WireGuard datagrams by the recipient's public
/// key, such as a relay. Datagrams it receives enter through
/// `Datapath.deliver(_:length:from:now:)`.
public protocol DatagramTransport: AnyObject {
    /// Sends `datagram` to the peer with `key`; the bytes are copied.
    func send(_ datagram: UnsafeRawBufferPointer, to key: PublicKey)
}

/// Where decrypted packets go: the TUN device.
public protocol TunnelOutput: AnyObject {
    /// Writes one IP packet.
    func write(_ packet: UnsafeRawBufferPointer)
}

/// The one seam between the WireGuard core and the transports.
///
/// Every datagram the device sends leaves through `transmit`, which takes
/// the path: UDP (sealed in place in a send slot, no copy) or a relay
/// attached for a region. Every datagram any transport receives enters
/// through `deliver`: open, reply, inbound filter, TUN write. A UDP datagram
/// first passes the demultiplexer (`DatagramKind`), which hands STUN and
/// disco to `otherDatagrams` before WireGuard can count them malformed.
///
/// Sans-I/O like the core: the outputs are protocols, time is a parameter.
public final class Datapath<Random: RandomSource> {
    /// The protocol core.
    public let device: Device<Random>
    private let udp: any UDPOutput
    private let tunnel: any TunnelOutput
    private var relays: [(region: UInt16, transport: any DatagramTransport)] = []

    /// Sees every packet the tunnel delivers before the TUN device does;
    /// returning true consumes it (the daemon's own probe replies). The
    /// second argument is the protocol time the shell read for the batch.
    public var inboundFilter: ((UnsafeRawBufferPointer, UInt64) -> Bool)?
    /// Sees every packet read from the TUN device before it is sealed.
    public var outboundObserver: ((UnsafeRawBufferPointer, UInt64) -> Void)?
    /// Takes the STUN and disco datagrams that arrive over UDP, with their
    /// source. Without it they reach the device and count as malformed.
    public var otherDatagrams: ((DatagramKind, UnsafeRawBufferPointer, Endpoint, UInt64) -> Void)?

    /// Datagrams handed to `otherDatagrams`.
    public private(set) var otherDatagramsReceived: UInt64 = 0
    /// Datagrams for a path with no transport attached (a relay region
    /// that is not connected), dropped.
    public private(set) var unroutable: UInt64 = 0

    /// A datapath for `device` over `udp`, writing to `tunnel`.
    public init(device: Device<Random>, udp: any UDPOutput, tunnel: any TunnelOutput) {
        self.device = device
        self.udp = udp
        self.tunnel = tunnel
    }

    /// Carries datagrams for `.relay(region)` over `transport` (replacing
    /// any transport the region had).
    public func attach(_ transport: any DatagramTransport, region: UInt16) {
        detach(region: region)
        relays.append((region, transport))
    }

    /// Stops using the transport of `region`.
    public func detach(region: UInt16) {
        relays.removeAll { $0.region == region }
    }

    // MARK: Transmit

    /// Seals and sends the IP packet at `udp.nextSlot[16..<16 + length]`,
    /// read from the TUN device, or stages it for a handshake.
    public func sendFromTunnel(length: Int, now: UInt64) {
        let slot = udp.nextSlot
        if let outboundObserver {
            outboundObserver(UnsafeRawBufferPointer(rebasing: slot[Transport.headerSize..<Transport.headerSize + length]), now)
        }
        if case .writeToNetwork(let path, let peer, let sealed) = device.send(slot, length: length, now: now) {
            transmitSlot(length: sealed, along: path, for: peer)
        }
        drain(now: now)
    }

    /// Sends `packet` (a whole IP packet) into the tunnel as if it had been
    /// read from the TUN device: how the daemon's own probes leave.
    public func inject(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        let slot = udp.nextSlot
        guard Transport.headerSize + packet.count + 32 <= slot.count else { return }
        UnsafeMutableRawBufferPointer(rebasing: slot[Transport.headerSize..<Transport.headerSize + packet.count])
            .copyMemory(from: packet)
        sendFromTunnel(length: packet.count, now: now)
    }

    /// Sends what the core has queued (handshakes, keepalives, staged
    /// packets). Call after every batch of input and timer tick.
    public func drain(now: UInt64) {
        while true {
            let action = device.poll(into: udp.nextSlot, now: now)
            guard action != .done else { return }
            if case .writeToNetwork(let path, let peer, let length) = action {
                transmitSlot(length: length, along: path, for: peer)
            }
        }
    }

    /// The datagram at `udp.nextSlot[0..<length]` goes along `path`.
    private func transmitSlot(length: Int, along path: Path, for peer: PeerID?) {
        switch path {
        case .udp(let endpoint):
            udp.commit(length: length, to: endpoint)
        case .relay:
            transmit(UnsafeRawBufferPointer(rebasing: udp.nextSlot[0..<length]), along: path, for: peer)
        }
    }

    /// `datagram`, in a buffer of its own, goes along `path` (copied).
    private func transmit(_ datagram: UnsafeRawBufferPointer, along path: Path, for peer: PeerID?) {
        switch path {
        case .udp(let endpoint):
            let slot = udp.nextSlot
            guard datagram.count <= slot.count else { return }
            UnsafeMutableRawBufferPointer(rebasing: slot[0..<datagram.count]).copyMemory(from: datagram)
            udp.commit(length: datagram.count, to: endpoint)
        case .relay(let region):
            guard let key = peer.flatMap({ device.peer($0)?.publicKey }),
                  let relay = relays.first(where: { $0.region == region }) else {
                unroutable &+= 1
                return
            }
            relay.transport.send(datagram, to: key)
        }
    }

    // MARK: Deliver

    /// Handles one datagram that arrived on the UDP socket from `source`:
    /// STUN and disco go to `otherDatagrams`, the rest to the device.
    public func receiveUDP(_ datagram: UnsafeMutableRawBufferPointer, from source: Endpoint, now: UInt64) {
        if let otherDatagrams {
            let kind = DatagramKind.classify(UnsafeRawBufferPointer(datagram))
            if kind == .stun || kind == .disco {
                otherDatagramsReceived &+= 1
                otherDatagrams(kind, UnsafeRawBufferPointer(datagram), source, now)
                return
            }
        }
        deliver(datagram, from: .udp(source), now: now)
    }

    /// Handles one WireGuard datagram that arrived along `source`, from any
    /// transport: decrypted packets go to the TUN device (after
    /// `inboundFilter`), handshake answers back along the path. The buffer
    /// is used in place. Call `drain` after a batch.
    public func deliver(_ datagram: UnsafeMutableRawBufferPointer, from source: Path, now: UInt64) {
        switch device.receive(datagram, length: datagram.count, from: source, now: now) {
        case .writeToTunnel(_, let offset, let length):
            let packet = UnsafeRawBufferPointer(rebasing: datagram[offset..<offset + length])
            if let inboundFilter, inboundFilter(packet, now) { return }
            tunnel.write(packet)
        case .writeToNetwork(let path, let peer, let length):
            transmit(UnsafeRawBufferPointer(rebasing: datagram[0..<length]), along: path, for: peer)
        case .done, .drop:
            break
        }
    }
}
