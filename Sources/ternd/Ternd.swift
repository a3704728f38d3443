import CTern
import SelfTest
import TernCrypto

/// `ternd`: the Tern node daemon. Today it carries the crypto self-test that
/// proves each shipped binary (amd64, arm64, armhf) computes correctly.
enum Ternd {
    static let version = "0.1.0"

    static let usage = """
        usage: ternd <command>

        commands:
          selftest    run the known-answer tests of every primitive and exit
                      non-zero on any mismatch
          version     print the version
          help        print this help
        """

    /// Runs the command line and returns the process exit status.
    static func run(_ arguments: [String]) -> Int32 {
        let command = arguments.count > 1 ? arguments[1] : ""
        switch command {
        case "selftest" where arguments.count == 2:
            return selfTest()
        case "version", "--version":
            print("ternd " + version)
            return 0
        case "help", "--help", "-h":
            print(usage)
            return 0
        case "":
            writeError(usage)
            return 2
        case "selftest":
            writeError("ternd: selftest takes no arguments")
            return 2
        default:
            writeError("ternd: unknown command '" + command + "'\n\n" + usage)
            return 2
        }
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
