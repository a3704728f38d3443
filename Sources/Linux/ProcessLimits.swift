import CTern

/// Resource limits of the process.
public enum ProcessLimits {
    /// Raises the soft limit on open descriptors to the hard limit (often
    /// 1,024 → 524,288): a server with a thousand nodes needs a socket each.
    /// Returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseOpenFiles() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return UInt64(limit.rlim_cur)
    }
}
