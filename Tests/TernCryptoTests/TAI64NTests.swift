import SelfTest
import TernCrypto
import Testing
import TestSupport

@Suite("TAI64N")
struct TAI64NTests {
    // Both table vectors encode to their 12 bytes (the second one shows the whitening).
    @Test(arguments: tai64nVectors.indices)
    func vector(index: Int) {
        let vector = tai64nVectors[index]
        #expect(hex(TAI64N(unixSeconds: vector.seconds, nanoseconds: vector.nanoseconds).bytes) == vector.bytes)
    }

    // The layout is 2^62 + 10 + seconds (big-endian) then whitened nanoseconds (big-endian).
    @Test func layout() {
        #expect(hex(TAI64N(unixSeconds: 0, nanoseconds: 0).bytes) == "400000000000000a00000000")
        #expect(hex(TAI64N(unixSeconds: 1, nanoseconds: 0x1200_0000).bytes) == "400000000000000b12000000")
        #expect(hex(TAI64N(unixSeconds: 0x0102_0304, nanoseconds: 0x3B9A_C9FF).bytes) == "400000000102030e3b000000")
    }

    // Whitening clears exactly the low 24 bits of the nanoseconds and keeps the top 8.
    @Test func whiteningClearsLow24Bits() {
        var generator = SplitMix64(seed: 0x7A1)
        for _ in 0..<1000 {
            let nanoseconds = UInt32.random(in: 0..<1_000_000_000, using: &generator)
            let stamp = TAI64N(unixSeconds: 1_700_000_000, nanoseconds: nanoseconds)
            #expect(stamp.bytes[8] == UInt8(nanoseconds >> 24))
            #expect(stamp.bytes[9] == 0 && stamp.bytes[10] == 0 && stamp.bytes[11] == 0)
            #expect(stamp == TAI64N(unixSeconds: 1_700_000_000, nanoseconds: nanoseconds & 0xFF00_0000))
        }
    }

    // A later second always compares greater, whatever the nanoseconds.
    @Test func strictlyIncreasingWithSeconds() {
        let seconds: [Int64] = [-1_000_000, -1, 0, 1, 59, 1_000_000_000, 1_700_000_000, 1_700_000_001,
                                Int64(UInt32.max), Int64(UInt32.max) + 1, 1 << 40]
        for (earlier, later) in zip(seconds, seconds.dropFirst()) {
            let a = TAI64N(unixSeconds: earlier, nanoseconds: 999_999_999)
            let b = TAI64N(unixSeconds: later, nanoseconds: 0)
            #expect(a < b, "\(earlier) < \(later)")
            #expect(!(b < a))
            #expect(a != b)
        }
        #expect(TAI64N.zero < TAI64N(unixSeconds: 0, nanoseconds: 0))
    }

    // Within one second, nanoseconds at least 2^24 apart compare in order.
    @Test func strictlyIncreasingWithNanosecondsAtLeastAGranuleApart() {
        var generator = SplitMix64(seed: 0x6E73)
        for _ in 0..<1000 {
            let a = UInt32.random(in: 0..<(1_000_000_000 - (1 << 24)), using: &generator)
            let b = UInt32.random(in: (a + (1 << 24))..<1_000_000_000, using: &generator)
            let earlier = TAI64N(unixSeconds: 42, nanoseconds: a)
            let later = TAI64N(unixSeconds: 42, nanoseconds: b)
            #expect(earlier < later, "\(a) < \(b)")
            #expect(!(later < earlier))
        }
        // Consecutive granules, all through the second.
        var previous = TAI64N(unixSeconds: 42, nanoseconds: 0)
        for granule in UInt32(1)...59 {
            let next = TAI64N(unixSeconds: 42, nanoseconds: granule << 24)
            #expect(previous < next, "granule \(granule)")
            previous = next
        }
    }

    // Times within one 2^24 ns granule give equal timestamps, neither less than the other.
    @Test func equalWithinAGranule() {
        var generator = SplitMix64(seed: 0x6571)
        for _ in 0..<1000 {
            let base = UInt32.random(in: 0..<59, using: &generator) << 24
            let a = base | UInt32.random(in: 0..<(1 << 24), using: &generator)
            let b = base | UInt32.random(in: 0..<(1 << 24), using: &generator)
            let x = TAI64N(unixSeconds: 1_700_000_000, nanoseconds: a)
            let y = TAI64N(unixSeconds: 1_700_000_000, nanoseconds: b)
            #expect(x == y)
            #expect(!(x < y) && !(y < x))
        }
    }

    // Received bytes wrap unchanged and compare byte-wise.
    @Test func wrapsReceivedBytes() {
        let stamp = TAI64N(unixSeconds: 1_700_000_000, nanoseconds: 500_000_000)
        #expect(TAI64N(bytes: stamp.bytes) == stamp)
        var bumped = stamp.bytes
        bumped[11] = 1  // not whitened, as a peer might send
        #expect(stamp < TAI64N(bytes: bumped))
    }
}
