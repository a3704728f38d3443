@testable import IP

/// A small deterministic generator (SplitMix64) so that a failing "random" case
/// is the same on every run and can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }
}

/// The error `body` throws, or nil if it returns.
func parseError<T>(_ body: () throws(IPParseError) -> T) -> IPParseError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The error `IPPacket.init` throws for `bytes`, or nil if it accepts them.
func packetError(_ bytes: [UInt8]) -> IPPacketError? {
    bytes.withUnsafeBytes { raw -> IPPacketError? in
        do throws(IPPacketError) {
            _ = try IPPacket(raw)
            return nil
        } catch {
            return error
        }
    }
}

/// Runs `body` with a view over `bytes`, or returns nil if they are not a valid packet.
func withPacket<T>(_ bytes: [UInt8], _ body: (IPPacket) -> T) -> T? {
    bytes.withUnsafeBytes { raw in
        guard let packet = try? IPPacket(raw) else { return nil }
        return body(packet)
    }
}
