@testable import Linux
import Testing

@Suite("OutputQueue")
struct OutputQueueTests {
    /// Takes everything out of `queue` in order, front segment by front segment.
    private func drain(_ queue: inout OutputQueue) -> [UInt8] {
        var bytes: [UInt8] = []
        while queue.count > 0 {
            let front = queue.front
            #expect(front.count > 0)
            bytes += Array(front)
            queue.removeFirst(front.count)
        }
        return bytes
    }

    private func append(_ bytes: [UInt8], to queue: inout OutputQueue) -> Bool {
        bytes.withUnsafeBytes { queue.append($0) }
    }

    // Nothing is allocated until bytes wait; appends that wrap around the end of the
    // storage and growth while wrapped keep the bytes in order.
    @Test func wrapAndGrowKeepOrder() {
        var queue = OutputQueue(limit: 64 * 1024)
        #expect(queue.allocatedSize == 0)
        let a = pattern(count: 3000, seed: 1)
        let b = pattern(count: 3000, seed: 2)
        #expect(append(a, to: &queue))
        #expect(queue.allocatedSize == OutputQueue.initialSize)
        queue.removeFirst(2500)
        #expect(append(b, to: &queue))   // 500 + 3000 bytes, wrapping at 4096
        #expect(queue.allocatedSize == OutputQueue.initialSize)
        #expect(queue.front.count < queue.count)   // wrapped: two segments
        let c = pattern(count: 10_000, seed: 3)
        #expect(append(c, to: &queue))   // grows while wrapped
        #expect(queue.allocatedSize == 16 * 1024)
        #expect(drain(&queue) == Array(a[2500...]) + b + c)
        #expect(queue.allocatedSize == 16 * 1024)   // small storage is kept
    }

    // The limit is hard: a too-large append takes nothing; storage never exceeds the
    // limit and is released when a large queue drains.
    @Test func limitAndRelease() {
        let limit = 100_000
        var queue = OutputQueue(limit: limit)
        #expect(!append([UInt8](repeating: 7, count: limit + 1), to: &queue))
        #expect(queue.count == 0 && queue.allocatedSize == 0)
        let first = pattern(count: 70_000, seed: 4)
        #expect(append(first, to: &queue))
        #expect(queue.space == limit - 70_000)
        #expect(!append([UInt8](repeating: 1, count: queue.space + 1), to: &queue))
        let rest = pattern(count: queue.space, seed: 5)
        #expect(append(rest, to: &queue))
        #expect(queue.space == 0)
        #expect(queue.allocatedSize == limit)
        #expect(!append([9], to: &queue))
        #expect(append([], to: &queue))
        #expect(drain(&queue) == first + rest)
        #expect(queue.allocatedSize == 0)

        #expect(append(first, to: &queue))
        queue.removeAll()
        #expect(queue.count == 0 && queue.allocatedSize == 0 && queue.front.count == 0)
    }
}
