import Foundation
import JSON
import Testing
import TestSupport

@Suite struct NumberConversionTests {
    /// Distance in units in the last place between two finite doubles of the same sign.
    func ulps(_ a: Double, _ b: Double) -> UInt64 {
        if a == b { return 0 }
        let x = a.bitPattern, y = b.bitPattern
        return x > y ? x - y : y - x
    }

    func double(_ text: String) -> Double {
        JSONNumber(text: text)!.double
    }

    @Test func exactCases() {
        #expect(double("0.1") == 0.1)
        #expect(double("0.25") == 0.25)
        #expect(double("-12.5e3") == -12500)
        #expect(double("1e22") == 1e22)
        #expect(double("1E-22") == 1e-22)
        #expect(double("9007199254740992") == 9007199254740992)
        #expect(double("123456789012345.6") == 123456789012345.6)
        #expect(double("0.000001") == 0.000001)
        #expect(double("-0.0").sign == .minus)
        #expect(double("0e999999999999999999") == 0)
    }

    @Test func extremes() {
        #expect(double("1e309") == .infinity)
        #expect(double("-1e400") == -.infinity)
        #expect(double("1e99999999999999999999999") == .infinity)
        #expect(double("1e-400") == 0)
        // Near the top of the range the few-ulp error may round up to
        // infinity (documented); slightly below it the value is finite.
        #expect(ulps(double("1.797693134862315e308"), 1.797693134862315e308) <= 4)
        #expect(double("1.7976931348623157e308") >= 1.7976931348623155e308)
        #expect(double("5e-324") == .leastNonzeroMagnitude)
        #expect(double("2.2250738585072014e-308") == .leastNormalMagnitude)
        let manyDigits = "3." + String(repeating: "1415926535", count: 50)
        #expect(ulps(double(manyDigits), Double.pi) <= 2 || abs(double(manyDigits) - 3.1415926535) < 1e-9)
        let longInteger = String(repeating: "9", count: 400)
        #expect(double(longInteger) == .infinity)
        #expect(ulps(double("1" + String(repeating: "0", count: 300)), 1e300) <= 2)
    }

    /// Shortest round-trip text of random doubles (Swift's `description`):
    /// the fast path must be exact, everything else within a few ulps.
    @Test func randomDoublesAgainstSwiftParsing() {
        var rng = SplitMix64(seed: 42)
        var worst: UInt64 = 0
        var exactCount = 0
        for round in 0..<20_000 {
            let value: Double
            switch round % 3 {
            case 0: value = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)  // any finite
            case 1: value = Double(Int.random(in: -1_000_000...1_000_000, using: &rng)) / 1000
            default: value = Double.random(in: -1e6...1e6, using: &rng)
            }
            let text = "\(value)".replacingOccurrences(of: "e+", with: "e")
            guard let number = JSONNumber(text: text) else {
                Issue.record("Swift printed an invalid JSON number \(text)")
                continue
            }
            let distance = ulps(number.double, value)
            worst = max(worst, distance)
            if round % 3 == 1 {
                // Three decimals and a modest exponent: the exact fast path.
                #expect(distance == 0, "\(text)")
                if distance == 0 { exactCount += 1 }
            }
            #expect(distance <= 4, "\(text): \(number.double) vs \(value)")
        }
        #expect(exactCount > 6000)
    }
}
