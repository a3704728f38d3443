/// What the filter has seen since it was created, for `tern status`.
/// Counters wrap rather than trap.
public struct FilterCounters: Sendable {
    /// Inbound packets by reason, indexed by `FilterReason.rawValue`.
    private var byReason = [UInt64](repeating: 0, count: FilterReason.count)

    /// Outbound packets seen (every one is allowed).
    public internal(set) var outboundPackets: UInt64 = 0

    /// Zero counters.
    public init() {}

    /// Inbound packets accepted or dropped for `reason`.
    public func packets(_ reason: FilterReason) -> UInt64 { byReason[Int(reason.rawValue)] }

    /// Inbound packets accepted, for any reason.
    public var acceptedPackets: UInt64 {
        var total: UInt64 = 0
        for index in 0..<FilterReason.count where FilterReason(rawValue: UInt8(index))!.allows {
            total &+= byReason[index]
        }
        return total
    }

    /// Inbound packets dropped, for any reason.
    public var droppedPackets: UInt64 {
        var total: UInt64 = 0
        for index in 0..<FilterReason.count where !FilterReason(rawValue: UInt8(index))!.allows {
            total &+= byReason[index]
        }
        return total
    }

    mutating func count(_ reason: FilterReason) {
        byReason[Int(reason.rawValue)] &+= 1
    }
}
