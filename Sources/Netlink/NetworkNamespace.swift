import CTern

/// Runs `body` with the calling thread inside the network namespace at
/// `path` (such as "/var/run/netns/NAME" or "/proc/PID/ns/net"), then moves
/// the thread back; with a nil path, runs `body` where the thread is.
///
/// Sockets keep the namespace they were created in, and /proc/sys/net files
/// the namespace they were opened in, so creating them inside `body` binds
/// them to `path` for their whole life. Only the calling thread moves
/// (setns(2) with CLONE_NEWNET), which needs CAP_SYS_ADMIN. If the thread
/// cannot be moved back this traps: continuing in the wrong namespace would
/// configure the wrong network.
func withNetworkNamespace<Result>(
    _ path: String?, _ body: () throws(NetlinkError) -> Result
) throws(NetlinkError) -> Result {
    guard let path else { return try body() }
    // The thread's own namespace: /proc/self is the thread-group leader's.
    let original = tern_open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC, 0)
    guard original >= 0 else { throw lastError("opening this thread's network namespace") }
    defer { close(original) }
    let target = tern_open(path, O_RDONLY | O_CLOEXEC, 0)
    guard target >= 0 else { throw lastError("opening network namespace " + path) }
    defer { close(target) }
    guard tern_setns_net(target) == 0 else { throw lastError("entering network namespace " + path) }
    defer {
        if tern_setns_net(original) != 0 {
            fatalError("cannot return from a network namespace to the thread's own")
        }
    }
    return try body()
}
