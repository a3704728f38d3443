import CTern
import Foundation
import Testing

// Helpers for the integration tests: throwaway network namespaces, the `ip`
// and `nft` commands (to check, independently of the code under test, what
// the kernel holds) and sockets created inside a namespace.
//
// Every integration test creates its own namespaces with unique names and
// deletes them in a `defer`; deleting a namespace deletes every interface,
// address, route and nftables table in it. Nothing touches the host's own
// network configuration, and all traffic stays inside these namespaces.

/// True when the integration tests can run: root, with `ip` and `nft`.
let canRunIntegration: Bool = {
    getuid() == 0 && commandExists("ip") && commandExists("nft")
}()

/// True if `name` is an executable in PATH (or /usr/sbin, /sbin).
func commandExists(_ name: String) -> Bool {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
    return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
}

/// The result of a command.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var succeeded: Bool { status == 0 }
}

/// Runs `arguments` (looked up in PATH) and waits for it.
@discardableResult
func run(_ arguments: [String], environment: [String: String]? = nil) -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["PATH"] = (env["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
    for (key, value) in environment ?? [:] { env[key] = value }
    process.environment = env
    // stdout through a pipe, stderr into a file: a command that fills one
    // while the other is being read cannot block.
    let out = Pipe()
    let errPath = NSTemporaryDirectory() + "tern-netlink-test-" + UUID().uuidString
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    guard let err = FileHandle(forWritingAtPath: errPath) else {
        return CommandResult(status: -1, stdout: "", stderr: "cannot create \(errPath)")
    }
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return CommandResult(status: -1, stdout: "", stderr: "\(error)") }
    let stdoutBytes = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try? err.close()
    let stderrBytes = FileManager.default.contents(atPath: errPath) ?? Data()
    return CommandResult(
        status: process.terminationStatus,
        stdout: String(decoding: stdoutBytes, as: UTF8.self),
        stderr: String(decoding: stderrBytes, as: UTF8.self))
}

/// Runs `arguments` and records a test failure if it fails.
@discardableResult
func must(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) -> CommandResult {
    let result = run(arguments)
    #expect(result.succeeded, "\(arguments.joined(separator: " ")) failed: \(result.stderr)", sourceLocation: sourceLocation)
    return result
}

/// A network namespace made for one test, deleted by `delete()`.
final class TestNamespace {
    let name: String

    /// Creates namespace "tnl-<pid>-<random>-<label>" with loopback up.
    init(_ label: String) {
        let unique = UUID().uuidString.prefix(8).lowercased()
        name = "tnl-\(getpid())-\(unique)-\(label)"
        let result = run(["ip", "netns", "add", name])
        precondition(result.succeeded, "ip netns add \(name) failed: \(result.stderr)")
        run(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    /// The bind-mounted namespace file the library opens.
    var path: String { "/var/run/netns/" + name }

    /// Deletes the namespace (and with it everything in it).
    func delete() {
        run(["ip", "netns", "del", name])
    }

    /// `ip -n NAME arguments...`, which must succeed.
    @discardableResult
    func ip(_ arguments: String..., sourceLocation: SourceLocation = #_sourceLocation) -> CommandResult {
        must(["ip", "-n", name] + arguments, sourceLocation: sourceLocation)
    }

    /// `ip netns exec NAME arguments...` (may fail).
    @discardableResult
    func exec(_ arguments: [String]) -> CommandResult {
        run(["ip", "netns", "exec", name] + arguments)
    }

    /// `ip -n NAME -j arguments...` parsed as a JSON array of objects.
    func json(_ arguments: String...) -> [[String: Any]] {
        let result = run(["ip", "-n", name, "-j"] + arguments)
        guard result.succeeded, let data = result.stdout.data(using: .utf8),
              let value = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            Issue.record("ip -j \(arguments) failed: \(result.stderr) \(result.stdout)")
            return []
        }
        return value
    }

    /// Adds a veth pair `a` (here) and `b` (in `peer`, or here when nil),
    /// both up.
    func addVeth(_ a: String, peer b: String, in peerNamespace: TestNamespace? = nil) {
        let target = peerNamespace?.name ?? name
        must(["ip", "-n", name, "link", "add", a, "type", "veth", "peer", "name", b, "netns", target])
        must(["ip", "-n", name, "link", "set", a, "up"])
        must(["ip", "-n", target, "link", "set", b, "up"])
    }
}

/// The routes `ip -j route show table all` lists in `namespace` for
/// `family` ("-4" or "-6"), as "dst dev=... table=... metric=..." strings;
/// only those with `proto` when given. The kernel's table "local" (the
/// namespace's own addresses) is left out.
func routeLines(_ namespace: TestNamespace, _ family: String, proto: String? = nil) -> Set<String> {
    var arguments = ["ip", "-n", namespace.name, "-j", family, "route", "show", "table", "all"]
    if let proto { arguments += ["proto", proto] }
    let result = run(arguments)
    guard result.succeeded, let data = result.stdout.data(using: .utf8),
          let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
        Issue.record("ip route failed: \(result.stderr)")
        return []
    }
    var lines = Set<String>()
    for entry in entries {
        var dst = entry["dst"] as? String ?? "?"
        if dst != "default" && !dst.contains("/") { dst += family == "-4" ? "/32" : "/128" }
        let dev = entry["dev"] as? String ?? "-"
        let table = entry["table"].map { "\($0)" } ?? "main"
        if table == "local" { continue }
        let metric = entry["metric"].map { "\($0)" } ?? "0"
        let gateway = entry["gateway"].map { " via=\($0)" } ?? ""
        lines.insert("\(dst)\(gateway) dev=\(dev) table=\(table) metric=\(metric)")
    }
    return lines
}

/// Runs `body` with the calling thread inside the namespace at `path` (to
/// create sockets there), then moves it back.
func insideNamespace<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
    let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    let target = open(path, O_RDONLY | O_CLOEXEC)
    precondition(original >= 0 && target >= 0, "cannot open namespace files")
    defer {
        precondition(tern_setns_net(original) == 0, "cannot return to the original namespace")
        close(original)
        close(target)
    }
    precondition(tern_setns_net(target) == 0, "cannot enter \(path)")
    return try body()
}

/// A UDP socket created inside `namespace`, bound to `address`:`port`
/// (any when nil), with a receive timeout.
final class UDPSocket {
    let fd: Int32

    init(in namespace: TestNamespace, bindTo address: String? = nil, port: UInt16 = 0, timeoutSeconds: Int = 2) {
        fd = insideNamespace(namespace.path) { socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        precondition(fd >= 0)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let address {
            var sin = UDPSocket.socketAddress(address, port)
            let status = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            precondition(status == 0, "bind failed: \(errno)")
        }
    }

    deinit { close(fd) }

    static func socketAddress(_ address: String, _ port: UInt16) -> sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        inet_pton(AF_INET, address, &sin.sin_addr)
        return sin
    }

    /// Sends `text` to `address`:`port`; the errno on failure, 0 on success.
    @discardableResult
    func send(_ text: String, to address: String, port: UInt16) -> Int32 {
        var sin = UDPSocket.socketAddress(address, port)
        let bytes = Array(text.utf8)
        let sent = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return sent < 0 ? errno : 0
    }

    /// Receives one datagram: its text and the sender's address and port,
    /// or nil after the timeout.
    func receive() -> (text: String, address: String, port: UInt16)? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var sin = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
        }
        guard count >= 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &sin.sin_addr, &text, socklen_t(text.count))
        let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (String(decoding: buffer[0..<count], as: UTF8.self), address, UInt16(bigEndian: sin.sin_port))
    }
}
