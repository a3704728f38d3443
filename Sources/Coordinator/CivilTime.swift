/// Unix seconds as UTC calendar time, without Foundation: "2026-11-21 14:03:05 UTC".
public enum CivilTime {
    /// A UTC date and time of day.
    public struct Parts: Equatable, Sendable {
        /// The year (proleptic Gregorian; may be negative for very old times).
        public var year: Int64
        /// 1...12.
        public var month: Int64
        /// 1...31.
        public var day: Int64
        /// 0...23.
        public var hour: Int64
        /// 0...59.
        public var minute: Int64
        /// 0...59.
        public var second: Int64
    }

    /// The UTC calendar parts of `unixSeconds`.
    public static func parts(_ unixSeconds: Int64) -> Parts {
        // Floor division, so times before 1970 land on the right day.
        var days = unixSeconds / 86_400
        var secondOfDay = unixSeconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civil(daysSinceEpoch: days)
        return Parts(year: year, month: month, day: day, hour: secondOfDay / 3600,
                     minute: secondOfDay / 60 % 60, second: secondOfDay % 60)
    }

    /// The Gregorian date of a day counted from 1970-01-01.
    ///
    /// Counts in 400-year eras (146,097 days each) of years that start on
    /// March 1st, so the leap day falls at the end of the year and month
    /// lengths follow a fixed 153-days-per-5-months pattern.
    static func civil(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSinceEpoch + 719_468  // days from 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from March 1st
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0...11
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// "2026-11-21 14:03:05 UTC".
    public static func format(_ unixSeconds: Int64) -> String {
        let p = parts(unixSeconds)
        var text = p.year < 0 ? "-" + padded(-p.year, 4) : padded(p.year, 4)
        text += "-" + padded(p.month, 2) + "-" + padded(p.day, 2)
        text += " " + padded(p.hour, 2) + ":" + padded(p.minute, 2) + ":" + padded(p.second, 2) + " UTC"
        return text
    }

    /// `value` (not negative) in decimal with leading zeros to `width` digits.
    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        if digits.utf8.count >= width { return digits }
        return String(repeating: "0", count: width - digits.utf8.count) + digits
    }
}
