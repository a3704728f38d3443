import CTern
import IP
import Linux
import Testing

// UDP GSO on send and UDP GRO on receive, over loopback. A GSO message sent
// on loopback reaches a GRO socket whole (one slot, with its segment size),
// and a plain socket as the separate datagrams it stands for.
@Suite("UDP offloads")
struct UDPOffloadTests {
    static let loopback4 = IPAddress.v4(IPv4Address(127, 0, 0, 1))
    static let loopback6 = IPAddress.v6(IPv6Address(0, 0, 0, 0, 0, 0, 0, 1))

    /// A datagram that names its index in its first two bytes, then a pattern.
    static func datagram(_ index: Int, length: Int) -> [UInt8] {
        var bytes = pattern(count: length, seed: index)
        bytes[0] = UInt8(index >> 8)
        bytes[1] = UInt8(index & 0xff)
        return bytes
    }

    /// A batch holding `datagrams[i]` to `endpoints[i]`.
    static func batch(_ datagrams: [[UInt8]], to endpoints: [Endpoint]) -> DatagramBatch {
        let batch = DatagramBatch(slots: max(datagrams.count, 1), bufferSize: 2048)
        for (i, bytes) in datagrams.enumerated() {
            batch.buffer(at: i).copyBytes(from: bytes)
            batch.append(length: bytes.count, to: endpoints[i])
        }
        return batch
    }

    /// What `socket` receives until `expected` datagrams came or 2 s passed:
    /// each datagram's bytes with its sender, and each slot's (segment size, segment count).
    static func receiveAll(
        _ socket: UDPSocket, expected: Int
    ) throws -> (datagrams: [([UInt8], Endpoint)], slots: [(Int, Int)]) {
        let loop = try EventLoop()
        try loop.register(socket.fileDescriptor, token: 1, interest: .readable)
        let inbound = DatagramBatch(slots: 8, bufferSize: 65_536 + 64)
        var datagrams: [([UInt8], Endpoint)] = []
        var slots: [(Int, Int)] = []
        while datagrams.count < expected {
            guard try waitFor(1, in: loop) else { break }
            let count = try socket.receive(into: inbound)
            for i in 0..<count {
                #expect(!inbound.isTruncated(at: i))
                slots.append((inbound.segmentSize(at: i), inbound.segmentCount(at: i)))
                var total = 0
                for s in 0..<inbound.segmentCount(at: i) {
                    let segment = inbound.segment(s, at: i)
                    total += segment.count
                    datagrams.append((Array(segment), inbound.endpoint(at: i)))
                }
                #expect(total == inbound.length(at: i))
            }
        }
        return (datagrams, slots)
    }

    // N equal datagrams and a shorter last one, coalesced into one GSO send, reach a
    // plain socket as N + 1 datagrams with their own bytes and lengths, in order.
    @Test func segmentedSendToPlainReceiver() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        #expect(a.segmentationOffload)
        let sent = (0..<10).map { Self.datagram($0, length: 1200) } + [Self.datagram(10, length: 333)]
        let to = Endpoint(Self.loopback4, port: b.port)
        let out = Self.batch(sent, to: Array(repeating: to, count: sent.count))
        #expect(a.flush(out) == FlushResult(next: 11, failed: 0, lastError: nil))
        let got = try Self.receiveAll(b, expected: 11)
        #expect(got.datagrams.map { $0.0 } == sent)
        #expect(got.datagrams.allSatisfy { $0.1 == Endpoint(Self.loopback4, port: a.port) })
        #expect(got.slots.allSatisfy { $0.0 == 0 && $0.1 == 1 })
    }

    // A GRO socket gets the same send back as one slot of segments with the right boundaries.
    @Test(arguments: [loopback4, loopback6])
    func segmentedSendToGROReceiver(address: IPAddress) throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        try b.setReceiveOffload(true)
        #expect(b.receiveOffload)
        let sent = (0..<10).map { Self.datagram($0, length: 1200) } + [Self.datagram(10, length: 333)]
        let to = Endpoint(address, port: b.port)
        let out = Self.batch(sent, to: Array(repeating: to, count: sent.count))
        #expect(a.flush(out).next == 11)
        let got = try Self.receiveAll(b, expected: 11)
        #expect(got.datagrams.map { $0.0 } == sent)
        #expect(got.datagrams.allSatisfy { $0.1 == Endpoint(address, port: a.port) })
        #expect(got.slots.count == 1)
        #expect(got.slots.first?.0 == 1200)
        #expect(got.slots.first?.1 == 11)
    }

    // Runs respect the kernel's limits: at most 64 segments and 65,507 bytes per message.
    @Test(arguments: [(100, 1000), (50, 1452), (3, 30_000)])
    func segmentLimits(count: Int, length: Int) throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        try b.setReceiveOffload(true)
        let sent = (0..<count).map { Self.datagram($0, length: length) }
        let to = Endpoint(Self.loopback4, port: b.port)
        let out = DatagramBatch(slots: count, bufferSize: length)
        for (i, bytes) in sent.enumerated() {
            out.buffer(at: i).copyBytes(from: bytes)
            out.append(length: bytes.count, to: to)
        }
        #expect(a.flush(out) == FlushResult(next: count, failed: 0, lastError: nil))
        #expect(a.segmentationOffload)
        let got = try Self.receiveAll(b, expected: count)
        #expect(got.datagrams.map { $0.0 } == sent)
        let perMessage = min(64, 65_507 / length)
        #expect(got.slots.allSatisfy { $0.1 <= perMessage })
        #expect(got.slots.count == (count + perMessage - 1) / perMessage)
    }

    // Runs break at every change of endpoint (another socket, or the same socket over
    // IPv6) and after a shorter datagram; each receiver gets only its own datagrams.
    @Test func mixedEndpointsAreNotCoalesced() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        let c = try UDPSocket()
        try b.setReceiveOffload(true)
        try c.setReceiveOffload(true)
        let toB = Endpoint(Self.loopback4, port: b.port)
        let toB6 = Endpoint(Self.loopback6, port: b.port)
        let toC = Endpoint(Self.loopback4, port: c.port)
        let plan: [(Endpoint, Int)] = [
            (toB, 1000), (toB, 1000), (toC, 1000), (toC, 1000), (toC, 1000),
            (toB, 1000), (toB6, 1000), (toB6, 1000), (toB, 1000), (toB, 500), (toB, 1000), (toB, 1000),
        ]
        let sent = plan.enumerated().map { Self.datagram($0.offset, length: $0.element.1) }
        let out = Self.batch(sent, to: plan.map { $0.0 })
        #expect(a.flush(out).next == plan.count)

        let forB = plan.indices.filter { plan[$0].0.port == b.port }
        let forC = plan.indices.filter { plan[$0].0 == toC }
        let gotB = try Self.receiveAll(b, expected: forB.count)
        let gotC = try Self.receiveAll(c, expected: forC.count)
        #expect(gotC.datagrams.map { $0.0 } == forC.map { sent[$0] })
        #expect(gotC.slots.map { $0.1 } == [3])
        // b's IPv4 and IPv6 messages may be read in either order; compare as sets, then by sender.
        #expect(Set(gotB.datagrams.map { $0.0 }) == Set(forB.map { sent[$0] }))
        #expect(gotB.datagrams.count == forB.count)
        for (bytes, sender) in gotB.datagrams {
            let index = Int(bytes[0]) << 8 | Int(bytes[1])
            #expect(sender.address.isIPv4 == (plan[index].0 == toB))
        }
        // b: [0 1] [5] [6 7] [8 9] [10 11]; a run ends after the shorter datagram 9.
        #expect(gotB.slots.map { $0.1 }.sorted() == [1, 2, 2, 2, 2])
    }

    // When the kernel refuses GSO (here: SO_NO_CHECK, which UDP_SEGMENT forbids, so the
    // refusal is real), the datagrams still go out one per message, GSO is off for good,
    // and the flush says so once.
    @Test func fallbackWhenRefused() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        var one: Int32 = 1
        #expect(setsockopt(a.fileDescriptor, SOL_SOCKET, SO_NO_CHECK, &one, 4) == 0)
        let sent = (0..<8).map { Self.datagram($0, length: 800) }
        let to = Endpoint(Self.loopback4, port: b.port)
        let out = Self.batch(sent, to: Array(repeating: to, count: sent.count))
        #expect(a.segmentationOffload)
        let result = a.flush(out)
        #expect(result.next == 8)
        #expect(result.failed == 0)
        #expect(result.notice?.contains("GSO") == true)
        #expect(!a.segmentationOffload)
        let got = try Self.receiveAll(b, expected: 8)
        #expect(got.datagrams.map { $0.0 } == sent)

        // Later flushes send plainly, without a second notice.
        let again = a.flush(out)
        #expect(again == FlushResult(next: 8, failed: 0, lastError: nil))
        #expect(try Self.receiveAll(b, expected: 8).datagrams.count == 8)
    }

    // Turned off by hand, sends are one datagram per message; GRO survives rebind.
    @Test func switches() throws {
        let a = try UDPSocket()
        let b = try UDPSocket()
        #expect(!a.setSegmentationOffload(false))
        try b.setReceiveOffload(true)
        try b.rebind(port: 0)
        #expect(socketIntOption(b.fileDescriptor, Int32(IPPROTO_UDP), UDP_GRO) == 1)
        let sent = (0..<5).map { Self.datagram($0, length: 700) }
        let out = Self.batch(sent, to: Array(repeating: Endpoint(Self.loopback4, port: b.port), count: 5))
        #expect(a.flush(out).next == 5)
        let got = try Self.receiveAll(b, expected: 5)
        #expect(got.datagrams.map { $0.0 } == sent)
        #expect(got.slots.allSatisfy { $0.0 == 0 && $0.1 == 1 })
        #expect(a.setSegmentationOffload(true))
    }
}
