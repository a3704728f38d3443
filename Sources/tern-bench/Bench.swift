import CBenchBaseline
import CTern
import TernCrypto

/// `tern-bench crypto`: throughput of Tern's in-place AEAD against a plain C
/// loop over libsodium in the same process, plus BLAKE2s and X25519 rates.
/// `tern-bench handshake`: handshakes per second one responder completes.
/// `tern-bench filter`: nanoseconds per inbound packet of the packet filter
/// against a linear scan of its rules (FilterBench.swift).
///
/// Each measurement runs for about `seconds` and is repeated `rounds` times,
/// alternating Tern and C; the best round of each is kept, which filters out
/// scheduler noise on a shared machine.

struct Options {
    var seconds = 0.25
    var rounds = 5
    /// `filter` only: the one rule count to measure (nil: 10, 100 and 1,000).
    var rules: Int? = nil
}

func fail(_ message: String) -> Never {
    var line = "tern-bench: " + message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func parseOptions(_ arguments: ArraySlice<String>) -> Options {
    var options = Options()
    var rest = arguments
    while let flag = rest.popFirst() {
        guard let value = rest.popFirst(), let number = Int(value), number > 0 else {
            fail("expected a positive integer after " + flag)
        }
        switch flag {
        case "--milliseconds": options.seconds = Double(number) / 1000
        case "--rounds": options.rounds = number
        case "--rules": options.rules = number
        default: fail("unknown option " + flag)
        }
    }
    return options
}

/// Fixed-point formatting without Foundation: `value` with `decimals` digits.
func format(_ value: Double, decimals: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    let whole = scaled / Int(scale)
    var fraction = String(abs(scaled) % Int(scale))
    while fraction.count < decimals { fraction = "0" + fraction }
    return decimals == 0 ? String(whole) : String(whole) + "." + fraction
}

func pad(_ text: String, _ width: Int) -> String {
    var out = text
    while out.count < width { out = " " + out }
    return out
}

/// Iterations that take roughly `seconds`, found by doubling a trial run.
func calibrate(seconds: Double, _ body: (UInt64) -> UInt64) -> UInt64 {
    var iterations: UInt64 = 64
    while true {
        let elapsed = body(iterations)
        if Double(elapsed) >= seconds * 1e9 / 4 || iterations >= 1 << 30 {
            return max(1, UInt64(Double(iterations) * seconds * 1e9 / Double(max(elapsed, 1))))
        }
        iterations *= 2
    }
}

/// Best-of-`rounds` nanoseconds per operation for two alternating bodies.
func race(_ options: Options, tern: (UInt64) -> UInt64, c: (UInt64) -> UInt64) -> (tern: Double, c: Double) {
    let iterations = calibrate(seconds: options.seconds, c)
    var bestTern = Double.infinity, bestC = Double.infinity
    for _ in 0..<options.rounds {
        let t = tern(iterations), b = c(iterations)
        guard t > 0, b > 0 else { fail("an open failed during the benchmark") }
        bestTern = min(bestTern, Double(t) / Double(iterations))
        bestC = min(bestC, Double(b) / Double(iterations))
    }
    return (bestTern, bestC)
}

func benchAEAD(_ options: Options) {
    let key = SymmetricKey(bytes: Random.bytes32())
    var rawKey = [UInt8](repeating: 0, count: 32)
    for i in 0..<32 { rawKey[i] = key.bytes[i] }
    print("ChaCha20-Poly1305 in place (MB/s, best of " + String(options.rounds) + "; ratio = Tern / C)")
    print("  size      Tern seal     C seal  ratio    Tern open     C open  ratio")
    for size in [64, 512, 1420] {
        var buffer = [UInt8](repeating: 0xAB, count: size + 16)
        var sealed = buffer
        sealed.withUnsafeMutableBytes { _ = ChaChaPoly.seal($0, plaintextLength: size, counter: 0, key: key) }

        let seal = buffer.withUnsafeMutableBytes { buffer in
            race(options, tern: { iterations in
                let start = tern_monotonic_ns()
                for i in 0..<iterations { ChaChaPoly.seal(buffer, plaintextLength: size, counter: i, key: key) }
                return tern_monotonic_ns() - start
            }, c: { iterations in
                tern_baseline_seal(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), size, rawKey, iterations)
            })
        }
        let open = buffer.withUnsafeMutableBytes { buffer in
            sealed.withUnsafeBytes { sealed in
                race(options, tern: { iterations in
                    var ok = true
                    let start = tern_monotonic_ns()
                    for _ in 0..<iterations {
                        buffer.copyMemory(from: sealed)
                        ok = ok && (try? ChaChaPoly.open(buffer, sealedLength: size + 16, counter: 0, key: key)) != nil
                    }
                    let elapsed = tern_monotonic_ns() - start
                    return ok ? elapsed : 0
                }, c: { iterations in
                    tern_baseline_open(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                       sealed.baseAddress!.assumingMemoryBound(to: UInt8.self), size, rawKey,
                                       iterations)
                })
            }
        }
        func rate(_ nanoseconds: Double) -> String { pad(format(Double(size) * 1e3 / nanoseconds), 10) }
        print(pad(String(size), 6) + "  " + rate(seal.tern) + " " + rate(seal.c) + "  " + format(seal.c / seal.tern, decimals: 3)
              + "   " + rate(open.tern) + " " + rate(open.c) + "  " + format(open.c / open.tern, decimals: 3))
    }
}

/// Keeps a benchmark's result alive so the optimiser cannot delete the work.
nonisolated(unsafe) var benchmarkSink: UInt8 = 0

@inline(never)
func keep(_ byte: UInt8) { benchmarkSink ^= byte }

/// Best-of-`rounds` nanoseconds per call of `body`.
func measure(_ options: Options, _ body: () -> Void) -> Double {
    func timed(_ iterations: UInt64) -> UInt64 {
        let start = tern_monotonic_ns()
        for _ in 0..<iterations { body() }
        return tern_monotonic_ns() - start
    }
    let iterations = calibrate(seconds: options.seconds, timed)
    var best = Double.infinity
    for _ in 0..<options.rounds { best = min(best, Double(timed(iterations)) / Double(iterations)) }
    return best
}

func benchBlake2s(_ options: Options) {
    let input = [UInt8](repeating: 0x5A, count: 4096)
    let nanoseconds = input.withUnsafeBytes { input in measure(options) { keep(Blake2s.hash(input)[0]) } }
    print("BLAKE2s-256 (4096-byte input): " + format(4096 * 1e3 / nanoseconds) + " MB/s")
}

func benchX25519(_ options: Options) {
    let mine = PrivateKey.generate()
    let theirs = PrivateKey.generate().publicKey
    let shared = measure(options) { keep(((try? X25519.sharedSecret(mine, theirs)) ?? Bytes32(repeating: 0))[0]) }
    let generated = measure(options) { keep(mine.publicKey.bytes[0]) }
    print("X25519: " + format(1e9 / shared, decimals: 0) + " shared secrets/s, "
          + format(1e9 / generated, decimals: 0) + " public keys/s")
}

enum TernBench {
    /// Runs the command line and returns the process exit status.
    static func run(_ arguments: [String]) -> Int32 {
        if arguments.count >= 2 && arguments[1] == "control" { return ControlLoad.run(arguments) }
        if arguments.count >= 2 && arguments[1] == "control-abuse" { return ControlAbuse.run(arguments) }
        let commands = ["crypto", "handshake", "filter"]
        guard arguments.count >= 2, commands.contains(arguments[1]) else {
            fail("usage: tern-bench crypto|handshake [--milliseconds N] [--rounds N]\n"
                 + "       tern-bench filter [--rules N] [--milliseconds N] [--rounds N]\n"
                 + "       tern-bench control http://IP:PORT AUTHKEY [--nodes N] [--endpoints E]\n"
                 + "       tern-bench control-abuse http://IP:PORT AUTHKEY pings MS | endpoints N | login-endpoints N")
        }
        let options = parseOptions(arguments[2...])
        if arguments[1] == "filter" {
            benchFilter(options)
            return 0
        }
        if options.rules != nil { fail("--rules is an option of tern-bench filter") }
        do { try Sodium.initialize() } catch { fail(error.description) }
        if arguments[1] == "handshake" {
            benchHandshakes(options)
            return 0
        }
        benchAEAD(options)
        benchBlake2s(options)
        benchX25519(options)
        return 0
    }
}
