import CTern
import IP
import Linux
import TernCrypto
import UAPI
import WireGuard

/// A userspace WireGuard interface, like `wireguard-go IFACE`: a TUN device,
/// one UDP socket and the `wg` configuration socket, driven by the protocol
/// core in one thread and one epoll loop.
///
/// Buffers are allocated here once. A packet read from the TUN device lands
/// at offset 16 of a send-batch slot, is sealed there in place and leaves with
/// the next `sendmmsg`; a datagram lands in a receive-batch slot, is opened
/// there in place and written to the TUN device from it. Both go through
/// the `Datapath`, the one transmit and deliver seam, which also takes
/// datagrams from other transports (a relay) and hands STUN and disco
/// datagrams on the UDP port to their handler.
///
/// UDP offloads where the kernel has them: sends coalesce the sealed packets
/// of one peer into GSO messages (`UDPSocket.segmentationOffload`), and UDP
/// GRO hands over up to 64 KiB of one peer's datagrams per receive slot,
/// each opened in place at its offset.
public final class WireGuardInterface {
    /// The interface name the kernel gave the TUN device.
    public let name: String

    /// The protocol core (peers, keys, counters).
    public var device: Device<SystemRandom> { datapath.device }
    /// The transmit and deliver paths around the core.
    public let datapath: Datapath<SystemRandom>
    private var settings = DeviceSettings()
    /// The listen port and fwmark the UDP socket has.
    private var socketSettings = DeviceSettings()
    /// The protocol clock.
    public let clock: NodeClock
    /// The one event loop; an embedding daemon registers its sources here.
    public let loop: EventLoop
    private let tun: TunDevice
    private let socket: UDPSocket
    private let signals: SignalSource
    private let uapi: UAPIServer
    private let inbound: DatagramBatch
    private let udpOutput: UDPBatchOutput
    private var scratch = [UInt8](repeating: 0, count: 4096)
    private var running = true

    private enum Token {
        static let tun: UInt64 = 1
        static let socket: UInt64 = 2
        static let signals: UInt64 = 3
        static let uapi: UInt64 = 4
        static let firstClient: UInt64 = 100
    }

    /// Packets handled per readiness event before the loop looks at the
    /// other sources again, so neither direction starves the other.
    private static let burst = 256
    /// The largest IP packet a TUN device can hand us.
    private static let maxPacket = 65535
    /// Slots per receive or send batch (one recvmmsg / sendmmsg).
    private static let batchSlots = 64

    /// Where `wg` and `wireguard-go` keep the configuration sockets.
    public static let defaultSocketDirectory = "/var/run/wireguard"

    /// Creates the interface `name` (MTU 1420, down until configured, as
    /// `wg-quick` expects), a UDP socket on a random port, and the
    /// configuration socket `<socketDirectory>/<name>.sock` (the directory
    /// must exist). `timeScale` > 1 speeds up the protocol clock, for tests only.
    public init(name requested: String, socketDirectory: String = WireGuardInterface.defaultSocketDirectory,
                timeScale: UInt64 = 1) throws(SystemError) {
        clock = NodeClock(scale: timeScale)
        signals = try SignalSource()
        loop = try EventLoop()
        tun = try TunDevice(name: requested)
        name = tun.name
        try tun.setMTU(1420)
        socket = try UDPSocket(port: 0)
        // Large buffers ride out bursts while the one thread is busy elsewhere (root may exceed rmem_max).
        try? socket.setBufferSizes(receive: 4 << 20, send: 4 << 20, force: true)
        // UDP GRO (Linux 5.0); without it every datagram arrives on its own, which also works.
        try? socket.setReceiveOffload(true)
        settings.listenPort = socket.port
        socketSettings.listenPort = socket.port
        uapi = try UAPIServer(path: socketDirectory + "/" + tun.name + ".sock", firstToken: Token.firstClient)

        let device = Device(random: SystemRandom(), mtu: 1420)
        device.wallClockOffset = clock.wallClock(at: 0)
        // A receive slot holds a whole GRO message (up to 64 KiB of coalesced datagrams).
        inbound = DatagramBatch(slots: Self.batchSlots, bufferSize: Self.maxPacket + 32)
        let outbound = DatagramBatch(slots: Self.batchSlots, bufferSize: Transport.headerSize + Self.maxPacket + 32)
        udpOutput = UDPBatchOutput(socket: socket, batch: outbound, log: WireGuardInterface.log)
        datapath = Datapath(device: device, udp: udpOutput, tunnel: TunnelWriter(tun: tun))

        try loop.register(tun.fileDescriptor, token: Token.tun, interest: .readable)
        try loop.register(socket.fileDescriptor, token: Token.socket, interest: .readable)
        try loop.register(signals.fileDescriptor, token: Token.signals, interest: .readable)
        try loop.register(uapi.listener.fileDescriptor, token: Token.uapi, interest: .readable)
    }

    /// Runs until SIGTERM or SIGINT, then removes the interface and the
    /// configuration socket.
    public func run() throws(SystemError) {
        defer { shutdown() }
        while try runOnce(until: nil, other: { _ in }) {}
    }

    /// One turn of the loop, for a daemon that adds its own sources to
    /// `loop` (with tokens from `firstExtensionToken` up): waits for events
    /// or the next deadline (the device's, or `deadline`), handles the
    /// interface's events, passes the others to `other`, and runs the
    /// protocol timers. Returns false once a signal asked to stop; the
    /// caller then calls `shutdown()`.
    public func runOnce(until deadline: UInt64?, other: (ReadyEvent) -> Void) throws(SystemError) -> Bool {
        guard running else { return false }
        var wake = device.nextDeadline.map { clock.realDeadline(for: $0) }
        if let deadline { wake = min(wake ?? deadline, deadline) }
        _ = try loop.wait(until: wake)
        for event in loop.readyEvents {
            switch event.token {
            case Token.tun: readTunnel()
            case Token.socket: readSocket()
            case Token.signals: handleSignals()
            case Token.uapi: uapi.acceptAll(into: loop)
            case WireGuardInterface.firstExtensionToken...: other(event)
            default: serveClient(event.token)
            }
        }
        let now = clock.now()
        // Initiation timestamps follow the wall clock, including its jumps.
        device.wallClockOffset = clock.wallClock(at: 0)
        if let due = device.nextDeadline, due <= now { device.tick(now: now) }
        datapath.drain(now: now)
        udpOutput.flush()
        return running
    }

    /// Tokens from here up belong to the embedding daemon.
    public static let firstExtensionToken: UInt64 = 1 << 32

    /// Sends `packet` (a whole IP packet) into the tunnel as if it had been
    /// read from the TUN device: how the daemon's own probes leave.
    public func inject(_ packet: [UInt8]) {
        packet.withUnsafeBytes { datapath.inject($0, now: clock.now()) }
        udpOutput.flush()
    }

    /// Binds the UDP socket to `port` (0: any free port).
    public func setListenPort(_ port: UInt16) throws(UAPIError) {
        var wanted = settings
        wanted.listenPort = port
        let applied = try configureSocket(wanted)
        settings.listenPort = applied.listenPort
    }

    /// The UDP port in use.
    public var listenPort: UInt16 { socket.port }

    // MARK: Data path

    /// TUN → seal in place in a send slot → datapath.
    private func readTunnel() {
        let now = clock.now()
        for _ in 0..<Self.burst {
            let slot = udpOutput.nextSlot
            // Leave room after the packet for padding and the tag.
            let room = UnsafeMutableRawBufferPointer(rebasing: slot[0..<slot.count - 32])
            let length: Int?
            do { length = try tun.read(into: room, offset: Transport.headerSize) } catch {
                // The interface was deleted (`wg-quick down`, `ip link del`): stop, as wireguard-go does.
                Self.log("interface " + name + " is gone (" + error.description + "); stopping")
                running = false
                return
            }
            guard let length else { return }
            datapath.sendFromTunnel(length: length, now: now)
        }
    }

    /// recvmmsg → datapath (demultiplexed, opened in place, to the TUN).
    private func readSocket() {
        var handled = 0
        while handled < Self.burst {
            let count: Int
            do { count = try socket.receive(into: inbound) } catch { return }
            guard count > 0 else { return }
            handled += count
            let now = clock.now()
            for i in 0..<count where !inbound.isTruncated(at: i) {
                let source = inbound.endpoint(at: i)
                let segments = inbound.segmentCount(at: i)
                handled += segments - 1
                // One datagram, or each of those UDP GRO coalesced.
                for s in 0..<segments { datapath.receiveUDP(inbound.segment(s, at: i), from: source, now: now) }
            }
            datapath.drain(now: now)
        }
    }

    // MARK: Configuration (wg)

    private func serveClient(_ token: UInt64) {
        scratch.withUnsafeMutableBytes { scratch in
            uapi.serve(token, loop: loop, scratch: scratch) { request in
                let now = clock.now()
                return request.respond(device: device, settings: &settings, now: now,
                                       wallNow: clock.wallClock(at: now),
                                       configureSocket: configureSocket)
            }
        }
    }

    /// Applies a new listen port or fwmark to the UDP socket. It runs while
    /// `settings` is being modified, so it compares against `socketSettings`.
    private func configureSocket(_ wanted: DeviceSettings) throws(UAPIError) -> DeviceSettings {
        var result = wanted
        if wanted.listenPort != socketSettings.listenPort || wanted.listenPort == 0 {
            let oldDescriptor = socket.fileDescriptor
            do { try socket.rebind(port: wanted.listenPort) } catch {
                throw error.isAddressInUse ? .addressInUse : .io
            }
            try? loop.unregister(oldDescriptor)
            try? loop.register(socket.fileDescriptor, token: Token.socket, interest: .readable)
            result.listenPort = socket.port
        }
        if wanted.fwmark != socketSettings.fwmark {
            do { try socket.setFirewallMark(wanted.fwmark) } catch { throw .addressInUse }
        }
        socketSettings = result
        return result
    }

    private func handleSignals() {
        while let signal = try? signals.next() {
            if signal == SIGTERM || signal == SIGINT {
                Self.log("signal " + String(signal) + ": stopping")
                running = false
            }
        }
    }

    private static func log(_ line: String) {
        var text = "ternd: " + line + "\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// Closes the sockets and the TUN device (which removes the interface).
    public func shutdown() {
        uapi.shutdown(loop: loop)
        socket.close()
        tun.close()
    }
}
