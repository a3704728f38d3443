import IP
import JSON
@testable import LocalAPI
import TernCLI
import Testing
import TextFormat

func parse(_ line: String) throws(CommandLineError) -> TernInvocation {
    try TernCommandLine.parse(line.split(separator: " ").map(String.init))
}

func usageError(_ line: String) -> String? {
    do {
        _ = try parse(line)
        return nil
    } catch {
        return error.message
    }
}

@Suite("tern command line")
struct CommandLineTests {
    @Test func scanner() throws {
        var scanner = ArgumentScanner(["--a=1", "-c", "5", "word", "-", "--", "--not-a-flag", "-x=", "--b"])
        #expect(scanner.next() == .option(name: "--a", inline: "1"))
        #expect(scanner.next() == .option(name: "-c", inline: nil))
        #expect(try scanner.value(of: "-c", inline: nil) == "5")
        #expect(scanner.next() == .positional("word"))
        #expect(scanner.next() == .positional("-"))
        #expect(scanner.next() == .positional("--not-a-flag"))
        #expect(scanner.next() == .positional("-x="))
        #expect(scanner.next() == .positional("--b"))
        #expect(scanner.next() == nil)

        var values = ArgumentScanner(["--x=", "--y"])
        #expect(values.next() == .option(name: "--x", inline: ""))
        #expect(throws: CommandLineError("--x needs a non-empty value")) { try values.value(of: "--x", inline: "") }
        #expect(values.next() == .option(name: "--y", inline: nil))
        #expect(throws: CommandLineError("--y needs a value")) { try values.value(of: "--y", inline: nil) }
    }

    @Test func numbers() {
        #expect(ArgumentScanner.integer("42", in: 1...100) == 42)
        #expect(ArgumentScanner.integer("0", in: 1...100) == nil)
        #expect(ArgumentScanner.integer("-3", in: -10...10) == nil)
        #expect(ArgumentScanner.integer("1e3", in: 1...10000) == nil)
        #expect(ArgumentScanner.integer("", in: 0...1) == nil)
        #expect(ArgumentScanner.integer("99999999999999", in: 0...Int.max) == nil)
        #expect(ArgumentScanner.milliseconds(fromSeconds: "30", in: 1...100_000) == 30_000)
        #expect(ArgumentScanner.milliseconds(fromSeconds: "1.5", in: 1...100_000) == 1_500)
        #expect(ArgumentScanner.milliseconds(fromSeconds: "0.25", in: 1...100_000) == 250)
        #expect(ArgumentScanner.milliseconds(fromSeconds: ".5", in: 1...100_000) == 500)
        #expect(ArgumentScanner.milliseconds(fromSeconds: "0.0001", in: 0...100_000) == nil)
        #expect(ArgumentScanner.milliseconds(fromSeconds: "0", in: 1...100_000) == nil)
        #expect(ArgumentScanner.milliseconds(fromSeconds: "1.2.3", in: 1...100_000) == nil)
        #expect(ArgumentScanner.milliseconds(fromSeconds: ".", in: 0...100_000) == nil)
        #expect(ArgumentScanner.milliseconds(fromSeconds: "5s", in: 0...100_000) == nil)
    }

    @Test func up() throws {
        let full = try parse("up --login-server http://10.0.0.1:8080 --auth-key=tskey-1 --hostname pi --timeout 45")
        var expected = TernUpOptions()
        expected.loginServer = "http://10.0.0.1:8080"
        expected.authKey = .literal("tskey-1")
        expected.hostname = "pi"
        expected.timeoutMilliseconds = 45_000
        #expect(full == TernInvocation(command: .up(expected)))
        #expect(expected.requestBody(authKey: "tskey-1") == ["loginServer": "http://10.0.0.1:8080", "authKey": "tskey-1",
                                         "hostname": "pi", "controlKey": nil, "timeoutMilliseconds": 45000])
        #expect(expected.requestBody(authKey: "tskey-1").compactText
            == #"{"loginServer":"http://10.0.0.1:8080","authKey":"tskey-1","hostname":"pi","controlKey":null,"timeoutMilliseconds":45000}"#)

        let bare = try parse("up")
        #expect(bare == TernInvocation(command: .up(TernUpOptions())))
        #expect(TernUpOptions().requestBody(authKey: nil) == ["loginServer": nil, "authKey": nil, "hostname": nil, "controlKey": nil,
                                                "timeoutMilliseconds": 30000])
        if case .up(let options) = bare.command { #expect(options.timeoutMilliseconds == 30_000) }

        let keyed = try parse("up --login-server=http://[fd00::1]:80/ --control-key bXlrZXk=")
        if case .up(let options) = keyed.command {
            #expect(options.controlKey == "bXlrZXk=")
            #expect(options.loginServer == "http://[fd00::1]:80/")
        } else {
            Issue.record("not up")
        }
    }

    // The key may come from a file or standard input, out of /proc/PID/cmdline.
    @Test func authKeySources() throws {
        func source(_ line: String) throws -> AuthKeySource? {
            guard case .up(let options) = try parse(line).command else { return nil }
            return options.authKey
        }
        #expect(try source("up --auth-key tskey-1") == .literal("tskey-1"))
        #expect(try source("up --auth-key file:/etc/tern/key") == .file(path: "/etc/tern/key"))
        #expect(try source("up --auth-key=file:relative/key") == .file(path: "relative/key"))
        #expect(try source("up --auth-key -") == .standardInput)
        #expect(try source("up --auth-key=-") == .standardInput)
        #expect(try source("up") == nil)
        #expect(usageError("up --auth-key file:") == "--auth-key file: needs a path after 'file:'")
        #expect(usageError("up --auth-key=") == "--auth-key needs a non-empty value")
        // A lone - after --auth-key is its value, not a stray positional.
        #expect(usageError("up --auth-key - extra") == "unexpected argument 'extra' for 'tern up'")
    }

    @Test func authKeyContents() throws {
        let file = AuthKeySource.file(path: "/k")
        #expect(try file.key(from: Array("tskey-abc\n".utf8)) == "tskey-abc")
        #expect(try file.key(from: Array("tskey-abc\r\n".utf8)) == "tskey-abc")
        #expect(try file.key(from: Array("tskey-abc".utf8)) == "tskey-abc")
        #expect(try AuthKeySource.standardInput.key(from: Array("k\n".utf8)) == "k")
        #expect(throws: CommandLineError("the auth key file /k holds no auth key (it is empty)")) {
            try file.key(from: [])
        }
        #expect(throws: CommandLineError("standard input holds no auth key (it is empty)")) {
            try AuthKeySource.standardInput.key(from: Array("\n".utf8))
        }
        // Only one newline is trimmed: a second line is refused, not joined or cut.
        #expect(throws: CommandLineError.self) { try file.key(from: Array("tskey-abc\n\n".utf8)) }
        #expect(throws: CommandLineError.self) { try file.key(from: Array("tskey-abc\nsecond\n".utf8)) }
        #expect(throws: CommandLineError.self) { try file.key(from: Array("tab\tkey".utf8)) }
        #expect(throws: CommandLineError("the auth key file /k is not UTF-8 text")) { try file.key(from: [0x74, 0xff, 0x6b]) }
        let largest = [UInt8](repeating: UInt8(ascii: "k"), count: AuthKeySource.maximumBytes)
        #expect(try file.key(from: largest).utf8.count == AuthKeySource.maximumBytes)
        #expect(throws: CommandLineError("the auth key file /k is larger than 4096 bytes; it does not hold an auth key")) {
            try file.key(from: largest + [UInt8(ascii: "k")])
        }
    }

    @Test func subnetRouteFlags() throws {
        guard case .up(let router) = try parse("up --advertise-routes 192.168.10.0/24,10.1.0.0/16 --snat-subnet-routes=false").command else {
            Issue.record("not up")
            return
        }
        #expect(router.advertiseRoutes == [try IPPrefix("192.168.10.0/24"), try IPPrefix("10.1.0.0/16")])
        #expect(router.snatSubnetRoutes == false && router.acceptRoutes == nil)
        #expect(router.requestBody(authKey: nil)["advertiseRoutes"] == ["192.168.10.0/24", "10.1.0.0/16"])
        #expect(router.requestBody(authKey: nil)["snatSubnetRoutes"] == false)
        #expect(router.requestBody(authKey: nil)["acceptRoutes"] == nil)

        guard case .up(let client) = try parse("up --accept-routes --advertise-routes=").command else {
            Issue.record("not up")
            return
        }
        #expect(client.acceptRoutes == true && client.advertiseRoutes == [])
        #expect(client.requestBody(authKey: nil)["advertiseRoutes"] == [])
        if case .up(let off) = try parse("up --accept-routes=false").command { #expect(off.acceptRoutes == false) }

        #expect(usageError("up --advertise-routes 192.168.10.1/24")
            == "--advertise-routes: '192.168.10.1/24' has host bits set; did you mean 192.168.10.0/24?")
        #expect(usageError("up --advertise-routes 100.64.0.0/16")
            == "--advertise-routes: 100.64.0.0/16 overlaps the mesh's own range 100.64.0.0/10")
        #expect(usageError("up --advertise-routes 0.0.0.0/0")?.contains("default route") == true)
        #expect(usageError("up --accept-routes=maybe") == "--accept-routes is a switch: give it alone, or =true or =false")
        #expect(usageError("status --accept-routes") != nil)
    }

    @Test(arguments: [
        "https://ctl.example", "ctl.example:8080", "http://", "http://:8080", "http://host:0",
        "http://host:65536", "http://host:port", "http://user@host", "http://[fd00::1", "http://[::1]x",
        "ftp://x", "http://ho st",
    ])
    func badLoginServers(url: String) {
        #expect(throws: CommandLineError.self) { try LoginServerURL.validate(url) }
        #expect(throws: CommandLineError.self) { try TernCommandLine.parse(["up", "--login-server", url]) }
    }

    @Test(arguments: ["http://10.0.0.1:8080", "HTTP://ctl.example", "http://ctl/", "http://[::1]:9", "http://h:65535/x?y"])
    func goodLoginServers(url: String) throws {
        #expect(try LoginServerURL.validate(url) == url)
    }

    @Test func otherCommands() throws {
        #expect(try parse("status").command == .status(json: false))
        #expect(try parse("status --json") == TernInvocation(command: .status(json: true)))
        #expect(try parse("ip").command == .ip(family: .any, peer: nil))
        #expect(try parse("ip -4 laptop").command == .ip(family: .ipv4, peer: "laptop"))
        #expect(try parse("ip laptop -6").command == .ip(family: .ipv6, peer: "laptop"))
        #expect(try parse("down").command == .down)
        #expect(try parse("logout").command == .logout)
        #expect(try parse("version").command == .version)
        #expect(try parse("--version").command == .version)
        #expect(try parse("help").command == .help)
        #expect(try parse("-h").command == .help)
        #expect(try parse("status --help").command == .help)

        var ping = TernPingOptions(peer: "laptop")
        #expect(try parse("ping laptop").command == .ping(ping))
        ping.count = 3
        ping.timeoutMilliseconds = 1500
        #expect(try parse("ping -c 3 laptop --timeout=1.5").command == .ping(ping))
        #expect(try parse("ping --count=3 --timeout 1.5 laptop").command == .ping(ping))
        #expect(ping.requestBody == ["peer": "laptop", "count": 3, "timeoutMilliseconds": 1500])
    }

    // --socket goes before or after the command, in either spelling.
    @Test func socketFlag() throws {
        #expect(try parse("--socket /tmp/a.sock status") == TernInvocation(command: .status(json: false), socketPath: "/tmp/a.sock"))
        #expect(try parse("status --socket=/tmp/b.sock").socketPath == "/tmp/b.sock")
        #expect(try parse("ping nas --socket /tmp/c.sock -c 1").socketPath == "/tmp/c.sock")
        #expect(try parse("status").socketPath == nil)
        #expect(TernCommandLine.defaultSocketPath == "/run/tern/ternd.sock")
    }

    @Test func usageErrors() {
        #expect(usageError("") == "no command given")
        #expect(usageError("frobnicate") == "unknown command 'frobnicate'")
        #expect(usageError("--json status") == "unknown flag --json before the command")
        #expect(usageError("status --verbose") == "unknown flag --verbose for 'tern status'")
        #expect(usageError("status --json=yes") == "--json takes no value")
        #expect(usageError("status extra") == "unexpected argument 'extra' for 'tern status'")
        #expect(usageError("up --auth-key") == "--auth-key needs a value")
        #expect(usageError("up --timeout soon") == "--timeout needs a number of seconds between 1 and 600, not 'soon'")
        #expect(usageError("up --timeout 0.5") != nil)
        #expect(usageError("up --timeout 601") != nil)
        #expect(usageError("ping a --timeout 0.05") == "--timeout needs a number of seconds between 0.1 and 60, not '0.05'")
        #expect(usageError("ping a --timeout 61") != nil)
        #expect(usageError("ping a -c 101") != nil)
        #expect(usageError("up --control-key not*base64") == "--control-key must be a base64 public key, not 'not*base64'")
        #expect(usageError("ip -4 -6") == "give -4 or -6, not both")
        #expect(usageError("ip a b") == "'tern ip' takes at most one peer")
        #expect(usageError("ping") == "'tern ping' needs a peer name or address")
        #expect(usageError("ping a b") == "'tern ping' takes one peer")
        #expect(usageError("ping a -c 0") == "-c needs a count between 1 and 100, not '0'")
        #expect(usageError("ping a -c") == "-c needs a value")
        #expect(usageError("down --json") == "unknown flag --json for 'tern down'")
        #expect(usageError("--socket") == "--socket needs a value")
        #expect(usageError("up --json") == "unknown flag --json for 'tern up'")
    }
}
