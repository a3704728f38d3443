/// Durations and times for people, with integer arithmetic only.
public enum DurationText {
    /// How long ago something happened, `seconds` before now: `12s ago`,
    /// `3m ago`, `5h ago`, `2d ago` (rounded down; negative values, from a
    /// clock that moved, read `0s ago`).
    public static func ago(seconds: Int64) -> String {
        let s = max(seconds, 0)
        if s < 60 { return String(s) + "s ago" }
        if s < 3600 { return String(s / 60) + "m ago" }
        if s < 86400 { return String(s / 3600) + "h ago" }
        return String(s / 86400) + "d ago"
    }

    /// The age of an event at Unix time `time` seen at Unix time `now`, as
    /// `ago(seconds:)`; `never` when there was none (nil or 0).
    public static func since(_ time: Int64?, now: Int64) -> String {
        guard let time, time > 0 else { return "never" }
        return ago(seconds: now - time)
    }

    /// Microseconds as milliseconds with exactly three decimals:
    /// 1234 → `1.234`, 50 → `0.050` (negative values read `0.000`).
    public static func milliseconds(microseconds: Int64) -> String {
        let value = max(microseconds, 0)
        return String(value / 1000) + "." + threeDigits(value % 1000)
    }

    /// Milliseconds as seconds, trailing zeros dropped: 30000 → `30 s`,
    /// 1500 → `1.5 s`, 250 → `0.25 s`.
    public static func seconds(milliseconds: Int64) -> String {
        let value = max(milliseconds, 0)
        var text = String(value / 1000)
        var fraction = threeDigits(value % 1000)
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if !fraction.isEmpty { text += "." + fraction }
        return text + " s"
    }

    /// `value` (0...999) with leading zeros to three digits.
    private static func threeDigits(_ value: Int64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: 3 - digits.count) + digits
    }
}
