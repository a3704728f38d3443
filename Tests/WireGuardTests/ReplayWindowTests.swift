import Testing
@testable import WireGuard

/// The replay window, table-driven like the kernel's counter self-test:
/// each numbered step feeds one counter and states whether it must pass.
@Suite struct ReplayWindowTests {
    static let window = ReplayWindow.windowSize          // 8128
    static let reject = Protocol.rejectAfterMessages

    /// (step, counter, accepted) applied in order to one window.
    static let steps: [(Int, UInt64, Bool)] = [
        (1, 0, true),
        (2, 1, true),
        (3, 1, false),                       // replay of the newest
        (4, 9, true),
        (5, 8, true),                        // out of order, new
        (6, 7, true),
        (7, 7, false),                       // replay, out of order
        (8, window + 8, true),               // jump: 0...8 are now at the edge
        (9, 7, false),                       // too old
        (10, 8, false),                      // exactly at the edge, but seen at step 5
        (11, window + 9, true),
        (12, 9, false),                      // 9 was seen and is now at the edge
        (13, 10, true),                      // at the edge and unseen
        (14, 10, false),
        (15, window + 10 + 1, true),
        (16, 10, false),                     // slid out of the window
        (17, 3 * window, true),              // a jump larger than the ring clears it
        (18, 3 * window - window, true),     // the oldest acceptable counter
        (19, 3 * window - window - 1, false),
        (20, 3 * window - 1, true),
        (21, reject - 1, true),              // the last usable counter
        (22, reject, false),                 // never accepted
        (23, reject + 1, false),
        (24, UInt64.max, false),
        (25, reject - 1, false),             // replay at the very end
    ]

    @Test func numberedCases() {
        var window = ReplayWindow()
        for (step, counter, expected) in Self.steps {
            let accepted = window.accept(counter)
            #expect(accepted == expected, "step \(step): counter \(counter)")
        }
    }

    /// newest − windowSize is the oldest counter accepted; one less is refused.
    @Test func edgeOfTheWindow() {
        var window = ReplayWindow()
        let results = [window.accept(Self.window + 100), window.accept(100), window.accept(99)]
        #expect(results == [true, true, false])
    }

    /// Every counter in a long in-order run is accepted once, then refused.
    @Test func inOrderRunThenReplays() {
        var window = ReplayWindow()
        let fresh = (UInt64(0)..<20_000).filter { window.accept($0) }.count
        let replayed = (UInt64(20_000 - Self.window)..<20_000).filter { window.accept($0) }.count
        #expect(fresh == 20_000)
        #expect(replayed == 0)
    }

    /// Any permutation within the window is accepted exactly once (against a set).
    @Test func shuffledAgainstReference() {
        var window = ReplayWindow()
        var seen = Set<UInt64>()
        var newest: UInt64 = 0
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let jitter = (state >> 33) % 10_000
            let counter = newest + 50 >= jitter ? newest + 50 - jitter : 0
            let expected = !seen.contains(counter) && !(counter < newest && newest - counter > Self.window)
            let accepted = window.accept(counter)
            #expect(accepted == expected, "counter \(counter), newest \(newest)")
            if accepted { seen.insert(counter); newest = max(newest, counter) }
        }
    }

    @Test func resetForgetsEverything() {
        var window = ReplayWindow()
        let first = window.accept(5)
        window.reset()
        let second = window.accept(5)
        #expect(first && second)
    }
}
