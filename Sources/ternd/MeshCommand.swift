import Node
import TernCrypto

/// `ternd` in mesh mode: parses its options and runs the daemon.
enum MeshCommand {
    static let options = ["--state-dir", "--socket", "--tun", "--port"]

    static func run(_ arguments: [String]) -> Int32 {
        var mesh = MeshOptions()
        var index = 0
        while index < arguments.count {
            var name = arguments[index]
            var value: String? = nil
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard options.contains(name) else {
                Ternd.writeError("ternd: unexpected argument '" + arguments[index] + "'\n\n" + Ternd.usage)
                return 2
            }
            index += 1
            if value == nil {
                guard index < arguments.count else {
                    Ternd.writeError("ternd: " + name + " needs a value")
                    return 2
                }
                value = arguments[index]
                index += 1
            }
            let text = value!
            switch name {
            case "--state-dir":
                guard text.hasPrefix("/") else { Ternd.writeError("ternd: --state-dir must be an absolute path"); return 2 }
                mesh.stateDirectory = text
            case "--socket":
                guard text.hasPrefix("/") else { Ternd.writeError("ternd: --socket must be an absolute path"); return 2 }
                mesh.socketPath = text
            case "--tun":
                guard Ternd.isValidInterfaceName(text) else {
                    Ternd.writeError("ternd: invalid interface name '" + text + "' (1-15 characters, no '/' or spaces)")
                    return 2
                }
                mesh.interface = text
            default:
                guard let port = UInt16(text) else { Ternd.writeError("ternd: --port: expected 0-65535"); return 2 }
                mesh.port = port
            }
        }
        mesh.timeScale = UInt64(Ternd.environment("TERN_TEST_TIME_SCALE") ?? "") ?? 1
        guard let directory = Ternd.wgSocketDirectory() else { return 2 }
        mesh.wgSocketDirectory = directory
        do { try Sodium.initialize() } catch {
            Ternd.writeError("ternd: " + error.description)
            return 1
        }
        let daemon: MeshDaemon
        do { daemon = try MeshDaemon(options: mesh) } catch {
            Ternd.writeError("ternd: " + error.description)
            return 1
        }
        Ternd.writeError("ternd: mesh mode on " + mesh.interface + ", state in " + mesh.stateDirectory
                         + ", local API at " + mesh.socketPath)
        do { try daemon.run() } catch {
            Ternd.writeError("ternd: " + error.description)
            return 1
        }
        return 0
    }
}
