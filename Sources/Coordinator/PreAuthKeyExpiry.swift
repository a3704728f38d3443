import JSON

/// When a new pre-auth key expires, from what an admin asked for: a
/// number of seconds in the admin API (`expiresInSeconds`) or a duration
/// such as `90d` on the command line. Every step is checked: an absurd
/// value is refused with a sentence, never trapped on (Swift traps on
/// overflow, and `Int` is 32 bits on armhf).
public enum PreAuthKeyExpiry {
    /// The latest expiry a key may have, 9999-12-31 23:59:59 UTC: far enough
    /// for anyone, and shown by `CivilTime` with four-digit years.
    public static let latest: Int64 = 253_402_300_799

    /// The Unix time at which a key asked for at `now` expires: nil for a
    /// missing or `null` `expiresInSeconds` (the key never expires), else
    /// `now` plus that many seconds. Throws `.invalidArgument` unless it is
    /// a whole number of seconds, positive, and ends by `latest`.
    public static func expiresAt(inSeconds value: JSONValue?, now: Int64) throws(RegistryError) -> Int64? {
        guard let value, value != .null else { return nil }
        guard let number = value.number else {
            throw RegistryError(.invalidArgument, "expiresInSeconds must be a number of seconds")
        }
        guard let seconds = number.int64 else {
            throw RegistryError(.invalidArgument, "expiresInSeconds must be a whole number of seconds up to "
                                + String(latest) + ", not " + number.text)
        }
        guard seconds > 0 else { throw RegistryError(.invalidArgument, "expiresInSeconds must be positive") }
        let (sum, overflow) = now.addingReportingOverflow(seconds)
        guard !overflow, sum <= latest else {
            throw RegistryError(.invalidArgument, "expiresInSeconds " + String(seconds) + " ends after "
                                + CivilTime.format(latest) + "; give a shorter time")
        }
        return sum
    }

    /// "90s", "30m", "12h", "7d" in seconds; nil for anything else,
    /// including zero and a count whose seconds do not fit in `Int64`.
    public static func seconds(fromDuration text: String) -> Int64? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        default: return nil
        }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: scale)
        return overflow ? nil : seconds
    }
}
