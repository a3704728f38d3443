/// Byte counts for people, in binary units: `0 B`, `512 B`, `1.5 KiB`,
/// `12 MiB`, `3.2 GiB`.
///
/// Below 10 of a unit one decimal is shown, above it whole units (rounded
/// half up); a value that rounds up to 1024 of a unit moves to the next.
/// Integer arithmetic only (Embedded Swift has no cheap Double printing).
public enum ByteCount {
    private static let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

    /// `bytes` as text; negative counts are shown as `0 B`.
    public static func text(_ bytes: Int64) -> String {
        text(UInt64(max(bytes, 0)))
    }

    /// `bytes` as text.
    public static func text(_ bytes: UInt64) -> String {
        if bytes < 1024 { return String(bytes) + " B" }
        var unit: UInt64 = 1024
        var index = 0
        while true {
            let isLast = index == units.count - 1
            let whole = bytes / unit
            let rest = bytes % unit
            // Tenths of the unit, rounded half up, without overflowing.
            let tenths = whole * 10 + (rest * 10 + unit / 2) / unit
            if tenths < 100 {
                return String(tenths / 10) + "." + String(tenths % 10) + " " + units[index]
            }
            let rounded = whole + (rest >= unit / 2 ? 1 : 0)
            if rounded < 1024 || isLast {
                return String(rounded) + " " + units[index]
            }
            unit *= 1024
            index += 1
        }
    }
}
