import CTern
import Coordinator
import IP
import JSON
import LocalAPI
import TextFormat

/// The admin subcommands: each is one request to the running server's admin
/// socket, printed as the server's table or, with `--json`, as JSON.
struct AdminCommand {
    let options: Options
    var client: LocalAPIClient { LocalAPIClient(socketPath: options.adminSocket, daemonName: "tern-control") }

    func run(_ command: String, _ operands: [String]) -> Int32 {
        let verb = operands.first ?? (command == "status" ? "" : "list")
        let rest = Array(operands.dropFirst())
        switch (command, verb) {
        case ("status", ""):
            return show("/v1/status", text: false)
        case ("nodes", "list"), ("users", "list"), ("preauthkeys", "list"), ("routes", "list"):
            guard rest.isEmpty else { return TernControl.usageError(command + " list takes no operands") }
            return show("/v1/" + command, text: true)
        case ("nodes", "rename"):
            guard rest.count == 2 else { return TernControl.usageError("usage: nodes rename NODE NEWNAME") }
            return change("/v1/nodes/rename", ["node": .string(rest[0]), "name": .string(rest[1])],
                          "renamed " + rest[0] + " to " + rest[1])
        case ("nodes", "expire"), ("nodes", "delete"):
            guard rest.count == 1 else { return TernControl.usageError("usage: nodes " + verb + " NODE") }
            return change("/v1/nodes/" + verb, ["node": .string(rest[0])], (verb == "expire" ? "expired " : "deleted ") + rest[0])
        case ("nodes", "expiry"):
            guard rest.count == 2, rest[1] == "--disable" || rest[1] == "--enable" else {
                return TernControl.usageError("usage: nodes expiry NODE --disable|--enable")
            }
            let disable = rest[1] == "--disable"
            return change("/v1/nodes/expiry", ["node": .string(rest[0]), "disabled": .bool(disable)],
                          "key expiry of " + rest[0] + (disable ? " disabled" : " enabled"))
        case ("users", "create"), ("users", "delete"):
            guard rest.count == 1 else { return TernControl.usageError("usage: users " + verb + " NAME") }
            return change("/v1/users/" + verb, ["name": .string(rest[0])], (verb == "create" ? "created user " : "deleted user ") + rest[0])
        case ("preauthkeys", "create"):
            return createKey(rest)
        case ("routes", "approve"), ("routes", "reject"):
            let usage = "usage: routes " + verb + " NODE PREFIX[,PREFIX...]|--all"
            guard rest.count == 2 else { return TernControl.usageError(usage) }
            var body: JSONValue = ["node": .string(rest[0])]
            if rest[1] == "--all" {
                body["all"] = true
            } else {
                let prefixes: [IPPrefix]
                do { prefixes = try SubnetRoute.parseList(rest[1]) } catch { return TernControl.usageError(error.description) }
                guard !prefixes.isEmpty else { return TernControl.usageError(usage) }
                body["prefixes"] = .array(prefixes.map { .string($0.description) })
            }
            return change("/v1/routes/" + verb, body, (verb == "approve" ? "approved " : "rejected ")
                          + (rest[1] == "--all" ? "every advertised route" : rest[1]) + " for " + rest[0])
        case ("policy", "get"):
            guard rest.isEmpty, let answer = request("GET", "/v1/policy", nil) else {
                return rest.isEmpty ? 1 : TernControl.usageError("usage: policy get")
            }
            if options.json { print(JSONSerializer.string(answer, style: .pretty)) }
            else { print(answer["text"]?.string ?? "(no policy: every node may reach every other)", terminator: answer["text"]?.string == nil ? "\n" : "") }
            return 0
        case ("policy", "set"), ("policy", "check"):
            guard rest.count == 1 else { return TernControl.usageError("usage: policy " + verb + " FILE") }
            guard let text = AdminCommand.readText(rest[0]) else {
                TernControl.writeError("tern-control: cannot read " + rest[0])
                return 1
            }
            guard let answer = request("POST", "/v1/policy", ["text": .string(text), "dryRun": .bool(verb == "check")]) else { return 1 }
            if options.json { print(JSONSerializer.string(answer, style: .pretty)); return answer["passed"]?.bool == false ? 1 : 0 }
            var report = answer["report"]?.string ?? ""
            while report.hasSuffix("\n") { report.removeLast() }
            if !report.isEmpty { print(report) }
            if verb == "set" { print("policy in force") }
            return answer["passed"]?.bool == false ? 1 : 0
        case ("preauthkeys", "revoke"):
            guard rest.count == 1, let id = UInt64(rest[0]) else { return TernControl.usageError("usage: preauthkeys revoke ID") }
            return change("/v1/preauthkeys/revoke", ["id": .number(JSONNumber(id))], "revoked pre-auth key " + rest[0])
        default:
            return TernControl.usageError("unknown command '" + command + (verb.isEmpty ? "" : " " + verb) + "'")
        }
    }

    private func createKey(_ arguments: [String]) -> Int32 {
        var user: String?
        var reusable = false
        var expiration: Int64?
        var tags: [JSONValue] = []
        var scanner = ArgumentScanner(arguments)
        do throws(CommandLineError) {
            while let argument = scanner.next() {
                switch argument {
                case .positional(let text):
                    throw CommandLineError("unexpected '" + text + "'")
                case .option(let name, let inline):
                    switch name {
                    case "--user": user = try scanner.value(of: name, inline: inline)
                    case "--reusable":
                        try scanner.noValue(of: name, inline: inline)
                        reusable = true
                    case "--expiration":
                        let text = try scanner.value(of: name, inline: inline)
                        guard let seconds = PreAuthKeyExpiry.seconds(fromDuration: text) else {
                            throw CommandLineError("--expiration: expected a duration like 30m, 12h or 7d")
                        }
                        expiration = seconds
                    case "--tags":
                        for tag in try scanner.value(of: name, inline: inline).split(separator: ",") {
                            tags.append(.string(String(tag)))
                        }
                    default: throw CommandLineError("unknown option " + name)
                    }
                }
            }
        } catch {
            return TernControl.usageError(error.message)
        }
        guard let user else { return TernControl.usageError("preauthkeys create needs --user NAME") }
        let body: JSONValue = ["user": .string(user), "reusable": .bool(reusable),
                               "expiresInSeconds": expiration.map { .number(JSONNumber($0)) } ?? nil, "tags": .array(tags)]
        guard let answer = request("POST", "/v1/preauthkeys/create", body) else { return 1 }
        if options.json {
            print(JSONSerializer.string(answer, style: .pretty))
        } else {
            print(answer["key"]?.string ?? "")
        }
        return 0
    }

    /// The contents of a text file of at most 1 MiB, or nil.
    static func readText(_ path: String) -> String? {
        let fd = tern_open(path, O_RDONLY | O_CLOEXEC, 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && tern_errno() == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += chunk[0..<count]
        }
        return nil
    }

    private func show(_ path: String, text: Bool) -> Int32 {
        guard let answer = request("GET", path, nil) else { return 1 }
        if !text {
            if options.json {
                print(JSONSerializer.string(answer, style: .pretty))
            } else {
                for member in answer.object?.members ?? [] {
                    let value = member.value.string ?? JSONSerializer.string(member.value)
                    print(member.key + ": " + value)
                }
            }
        } else if options.json {
            print(JSONSerializer.string(answer["json"] ?? nil, style: .pretty))
        } else {
            print(answer["text"]?.string ?? "", terminator: "")
        }
        return 0
    }

    private func change(_ path: String, _ body: JSONValue, _ confirmation: String) -> Int32 {
        guard let answer = request("POST", path, body) else { return 1 }
        print(options.json ? JSONSerializer.string(answer, style: .pretty) : confirmation)
        return 0
    }

    /// One exchange; prints the error and returns nil on failure.
    private func request(_ method: String, _ path: String, _ body: JSONValue?) -> JSONValue? {
        do {
            let answer = try client.request(method: method, path: path, body: body, timeoutMilliseconds: 10_000)
            guard answer.status >= 200 && answer.status < 300 else {
                TernControl.writeError("tern-control: " + LocalAPIErrorBody.message(in: answer.body, status: answer.status))
                return nil
            }
            return answer.body
        } catch {
            TernControl.writeError("tern-control: " + error.message)
            return nil
        }
    }
}
