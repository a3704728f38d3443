import LocalAPI
import TernCLI
import TextFormat

/// `tern`: the command-line client of `ternd`'s local API.
enum Tern {
    static let version = "0.1.0"

    /// Runs the command line (`arguments[0]` is the program) and returns
    /// the exit status: 0 done, 1 failed (daemon down, daemon said no, no
    /// pong), 2 bad usage.
    static func run(_ arguments: [String]) -> Int32 {
        let invocation: TernInvocation
        do throws(CommandLineError) {
            invocation = try TernCommandLine.parse(Array(arguments.dropFirst()))
        } catch {
            Console.error("tern: " + error.message + "\n\n" + TernCommandLine.usage)
            return 2
        }
        switch invocation.command {
        case .version:
            Console.line("tern " + version)
            return 0
        case .help:
            Console.line(TernCommandLine.usage)
            return 0
        default:
            break
        }
        let path = invocation.socketPath ?? Console.environment("TERN_SOCKET") ?? TernCommandLine.defaultSocketPath
        let commands = Commands(client: LocalAPIClient(socketPath: path, daemonName: "ternd"))
        switch invocation.command {
        case .up(let options): return commands.up(options)
        case .status(let json): return commands.status(json: json)
        case .ip(let family, let peer): return commands.ip(family: family, peer: peer)
        case .ping(let options): return commands.ping(options)
        case .down: return commands.simple("/v1/down", done: "Disconnected; run 'tern up' to reconnect.")
        case .logout: return commands.logout()
        case .version, .help: return 0
        }
    }
}
