@testable import IP
import TestSupport

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
