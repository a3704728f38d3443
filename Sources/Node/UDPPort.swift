import IP
import Linux
import WireGuard

/// The UDP socket's send batch as the datapath's `UDPOutput`: datagrams are
/// sealed in the batch's slots and leave with one `sendmmsg` (runs to one
/// peer coalesced by GSO) when the batch fills or the loop turn ends.
final class UDPBatchOutput: UDPOutput {
    private let socket: UDPSocket
    private let batch: DatagramBatch
    private let log: (String) -> Void

    init(socket: UDPSocket, batch: DatagramBatch, log: @escaping (String) -> Void) {
        self.socket = socket
        self.batch = batch
        self.log = log
    }

    var nextSlot: UnsafeMutableRawBufferPointer { batch.buffer(at: batch.count) }

    func commit(length: Int, to endpoint: Endpoint) {
        batch.append(length: length, to: endpoint)
        if batch.isFull { flush() }
    }

    /// Sends everything batched. Datagrams the kernel cannot take (socket
    /// buffer full) are dropped, as a congested link would.
    func flush() {
        guard batch.count > 0 else { return }
        let result = socket.flush(batch)
        batch.removeAll()
        if let notice = result.notice { log(notice) }
    }
}

/// The TUN device as the datapath's `TunnelOutput`. A packet the kernel
/// refuses is dropped, as a full queue would drop it.
final class TunnelWriter: TunnelOutput {
    private let tun: TunDevice

    init(tun: TunDevice) { self.tun = tun }

    func write(_ packet: UnsafeRawBufferPointer) { _ = try? tun.write(packet) }
}
