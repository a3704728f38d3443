/// The bytes a parser has received but not consumed yet: an array with a
/// read position, compacted before each append so that it holds at most one
/// unfinished message plus what just arrived. Shared by the request and the
/// response parser.
struct InputBuffer: Sendable {
    /// Everything buffered; `bytes[start...]` is not consumed yet.
    private(set) var bytes: [UInt8] = []
    /// The first byte not yet consumed.
    var start = 0

    /// True when every buffered byte has been consumed.
    var isConsumed: Bool { start == bytes.count }

    /// Drops the consumed bytes, then appends `more`.
    mutating func append<C: Collection>(_ more: C) where C.Element == UInt8 {
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
        } else if start > 0 {
            bytes.removeSubrange(0..<start)
        }
        start = 0
        bytes.append(contentsOf: more)
    }

    /// Hands back the bytes not consumed yet and empties the buffer.
    mutating func takeRemaining() -> [UInt8] {
        let rest = Array(bytes[start...])
        removeAll()
        return rest
    }

    /// Forgets everything buffered.
    mutating func removeAll() {
        bytes.removeAll()
        start = 0
    }
}
