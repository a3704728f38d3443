import CTern
import Coordinator
import CoordinatorStore
import IP
import JSON
import Linux
import LocalAPI
import State
import TernCrypto
import TextFormat
import Time

/// `tern-control`: the coordination server (`serve`) and its admin commands,
/// which talk to the running server over its admin socket.
enum TernControl {
    static let version = "0.1.0"

    static let usage = """
        usage: tern-control <command> [options]

        server:
          init   [--state-dir DIR] [--key-lifetime DAYS|never]
                 create the network: server key, address ranges (done by serve if missing)
          serve  [--state-dir DIR] [--listen ADDR:PORT] [--admin-socket PATH]
                 run the server (foreground); default state /var/lib/tern-control,
                 listen [::]:8080, admin socket /run/tern-control/admin.sock
          status [--json]

        admin (against the running server; --admin-socket PATH to choose it):
          nodes list [--json]
          nodes rename NODE NEWNAME        NODE is an id or a name
          nodes expire NODE                end its key now (it must log in again)
          nodes expiry NODE --disable|--enable
          nodes delete NODE
          users list [--json] | users create NAME | users delete NAME
          preauthkeys list [--json]
          preauthkeys create --user NAME [--reusable] [--expiration DURATION] [--tags tag:a,tag:b]
                 DURATION like 30m, 12h, 7d; the key is printed once
          preauthkeys revoke ID
          routes list [--json]             advertised subnet routes: approval, primary or standby router
          routes approve NODE PREFIXES|--all   let clients route PREFIXES (comma-separated) through NODE
          routes reject NODE PREFIXES|--all    withdraw or refuse them (autoApprovers no longer apply)
          policy get                       the policy in force (HuJSON, as it was set)
          policy set FILE                  check FILE (syntax, references, its tests) and put it in force
          policy check FILE                the same checks, dry run: what each test did

          version | help
        """

    static func run(_ arguments: [String]) -> Int32 {
        var rest = Array(arguments.dropFirst())
        var options = Options()
        do { try options.extract(from: &rest) } catch {
            return usageError(error.message)
        }
        guard let command = rest.first else { return usageError("a command is needed") }
        let operands = Array(rest.dropFirst())
        switch command {
        case "version", "--version":
            print("tern-control " + version)
            return 0
        case "help", "--help", "-h":
            print(usage)
            return 0
        case "init":
            guard operands.isEmpty else { return usageError("init takes no operands") }
            return initialize(options)
        case "serve":
            guard operands.isEmpty else { return usageError("serve takes no operands") }
            return serve(options)
        case "status", "nodes", "users", "preauthkeys", "routes", "policy":
            return AdminCommand(options: options).run(command, operands)
        default:
            return usageError("unknown command '" + command + "'")
        }
    }

    // MARK: init / serve

    static func initialize(_ options: Options) -> Int32 {
        do { try Sodium.initialize() } catch { return fail(error.description) }
        let existed = ServerKey.exists(in: options.stateDirectory)
        let opened: (store: RegistryStore, key: PrivateKey)
        do { opened = try open(options) } catch { return fail(error.description) }
        try? opened.store.close()
        print((existed ? "already initialized: " : "initialized: ") + options.stateDirectory)
        print("server key: " + opened.key.publicKey.base64)
        print("IPv4 range: " + opened.store.registry.settings.ipv4Range.description)
        print("IPv6 range: " + opened.store.registry.settings.ipv6Range.description)
        return 0
    }

    static func serve(_ options: Options) -> Int32 {
        do { try Sodium.initialize() } catch { return fail(error.description) }
        let opened: (store: RegistryStore, key: PrivateKey)
        do { opened = try open(options) } catch { return fail(error.description) }
        for warning in opened.store.warnings { ControlService.log("state: " + warning) }
        let openFiles = ProcessLimits.raiseOpenFiles()
        let limits = connectionLimits(openFiles: openFiles)
        if limits.maximumConnections < ConnectionLimits.standard.maximumConnections {
            ControlService.log("at most " + String(limits.maximumConnections) + " connections: the open-file limit is "
                               + String(openFiles) + " (LimitNOFILE= raises it)")
        }
        let service: ControlService
        do {
            service = try ControlService(store: opened.store, stateDirectory: options.stateDirectory, serverKey: opened.key,
                                         listen: options.listen, adminSocket: options.adminSocket, limits: limits)
        } catch {
            return fail(error.description)
        }
        ControlService.log("serving " + String(opened.store.registry.nodeCount) + " nodes on " + options.listen.description
                           + " (server key " + opened.key.publicKey.base64 + ", admin socket " + options.adminSocket + ")")
        do { try service.run() } catch { return fail(error.description) }
        return 0
    }

    /// The standard limits, with room for every connection within the
    /// open-file limit `openFiles` (64 descriptors kept for the state, the
    /// admin socket and the loop: a full server then refuses connections
    /// instead of failing to accept them); tests that run time faster
    /// (`TERN_TEST_TIME_SCALE=N`) get a login deadline N times shorter.
    static func connectionLimits(openFiles: UInt64) -> ConnectionLimits {
        var limits = ConnectionLimits.standard
        if openFiles > 0 {
            let room = openFiles > 128 ? Int(clamping: openFiles - 64) : 64
            limits.maximumConnections = min(limits.maximumConnections, room)
            limits.maximumUnauthenticated = min(limits.maximumUnauthenticated, limits.maximumConnections)
        }
        if let text = getenv("TERN_TEST_TIME_SCALE"), let scale = UInt64(String(cString: text)), scale > 1 {
            limits.loginDeadline = limits.loginDeadline / scale
        }
        return limits
    }

    /// Opens (creating on first use) the registry and the server key.
    static func open(_ options: Options) throws(ServiceError) -> (store: RegistryStore, key: PrivateKey) {
        if mkdir(options.stateDirectory, 0o700) != 0 && tern_errno() != EEXIST {
            throw ServiceError("cannot create " + options.stateDirectory)
        }
        let key = try ServerKey.loadOrCreate(in: options.stateDirectory)
        var random = SystemRandom()
        var settings = NetworkSettings.generate(random: &random)
        if let lifetime = options.keyLifetime { settings.keyLifetime = lifetime }
        do {
            let store = try RegistryStore(directory: options.stateDirectory + "/registry", newNetwork: settings)
            return (store, key)
        } catch {
            throw ServiceError("cannot open the state in " + options.stateDirectory + "/registry: " + error.description)
        }
    }

    static func usageError(_ message: String) -> Int32 {
        writeError("tern-control: " + message + "\n\n" + usage)
        return 2
    }

    static func fail(_ message: String) -> Int32 {
        writeError("tern-control: " + message)
        return 1
    }

    static func writeError(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// Options shared by the commands, taken from anywhere on the line.
struct Options {
    var stateDirectory = "/var/lib/tern-control"
    var listen: Endpoint
    var adminSocket = "/run/tern-control/admin.sock"
    var json = false
    /// `--key-lifetime` for a new network: seconds, or nil for never.
    var keyLifetime: Int64?? = nil

    init() {
        listen = (try? Endpoint("[::]:8080"))!
        if let socket = getenv("TERN_CONTROL_SOCKET") { adminSocket = String(cString: socket) }
    }

    /// Removes the shared options from `arguments`, leaving the command and its operands.
    mutating func extract(from arguments: inout [String]) throws(CommandLineError) {
        var kept: [String] = []
        var scanner = ArgumentScanner(arguments)
        while let argument = scanner.next() {
            switch argument {
            case .positional(let text):
                kept.append(text)
            case .option(let name, let inline):
                switch name {
                case "--state-dir":
                    let value = try scanner.value(of: name, inline: inline)
                    guard value.hasPrefix("/") else { throw CommandLineError("--state-dir must be an absolute path") }
                    stateDirectory = value
                case "--listen":
                    let value = try scanner.value(of: name, inline: inline)
                    guard let endpoint = try? Endpoint(value) else {
                        throw CommandLineError("--listen: expected ADDRESS:PORT like 0.0.0.0:8080 or [::]:8080, not '" + value + "'")
                    }
                    listen = endpoint
                case "--admin-socket":
                    let value = try scanner.value(of: name, inline: inline)
                    guard value.hasPrefix("/") else { throw CommandLineError("--admin-socket must be an absolute path") }
                    adminSocket = value
                case "--json":
                    try scanner.noValue(of: name, inline: inline)
                    json = true
                case "--key-lifetime":
                    let value = try scanner.value(of: name, inline: inline)
                    if value == "never" {
                        keyLifetime = .some(nil)
                    } else if let days = ArgumentScanner.integer(value, in: 1...36500) {
                        keyLifetime = .some(Int64(days) * 86_400)
                    } else {
                        throw CommandLineError("--key-lifetime: expected days (1-36500) or never")
                    }
                default:
                    // Command-specific options stay for the command to read.
                    kept.append(inline.map { name + "=" + $0 } ?? name)
                }
            }
        }
        arguments = kept
    }
}

/// The server's static key: `server.key` in the state directory, mode 0600.
enum ServerKey {
    static let kind = FileKind("SKEY")

    static func path(in directory: String) -> String { directory + "/server.key" }

    static func exists(in directory: String) -> Bool {
        access(path(in: directory), F_OK) == 0
    }

    static func loadOrCreate(in directory: String) throws(ServiceError) -> PrivateKey {
        let file = path(in: directory)
        let stored: StoredFile?
        do { stored = try AtomicFile.readIfPresent(file, kind: kind, supportedVersion: 1) } catch {
            throw ServiceError("cannot read " + file + ": " + error.description)
        }
        if let stored {
            guard let key = try? PrivateKey(base64: String(decoding: stored.payload, as: UTF8.self)) else {
                throw ServiceError(file + " does not hold a key")
            }
            return key
        }
        let key = PrivateKey.generate()
        do { try AtomicFile.write(Array(key.base64.utf8), to: file, kind: kind, version: 1) } catch {
            throw ServiceError("cannot write " + file + ": " + error.description)
        }
        return key
    }
}
