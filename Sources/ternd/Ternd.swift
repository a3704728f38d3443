import CTern
import Linux
import Netlink
import Node
import SelfTest
import TernCrypto

/// `ternd`: the Tern node daemon. By default a mesh node (`MeshCommand`,
/// driven by `tern`); with `--wg` a userspace WireGuard interface configured
/// with `wg`, like `wireguard-go`; and the crypto self-test that proves each
/// shipped binary (amd64, arm64, armhf) computes correctly.
enum Ternd {
    static let version = "0.1.0"

    static let usage = """
        usage: ternd [--state-dir DIR] [--socket PATH] [--tun NAME] [--port N]
               ternd --wg [-f|--foreground] [network options] INTERFACE
               ternd [-f|--foreground] INTERFACE
               ternd <command>

        ternd           mesh mode: join the mesh `tern up` logs in to; keeps its keys and
                        the last network map in --state-dir (default /var/lib/tern),
                        listens for `tern` on --socket (default /run/tern/ternd.sock),
                        runs interface --tun (default tern0) on UDP --port (default
                        41641); stays in the foreground (for systemd)

        --wg INTERFACE  run a userspace WireGuard interface configured with `wg`
                        over /var/run/wireguard/INTERFACE.sock (the directory:
                        $TERN_WG_SOCKET_DIR if set, in mesh mode too), like wireguard-go;
                        goes to the background once the interface is ready
                        unless -f/--foreground (or WG_PROCESS_FOREGROUND=1)

        \(NetworkOptions.help)

        commands:
          selftest    run the known-answer tests of every primitive and exit
                      non-zero on any mismatch
          version     print the version
          help        print this help
        """

    /// Runs the command line and returns the process exit status.
    static func run(_ arguments: [String]) -> Int32 {
        let command = arguments.count > 1 ? arguments[1] : ""
        if command.isEmpty || MeshCommand.options.contains(where: { command == $0 || command.hasPrefix($0 + "=") }) {
            return MeshCommand.run(Array(arguments.dropFirst()))
        }
        if command == "--wg" || command == "-f" || command == "--foreground"
            || (arguments.count == 2 && !knownCommands.contains(command) && !command.hasPrefix("-")) {
            return wireGuard(Array(arguments.dropFirst()))
        }
        switch command {
        case "selftest" where arguments.count == 2:
            return selfTest()
        case "version", "--version":
            print("ternd " + version)
            return 0
        case "help", "--help", "-h":
            print(usage)
            return 0
        case "selftest":
            writeError("ternd: selftest takes no arguments")
            return 2
        default:
            writeError("ternd: unknown command '" + command + "'\n\n" + usage)
            return 2
        }
    }

    static let knownCommands = ["selftest", "version", "help"]

    /// `--wg IFACE`: parses the wireguard-go style arguments (and the
    /// network options) and runs the interface.
    static func wireGuard(_ arguments: [String]) -> Int32 {
        var foreground = false
        var interface: String?
        var network = NetworkOptions()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            do {
                if let next = try network.parse(arguments, at: index) {
                    index = next
                    continue
                }
            } catch {
                writeError("ternd: " + error.message)
                return 2
            }
            index += 1
            switch argument {
            case "--wg": continue
            case "-f", "--foreground": foreground = true
            default:
                guard interface == nil, !argument.hasPrefix("-") else {
                    writeError("ternd: unexpected argument '" + argument + "'\n\n" + usage)
                    return 2
                }
                interface = argument
            }
        }
        guard let interface else {
            writeError("ternd: --wg needs an interface name\n\n" + usage)
            return 2
        }
        guard isValidInterfaceName(interface) else {
            writeError("ternd: invalid interface name '" + interface + "' (1-15 characters, no '/' or spaces)")
            return 2
        }
        if environment("WG_PROCESS_FOREGROUND") == "1" { foreground = true }
        let timeScale = UInt64(environment("TERN_TEST_TIME_SCALE") ?? "") ?? 1
        guard let socketDirectory = wgSocketDirectory() else { return 2 }

        do { try Sodium.initialize() } catch {
            writeError("ternd: " + error.description)
            return 1
        }
        var readiness: DaemonReadiness? = nil
        if !foreground {
            do { readiness = try Daemon.detach() } catch {
                writeError("ternd: cannot go to the background: " + error.description)
                return 1
            }
        }
        func fail(_ message: String) -> Int32 {
            if let readiness = readiness.take() { readiness.fail(message) } else { writeError(message) }
            return 1
        }
        let wg: WireGuardInterface
        do {
            wg = try WireGuardInterface(name: interface, socketDirectory: socketDirectory, timeScale: timeScale)
        } catch {
            return fail("ternd: cannot create interface " + interface + ": " + error.description)
        }
        var host: HostNetwork? = nil
        if network.configuresHost {
            do {
                let configurator = try HostNetwork(log: { writeError("ternd: " + $0) })
                host = configurator
                try configurator.apply(network.plan(interface: wg.name))
            } catch {
                // Undo what was applied before the failure; the interface goes with the process.
                try? host?.remove()
                return fail("ternd: cannot configure " + wg.name + ": " + error.description)
            }
        }
        if let readiness = readiness.take() {
            do { try readiness.succeed() } catch { return 1 }
        } else {
            writeError("ternd: interface " + wg.name + (host == nil ? " is up; configure it with wg" : " is configured"))
        }
        var status: Int32 = 0
        do { try wg.run() } catch {
            writeError("ternd: " + error.description)
            status = 1
        }
        if let host {
            do { try host.remove() } catch {
                writeError("ternd: cleaning up: " + error.description)
                status = 1
            }
        }
        return status
    }

    /// Linux interface names: 1-15 bytes, no '/', no whitespace, not "." or "..".
    static func isValidInterfaceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...15).contains(bytes.count), name != ".", name != ".." else { return false }
        return !bytes.contains { $0 == UInt8(ascii: "/") || $0 <= 32 || $0 == 127 || $0 == UInt8(ascii: ":") }
    }

    /// The directory of the `wg` configuration socket: `$TERN_WG_SOCKET_DIR`
    /// (ternd.service keeps it in /run/tern/wireguard, a directory of its
    /// own, and links it into /run/wireguard), else /var/run/wireguard.
    /// Nil, with the reason printed, for a relative path.
    static func wgSocketDirectory() -> String? {
        guard let directory = environment("TERN_WG_SOCKET_DIR"), !directory.isEmpty else {
            return WireGuardInterface.defaultSocketDirectory
        }
        guard directory.hasPrefix("/") else {
            writeError("ternd: TERN_WG_SOCKET_DIR must be an absolute path")
            return nil
        }
        return directory
    }

    /// An environment variable's value.
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    static func selfTest() -> Int32 {
        do {
            try Sodium.initialize()
        } catch {
            writeError("ternd: " + error.description)
            return 1
        }
        var passed = 0
        let failures = SelfTest.run { name, ok in
            if ok { passed += 1 }
            print((ok ? "ok    " : "FAIL  ") + name)
        }
        print("selftest: " + String(passed) + " passed, " + String(failures) + " failed")
        return failures == 0 ? 0 : 1
    }

    static func writeError(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
