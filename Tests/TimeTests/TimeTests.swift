import Logging
import Testing
import Time

@Suite struct IntervalTests {
    @Test func unitsAndText() {
        #expect(Interval.seconds(2).nanoseconds == 2_000_000_000)
        #expect(Interval.milliseconds(250).description == "250ms")
        #expect(Interval.milliseconds(1500).description == "1.5s")
        #expect(Interval.seconds(30).description == "30s")
        #expect(Interval.minutes(2) == .seconds(120))
    }

    @Test func arithmeticSaturates() {
        #expect(Interval.seconds(.max) == Interval(nanoseconds: .max))
        #expect(Interval(nanoseconds: .max) + .seconds(1) == Interval(nanoseconds: .max))
        #expect(Interval.seconds(1) - .seconds(2) == .zero)
        #expect(Interval.seconds(3) * 2 == .seconds(6))
        #expect(MonotonicInstant(nanoseconds: 5) - MonotonicInstant(nanoseconds: 9) == .zero)
        #expect(MonotonicInstant(nanoseconds: .max) + .seconds(1) == MonotonicInstant(nanoseconds: .max))
        #expect(WallClockTime(seconds: .max - 1).adding(seconds: 10) == WallClockTime(seconds: .max))
        #expect(WallClockTime(seconds: .min + 1).adding(seconds: -10) == WallClockTime(seconds: .min))
    }

    @Test func instantsOrder() {
        let start = MonotonicInstant.origin + .seconds(1)
        #expect(start + .milliseconds(1) > start)
        #expect((start + .seconds(2)) - start == .seconds(2))
    }
}

@Suite struct LogLineTests {
    @Test func levelsAndLabels() {
        #expect(LogLevel.debug < .info && LogLevel.warning < .error)
        #expect(LogLine.warning("disk full").description == "warning: disk full")
        #expect(LogLine.info("up").description == "up")
    }
}
