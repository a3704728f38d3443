import IP
import JSON
import TextFormat

/// One `tern` command, parsed and checked, ready to run.
public enum TernCommand: Equatable {
    /// `tern up`: log in (or reconnect with what the daemon remembers).
    case up(TernUpOptions)
    /// `tern status [--json]`.
    case status(json: Bool)
    /// `tern ip [-4|-6] [PEER]`: this node's addresses, or a peer's.
    case ip(family: MeshAddress.Family, peer: String?)
    /// `tern ping PEER [-c COUNT] [--timeout SECONDS]`.
    case ping(TernPingOptions)
    /// `tern down`: disconnect, keep the login.
    case down
    /// `tern logout`: disconnect and forget the login.
    case logout
    /// `tern version` or `--version`.
    case version
    /// `tern help`, `-h` or `--help`.
    case help
}

/// The flags of `tern up`; nil means "not given" (sent as JSON `null`).
public struct TernUpOptions: Equatable {
    /// `--login-server URL`, already checked by `LoginServerURL`.
    public var loginServer: String?
    /// `--auth-key KEY`, `--auth-key file:PATH` or `--auth-key -`: where the key is.
    public var authKey: AuthKeySource?
    /// `--hostname NAME`.
    public var hostname: String?
    /// `--control-key BASE64`: the server's static key, to pin it instead
    /// of trusting the first answer.
    public var controlKey: String?
    /// `--timeout SECONDS`: how long to wait for the login (1...600 s), default 30 s.
    public var timeoutMilliseconds: Int64 = 30_000
    /// `--advertise-routes PREFIXES`: the LAN prefixes to offer (empty: stop offering).
    public var advertiseRoutes: [IPPrefix]?
    /// `--accept-routes[=false]`: use other routers' subnet routes.
    public var acceptRoutes: Bool?
    /// `--snat-subnet-routes=false`: as a router, do not masquerade mesh traffic into the LAN.
    public var snatSubnetRoutes: Bool?

    /// Options with nothing given.
    public init() {}

    /// The body of `POST /v1/up`, with `authKey` the key read from `self.authKey`'s source:
    /// `{"loginServer", "authKey", "hostname", "controlKey"}`, nulls for what was not given,
    /// plus `timeoutMilliseconds` so the daemon waits for the login as long as the CLI does,
    /// and `advertiseRoutes` (prefix strings), `acceptRoutes`, `snatSubnetRoutes` when given.
    public func requestBody(authKey: String?) -> JSONValue {
        var body: JSONValue = [
            "loginServer": TernUpOptions.orNull(loginServer), "authKey": TernUpOptions.orNull(authKey),
            "hostname": TernUpOptions.orNull(hostname), "controlKey": TernUpOptions.orNull(controlKey),
            "timeoutMilliseconds": JSONValue(timeoutMilliseconds)]
        if let advertiseRoutes { body["advertiseRoutes"] = .array(advertiseRoutes.map { .string($0.description) }) }
        if let acceptRoutes { body["acceptRoutes"] = .bool(acceptRoutes) }
        if let snatSubnetRoutes { body["snatSubnetRoutes"] = .bool(snatSubnetRoutes) }
        return body
    }

    private static func orNull(_ text: String?) -> JSONValue {
        guard let text else { return .null }
        return .string(text)
    }
}

/// The flags of `tern ping`.
public struct TernPingOptions: Equatable {
    /// The peer: a name or a mesh address.
    public var peer: String
    /// `-c COUNT`: how many pings (1...100), default 4.
    public var count: Int = 4
    /// `--timeout SECONDS`: how long to wait for each pong (0.1...60 s), default 5 s.
    public var timeoutMilliseconds: Int64 = 5_000

    /// Default options for pinging `peer`.
    public init(peer: String) {
        self.peer = peer
    }

    /// The body of `POST /v1/ping`: `{"peer", "count", "timeoutMilliseconds"}`.
    public var requestBody: JSONValue {
        ["peer": .string(peer), "count": JSONValue(count), "timeoutMilliseconds": JSONValue(timeoutMilliseconds)]
    }
}

/// A whole `tern` command line: the command and where to find the daemon.
public struct TernInvocation: Equatable {
    /// What to do.
    public var command: TernCommand
    /// `--socket PATH` if given (before or after the command).
    public var socketPath: String?

    /// An invocation of `command`, with `socketPath` if given.
    public init(command: TernCommand, socketPath: String? = nil) {
        self.command = command
        self.socketPath = socketPath
    }
}

/// Parses `tern`'s arguments. Pure: no I/O, no environment.
public enum TernCommandLine {
    /// Where `ternd` listens unless `--socket` or `TERN_SOCKET` says otherwise.
    public static let defaultSocketPath = "/run/tern/ternd.sock"

    /// The help text.
    public static let usage = """
        usage: tern [--socket PATH] <command> [flags]

        commands:
          up        connect to the mesh, logging in if needed
                      --login-server URL   the coordination server (http://HOST:PORT)
                      --auth-key file:PATH a pre-authorized key from the server's admin, read
                                           from PATH (one line); --auth-key - reads it from
                                           standard input, --auth-key KEY takes it as given
                                           (other local users can see it there)
                      --hostname NAME      the name to register (default: the host name)
                      --control-key KEY    the server's public key (base64), to pin it
                      --timeout SECONDS    how long to wait for the login (default 30, at most 600)
                      --advertise-routes PREFIXES
                                           offer to route these LAN prefixes (192.168.10.0/24,...)
                                           for the mesh; an admin or the policy approves them;
                                           --advertise-routes= stops offering
                      --accept-routes[=false]
                                           use the subnet routes other nodes offer (default off)
                      --snat-subnet-routes=false
                                           as a router, let LAN hosts see mesh addresses (they
                                           then need a route back to the mesh); default on
                    with no flags: reconnect with the login ternd remembers; flags not
                    given keep their last value
          status    show this node and its peers (--json: the raw status document)
          ip        print this node's mesh addresses, or PEER's (-4 or -6: one family)
          ping      ping PEER (a name or mesh address) through the mesh
                      -c COUNT             how many pings (default 4, at most 100)
                      --timeout SECONDS    how long to wait for each pong (default 5, 0.1 to 60)
          down      disconnect from the mesh, keeping the login
          logout    disconnect and forget the login
          version   print the version
          help      print this help

        --socket PATH   talk to ternd at PATH (default /run/tern/ternd.sock,
                        or $TERN_SOCKET); may come before or after the command
        """

    /// Parses `arguments` (without the program name). Throws a
    /// `CommandLineError` for an unknown command or flag, a missing or bad
    /// value, or a stray argument.
    public static func parse(_ arguments: [String]) throws(CommandLineError) -> TernInvocation {
        var scanner = ArgumentScanner(arguments)
        var socketPath: String?
        var name: String?
        var wantsHelp = false
        var draft = Draft()
        while let argument = scanner.next() {
            switch argument {
            case .option(let option, let inline):
                switch option {
                case "--socket":
                    socketPath = try scanner.value(of: option, inline: inline)
                case "-h", "--help":
                    try scanner.noValue(of: option, inline: inline)
                    wantsHelp = true
                case "--version" where name == nil:
                    try scanner.noValue(of: option, inline: inline)
                    name = "version"
                default:
                    guard let name else { throw CommandLineError("unknown flag " + option + " before the command") }
                    try draft.option(option, inline: inline, command: name, scanner: &scanner)
                }
            case .positional(let word):
                if name == nil {
                    guard knownCommands.contains(word) else { throw CommandLineError("unknown command '" + word + "'") }
                    name = word
                } else {
                    draft.positionals.append(word)
                }
            }
        }
        if wantsHelp { return TernInvocation(command: .help, socketPath: socketPath) }
        guard let name else { throw CommandLineError("no command given") }
        return TernInvocation(command: try draft.command(name), socketPath: socketPath)
    }

    static let knownCommands = ["up", "status", "ip", "ping", "down", "logout", "version", "help"]

    /// What the flags and words after the command said, before checking
    /// they fit the command.
    private struct Draft {
        var up = TernUpOptions()
        var json = false
        var family = MeshAddress.Family.any
        var count: Int?
        var timeoutMilliseconds: Int64?
        var positionals: [String] = []

        mutating func option(_ option: String, inline: String?, command: String,
                             scanner: inout ArgumentScanner) throws(CommandLineError) {
            switch (command, option) {
            case ("up", "--login-server"):
                up.loginServer = try LoginServerURL.validate(scanner.value(of: option, inline: inline))
            case ("up", "--auth-key"):
                up.authKey = try AuthKeySource.parse(scanner.value(of: option, inline: inline))
            case ("up", "--hostname"):
                up.hostname = try scanner.value(of: option, inline: inline)
            case ("up", "--control-key"):
                let key = try scanner.value(of: option, inline: inline)
                guard TernCommandLine.looksLikeBase64(key) else {
                    throw CommandLineError("--control-key must be a base64 public key, not '" + key + "'")
                }
                up.controlKey = key
            case ("up", "--advertise-routes"):
                // An empty value (`--advertise-routes=`) stops advertising.
                var text = ""
                if let inline { text = inline } else { text = try scanner.value(of: option, inline: nil) }
                do { up.advertiseRoutes = try SubnetRoute.parseList(text) } catch {
                    throw CommandLineError(option + ": " + error.description)
                }
                if let problem = SubnetRoute.problem(with: up.advertiseRoutes!, meshRanges: [SubnetRoute.defaultMeshIPv4Range]) {
                    throw CommandLineError(option + ": " + problem)
                }
            case ("up", "--accept-routes"):
                up.acceptRoutes = try scanner.boolean(of: option, inline: inline)
            case ("up", "--snat-subnet-routes"):
                up.snatSubnetRoutes = try scanner.boolean(of: option, inline: inline)
            case ("up", "--timeout"):
                let text = try scanner.value(of: option, inline: inline)
                // ternd waits at most 10 minutes for a login.
                guard let value = ArgumentScanner.milliseconds(fromSeconds: text, in: 1_000...600_000) else {
                    throw CommandLineError("--timeout needs a number of seconds between 1 and 600, not '" + text + "'")
                }
                timeoutMilliseconds = value
            case ("ping", "--timeout"):
                let text = try scanner.value(of: option, inline: inline)
                // ternd waits 0.1 s to 60 s for each pong.
                guard let value = ArgumentScanner.milliseconds(fromSeconds: text, in: 100...60_000) else {
                    throw CommandLineError("--timeout needs a number of seconds between 0.1 and 60, not '" + text + "'")
                }
                timeoutMilliseconds = value
            case ("status", "--json"):
                try scanner.noValue(of: option, inline: inline)
                json = true
            case ("ip", "-4"), ("ip", "-6"):
                try scanner.noValue(of: option, inline: inline)
                let wanted: MeshAddress.Family = option == "-4" ? .ipv4 : .ipv6
                guard family == .any || family == wanted else { throw CommandLineError("give -4 or -6, not both") }
                family = wanted
            case ("ping", "-c"), ("ping", "--count"):
                let text = try scanner.value(of: option, inline: inline)
                guard let value = ArgumentScanner.integer(text, in: 1...100) else {
                    throw CommandLineError(option + " needs a count between 1 and 100, not '" + text + "'")
                }
                count = value
            default:
                throw CommandLineError("unknown flag " + option + " for 'tern " + command + "'")
            }
        }

        func command(_ name: String) throws(CommandLineError) -> TernCommand {
            switch name {
            case "up":
                try noPositionals(name)
                var options = up
                if let timeoutMilliseconds { options.timeoutMilliseconds = timeoutMilliseconds }
                return .up(options)
            case "status":
                try noPositionals(name)
                return .status(json: json)
            case "ip":
                guard positionals.count <= 1 else { throw CommandLineError("'tern ip' takes at most one peer") }
                return .ip(family: family, peer: positionals.first)
            case "ping":
                guard positionals.count == 1 else {
                    throw CommandLineError(positionals.isEmpty ? "'tern ping' needs a peer name or address"
                                                               : "'tern ping' takes one peer")
                }
                var options = TernPingOptions(peer: positionals[0])
                if let count { options.count = count }
                if let timeoutMilliseconds { options.timeoutMilliseconds = timeoutMilliseconds }
                return .ping(options)
            case "down":
                try noPositionals(name)
                return .down
            case "logout":
                try noPositionals(name)
                return .logout
            case "version":
                try noPositionals(name)
                return .version
            default:
                return .help
            }
        }

        private func noPositionals(_ name: String) throws(CommandLineError) {
            if let first = positionals.first {
                throw CommandLineError("unexpected argument '" + first + "' for 'tern " + name + "'")
            }
        }
    }

    /// True for text made of base64 characters (standard or URL-safe),
    /// padding only at the end; the daemon decodes it properly.
    static func looksLikeBase64(_ text: String) -> Bool {
        var padding = false
        var count = 0
        for byte in text.utf8 {
            count += 1
            if byte == UInt8(ascii: "=") {
                padding = true
                continue
            }
            guard !padding else { return false }
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            default:
                return false
            }
        }
        return count >= 4
    }
}
