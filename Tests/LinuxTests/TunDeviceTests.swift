import CTern
import Foundation
import IP
import Linux
import Testing

@Suite("TunDevice", .serialized)
struct TunDeviceTests {
    // Creates a "terntest%d" interface, sets MTU 1420 and up, and removes it on close.
    @Test func createConfigureAndRemove() throws {
        let tun = try TunDevice(name: "terntest%d")
        let name = tun.name
        defer { tun.close() }
        #expect(name.hasPrefix("terntest") && name != "terntest%d")
        #expect(tun.index > 0)
        #expect(readText("/sys/class/net/\(name)/ifindex") == String(tun.index))
        #expect(try NetworkInterface.index(of: name) == tun.index)

        // Nothing to read while the link is down.
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(try buffer.withUnsafeMutableBytes { try tun.read(into: $0, offset: 16) } == nil)

        try tun.setMTU(1420)
        #expect(readText("/sys/class/net/\(name)/mtu") == "1420")
        #expect(try tun.mtu() == 1420)
        #expect(try !NetworkInterface.isUp(name))
        try tun.setUp()
        #expect(try NetworkInterface.isUp(name))
        let flags = UInt32(readText("/sys/class/net/\(name)/flags")?.dropFirst(2) ?? "", radix: 16) ?? 0
        #expect(flags & UInt32(IFF_UP) != 0)
        // No packet-information header and a point-to-point layer-3 device (ARPHRD_NONE).
        #expect(readText("/sys/class/net/\(name)/type") == "65534")
        #expect(readText("/sys/class/net/\(name)/tun_flags") == "0x1001")

        // A malformed packet (version 0) is refused with EINVAL.
        let junk: [UInt8] = [0, 1, 2, 3]
        #expect(systemError { try junk.withUnsafeBytes { try tun.write($0) } }?.errno == EINVAL)
        tun.close()
        #expect(interfaceGone(name))
    }

    // The same name twice is EBUSY while the first is open; bad names are refused.
    @Test func namesAndErrors() throws {
        let tun = try TunDevice(name: "terntest%d")
        defer { tun.close() }
        #expect(systemError { try TunDevice(name: tun.name) }?.errno == EBUSY)
        #expect(systemError { try TunDevice(name: "a-name-much-too-long") }?.errno == ENAMETOOLONG)
        #expect(systemError { try NetworkInterface.index(of: "ternnosuch0") }?.errno == ENODEV)
    }

    // ping into the TUN subnet makes the kernel send an ICMP echo into the device: it is read at
    // offset 16 with the right destination; the echo reply we write back reaches ping.
    @Test func readAndWritePackets() throws {
        let tun = try TunDevice(name: "terntest%d")
        let name = tun.name
        defer { tun.close() }
        try tun.setMTU(1420)
        try tun.setUp()
        let added = try run("/usr/sbin/ip", ["addr", "add", "10.123.0.1/24", "dev", name])
        try #require(added.status == 0, "ip addr add: \(added.output)")

        let ping = Process()
        ping.executableURL = URL(fileURLWithPath: "/usr/bin/ping")
        ping.arguments = ["-c1", "-W2", "-n", "10.123.0.2"]
        ping.standardOutput = FileHandle.nullDevice
        ping.standardError = FileHandle.nullDevice
        try ping.run()
        defer { if ping.isRunning { ping.terminate() } }

        let loop = try EventLoop()
        try loop.register(tun.fileDescriptor, token: 1, interest: .readable)
        var buffer = [UInt8](repeating: 0xEE, count: 1500 + 16)
        var request: [UInt8]? = nil
        let deadline = Clock.monotonicNanoseconds() + 3_000_000_000
        search: while Clock.monotonicNanoseconds() < deadline {
            try loop.wait(until: deadline)
            while let length = try buffer.withUnsafeMutableBytes({ try tun.read(into: $0, offset: 16) }) {
                #expect(buffer[0..<16].allSatisfy { $0 == 0xEE })  // Headroom untouched.
                let packet = Array(buffer[16..<(16 + length)])
                // IPv4, ICMP, to 10.123.0.2, echo request.
                if packet.count >= 28 && packet[0] >> 4 == 4 && packet[9] == 1
                    && Array(packet[16..<20]) == [10, 123, 0, 2] && packet[20] == 8 {
                    request = packet
                    break search
                }
            }
        }
        let echo = try #require(request, "no ICMP echo request read from \(name)")
        #expect(Array(echo[12..<16]) == [10, 123, 0, 1])

        let reply = echoReply(to: echo)
        #expect(try reply.withUnsafeBytes { try tun.write($0) })
        ping.waitUntilExit()
        #expect(ping.terminationStatus == 0, "ping did not get the reply written to the TUN device")
        tun.close()
        #expect(interfaceGone(name))
    }

    /// True once /sys/class/net/NAME has disappeared (checked for up to a second).
    private func interfaceGone(_ name: String) -> Bool {
        for _ in 0..<100 {
            if !FileManager.default.fileExists(atPath: "/sys/class/net/\(name)") { return true }
            usleep(10_000)
        }
        return false
    }

    /// The ICMP echo reply to an IPv4 echo request: addresses swapped, type 0, checksum redone.
    private func echoReply(to request: [UInt8]) -> [UInt8] {
        var reply = request
        let headerLength = Int(request[0] & 0x0f) * 4
        reply.replaceSubrange(12..<16, with: request[16..<20])
        reply.replaceSubrange(16..<20, with: request[12..<16])
        reply[headerLength] = 0  // Echo reply.
        reply[headerLength + 2] = 0
        reply[headerLength + 3] = 0
        let sum = internetChecksum(reply[headerLength...])
        reply[headerLength + 2] = UInt8(sum >> 8)
        reply[headerLength + 3] = UInt8(sum & 0xff)
        return reply
    }

    private func internetChecksum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var sum: UInt32 = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let high = UInt32(bytes[index]) << 8
            let low = index + 1 < bytes.endIndex ? UInt32(bytes[index + 1]) : 0
            sum += high | low
            index += 2
        }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
