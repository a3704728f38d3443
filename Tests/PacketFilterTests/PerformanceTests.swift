import ControlProtocol
import Foundation
import IP
import Testing
import TestSupport
@testable import PacketFilter

/// A node with 500 peers and 1,000 rules of the usual shapes (single peers
/// as /32 and /128 sources, some CIDRs, single ports and ranges to the
/// node's own addresses or a routed LAN), and a stream of packets from those
/// peers and strangers: mostly TCP SYNs (half to ports some rule names),
/// UDP, echo requests, established TCP.
struct BenchWorld {
    static let local = [prefix("100.64.0.1/32"), prefix("fd7a:115c:a1e0::1/128"), prefix("192.168.10.0/24")]
    var rules: [FilterRule] = []
    /// The packets, back to back.
    var bytes: [UInt8] = []
    var offsets: [Int] = []
    var outbound: [UInt8] = []
    var outboundOffsets: [Int] = []

    init(rules ruleCount: Int, packets: Int, seed: UInt64 = 1) {
        var generator = SplitMix64(seed: seed)
        func peer(_ index: Int) -> (IPAddress, IPAddress) {
            (.v4(IPv4Address(100, 64, UInt8(1 + index / 250), UInt8(1 + index % 250))),
             .v6(IPv6Address(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 1, UInt16(index))))
        }
        var rulePorts: [UInt16] = []
        for index in 0..<ruleCount {
            var sources: [IPPrefix] = []
            for _ in 0..<Int.random(in: 1...5, using: &generator) {
                let (v4, v6) = peer(Int.random(in: 0..<500, using: &generator))
                sources.append(try! IPPrefix(v4, length: 32))
                if generator.chance(50) { sources.append(try! IPPrefix(v6, length: 128)) }
            }
            if generator.chance(10) {
                sources.append(generator.chance(50) ? prefix("100.64.3.0/24") : prefix("10.0.0.0/8"))
            }
            let port = UInt16.random(in: 1...10000, using: &generator)
            rulePorts.append(port)
            let ports = generator.chance(70) ? PortRange(first: port, last: port)! : PortRange(first: port, last: port + 100)!
            var destinations = [FilterDestination(prefix: prefix("100.64.0.1/32"), ports: ports),
                                FilterDestination(prefix: prefix("fd7a:115c:a1e0::1/128"), ports: ports)]
            if generator.chance(10) { destinations = [FilterDestination(prefix: prefix("192.168.10.0/24"), ports: ports)] }
            let protocols: [[UInt8]] = [[], [], [6], [17], [6, 17]]
            rules.append(FilterRule(sources: sources, destinations: destinations,
                                    protocols: protocols[Int.random(in: 0..<5, using: &generator)], policyRule: index))
        }
        for _ in 0..<packets {
            let v6 = generator.chance(30)
            let (p4, p6) = peer(Int.random(in: 0..<(generator.chance(90) ? 500 : 600), using: &generator))
            let source = v6 ? p6 : p4
            let destination = v6 ? address("fd7a:115c:a1e0::1")
                : (generator.chance(10) ? address("192.168.10.7") : address("100.64.0.1"))
            let port = generator.chance(50) && !rulePorts.isEmpty ? rulePorts[Int.random(in: 0..<rulePorts.count, using: &generator)]
                : UInt16.random(in: 1...65535, using: &generator)
            var spec = PacketSpec(source: source, destination: destination, protocolNumber: 6,
                                  sourcePort: UInt16.random(in: 1024...65535, using: &generator), destinationPort: port,
                                  tcpFlags: PacketSpec.syn)
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<6: break
            case 6..<8: spec.protocolNumber = 17
            case 8: spec.protocolNumber = v6 ? 58 : 1; spec.icmpType = v6 ? 128 : 8
            default: spec.tcpFlags = PacketSpec.ack
            }
            offsets.append(bytes.count)
            bytes += spec.bytes
            // The node's own traffic: UDP to the peers.
            outboundOffsets.append(outbound.count)
            outbound += spec.reversed.with(protocol: 17).bytes
        }
        offsets.append(bytes.count)
        outboundOffsets.append(outbound.count)
    }

    /// Runs every packet through `filter` inbound `rounds` times; returns
    /// nanoseconds per packet and how many were accepted in the last round.
    func measureInbound(_ filter: inout PacketFilter, rounds: Int) -> (nanoseconds: Double, accepted: Int) {
        var accepted = 0
        let start = ContinuousClock.now
        bytes.withUnsafeBytes { buffer in
            for round in 0..<rounds {
                for index in 0..<offsets.count - 1 {
                    let packet = UnsafeRawBufferPointer(rebasing: buffer[offsets[index]..<offsets[index + 1]])
                    let verdict = filter.inbound(packet, now: UInt64(round))
                    if round == rounds - 1 && verdict.allowed { accepted += 1 }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return (nanoseconds / Double(rounds * (offsets.count - 1)), accepted)
    }

    func measureOutbound(_ filter: inout PacketFilter, rounds: Int) -> Double {
        let start = ContinuousClock.now
        outbound.withUnsafeBytes { buffer in
            for round in 0..<rounds {
                for index in 0..<outboundOffsets.count - 1 {
                    filter.outbound(UnsafeRawBufferPointer(rebasing: buffer[outboundOffsets[index]..<outboundOffsets[index + 1]]),
                                    now: UInt64(round))
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return nanoseconds / Double(rounds * (outboundOffsets.count - 1))
    }
}

extension PacketSpec {
    func with(protocol number: UInt8) -> PacketSpec {
        var copy = self
        copy.protocolNumber = number
        return copy
    }
}

@Suite struct PerformanceTests {
    /// Measurement only (prints; the numbers of a debug build are not the
    /// Embedded -Osize ones): ns/packet with 1,000 rules.
    @Test func nanosecondsPerPacketWithAThousandRules() {
        let world = BenchWorld(rules: 1000, packets: 4096)
        let buildStart = ContinuousClock.now
        var filter = PacketFilter(policy: .rules(world.rules), localPrefixes: BenchWorld.local)
        let buildTime = ContinuousClock.now - buildStart
        let outboundNanoseconds = world.measureOutbound(&filter, rounds: 2)
        let (nanoseconds, accepted) = world.measureInbound(&filter, rounds: 5)
        print("PacketFilter: 1000 rules (compiled in \(buildTime)): inbound \(Int(nanoseconds)) ns/packet "
              + "(\(accepted)/4096 accepted), outbound \(Int(outboundNanoseconds)) ns/packet")
        // The stream mixes outcomes, so the number is not only the fast path.
        #expect(accepted > 400 && accepted < 3900)
        #expect(filter.counters.packets(.rule) > 0 && filter.counters.packets(.noRule) > 0)

        var open = PacketFilter(policy: .allowAll, localPrefixes: BenchWorld.local)
        let (allowAll, _) = world.measureInbound(&open, rounds: 5)
        print("PacketFilter: allow-all inbound \(Int(allowAll)) ns/packet")
    }

    /// Zero heap allocations per packet, counted for real: run as
    ///
    ///     cc -O2 -shared -fPIC -o /tmp/mc.so Tests/Bench/malloc_count.c -ldl
    ///     MALLOC_COUNT_FILE=/tmp/mc.count LD_PRELOAD=/tmp/mc.so swift test ... \
    ///         --filter PacketFilterTests.PerformanceTests/noHeapAllocationPerPacket
    ///
    /// (the counter writes its total to the file on SIGUSR2). Skipped otherwise.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MALLOC_COUNT_FILE"] != nil, "needs the LD_PRELOAD counter"))
    func noHeapAllocationPerPacket() throws {
        let world = BenchWorld(rules: 1000, packets: 4096)
        var filter = PacketFilter(policy: .rules(world.rules), localPrefixes: BenchWorld.local)
        _ = world.measureOutbound(&filter, rounds: 1)
        _ = world.measureInbound(&filter, rounds: 1)
        // Reading the counter allocates (Foundation): measure that cost first.
        _ = try Self.allocations()  // the first reading sets Foundation up
        let start = try Self.allocations()
        let before = try Self.allocations()
        _ = world.measureOutbound(&filter, rounds: 20)
        _ = world.measureInbound(&filter, rounds: 20)
        let after = try Self.allocations()
        let packets = 2 * 20 * 4096
        let allocations = (after - before) - (before - start)
        print("PacketFilter: \(allocations) heap allocations over \(packets) packets")
        // Noise from the test framework is a few dozen at most; one per packet would be 163,840.
        #expect(allocations < 1000)
    }

    static func allocations() throws -> Int {
        let path = ProcessInfo.processInfo.environment["MALLOC_COUNT_FILE"]!
        try? FileManager.default.removeItem(atPath: path)
        kill(getpid(), SIGUSR2)  // to the process: test threads may block signals
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let count = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return count }
            usleep(10_000)
        }
        throw CocoaError(.fileReadNoSuchFile)
    }
}
