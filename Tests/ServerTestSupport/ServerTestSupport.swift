import Coordinator
import IP
import TernCrypto
import TestSupport

/// Deterministic randomness for handshakes, keys and backoff jitter.
public struct SeededRandom: RandomSource {
    var generator: SplitMix64

    /// A source whose bytes are fixed by `seed`.
    public init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: generator.next()) }
    }
}

/// A coordination server's registry in memory: records are kept, and the
/// next write can be made to fail.
public final class MemoryJournal: RegistryJournal {
    public var registry: Registry
    /// Every record written, in order.
    public var records: [[UInt8]] = []
    /// Makes the next `record` fail ("disk full").
    public var failNextWrite = false

    /// A new network: 100.64.0.0/10 and a fixed IPv6 range, no key expiry.
    public init() {
        let settings = NetworkSettings(ipv4Range: try! IPPrefix("100.64.0.0/10"),
                                       ipv6Range: NetworkSettings.uniqueLocalPrefix(globalID: 7), keyLifetime: nil)
        let created = try! Registry.newNetwork(settings: settings)
        registry = created.registry
        records = created.changes.records
    }

    public func record(_ changes: RegistryChanges) throws(JournalFailure) {
        if failNextWrite { throw JournalFailure("disk full") }
        records += changes.records
    }
}
