import SelfTest
import TernCrypto
import Testing
import TestSupport

@Suite("BLAKE2s")
struct Blake2sTests {
    /// Digests computed with Python:
    /// `hashlib.blake2s(pattern(n), digest_size=size, key=patternKey or b"").hexdigest()`,
    /// where `pattern(n) = bytes(i % 251 for i in range(n))` and
    /// `patternKey = bytes((7*i + 3) & 0xff for i in range(32))`.
    static let python: [(length: Int, keyed: Bool, size: Int, digest: String)] = [
        (0, false, 16, "64550d6ffe2c0a01a14aba1eade0200c"),
        (0, true, 16, "99e8b26f21ad249a22849abf7c73666e"),
        (0, false, 32, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"),
        (0, true, 32, "ded70e2a58ae08df61cdd4783126815e35b117de79f16e70f94a87a7f231aa00"),
        (1, false, 16, "9f31f3ec588c6064a8e1f9051aeab90a"),
        (1, true, 16, "fca45e6816be575eccc441197168f6f9"),
        (1, false, 32, "e34d74dbaf4ff4c6abd871cc220451d2ea2648846c7757fbaac82fe51ad64bea"),
        (1, true, 32, "00945e334b9f1a8a7d6a508b55b21d9a64f9912b98860601d916fa7768bf5109"),
        (63, false, 16, "4006430a2d313751a9ece24fccb52de5"),
        (63, true, 16, "4f1fb7ecd51823a721e186e46ca3fb6c"),
        (63, false, 32, "e57cb79487dd57902432b250733813bd96a84efce59f650fac26e6696aefafc3"),
        (63, true, 32, "748f638c02f89a6bc0baee189523605e21c0ff1a369e7d9ea133f1ac500cad7b"),
        (64, false, 16, "dc66ca8f03865801b0ffe06ed8a1a90e"),
        (64, true, 16, "2ae4bf4d4b2fbbe1a32f79dcb1f7c3c7"),
        (64, false, 32, "56f34e8b96557e90c1f24b52d0c89d51086acf1b00f634cf1dde9233b8eaaa3e"),
        (64, true, 32, "9ddd9956fa4feb6fe0d92eb84d5bd9c64a5b1798ed183a7a0ed16afe660356d4"),
        (65, false, 16, "399d3e92ccfcedcdde9bf4c2be14cf8c"),
        (65, true, 16, "0b05f70a9cbda011963a55f67daa6edf"),
        (65, false, 32, "1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472"),
        (65, true, 32, "14a132ac17f96976ad0d574919b7d487d838342e934eefde60d151ab7e83bd1e"),
        (128, false, 16, "7a3b3fa888b60095e7b305efcf3c3dbc"),
        (128, true, 16, "a57f3b48071f0b954b97aac9a8cf6282"),
        (128, false, 32, "1fa877de67259d19863a2a34bcc6962a2b25fcbf5cbecd7ede8f1fa36688a796"),
        (128, true, 32, "3a63b081df0b0d1b46c0283926884f2adea715af8648f0235cf0ca18fc080213"),
        (129, false, 16, "dd6146fb0f48a29aa4c813fe75d15941"),
        (129, true, 16, "caf6206f597b3e1485faf9fcb050513c"),
        (129, false, 32, "5bd169e67c82c2c2e98ef7008bdf261f2ddf30b1c00f9e7f275bb3e8a28dc9a2"),
        (129, true, 32, "2a6239c711f03c8759bf0ad0347edce15e6e633716925b8d76689af5178b83fe"),
        (1000, false, 16, "f308bf57110a2e5f3c81a0ef22925035"),
        (1000, true, 16, "b95c7343f5ff1baeb15e3654dbb8a85f"),
        (1000, false, 32, "1c067a5e746fb0f6734efac9a8cdb0e11061f0077f255184365c690115392501"),
        (1000, true, 32, "9b428fe7c2227429c535851ece69b7ed57eaab4b28f31a2ba317aa30f13ea1d3"),
    ]

    // One-shot digests of the pattern agree with Python's hashlib, keyed and unkeyed, 16 and 32 bytes.
    @Test(arguments: python)
    func matchesPython(length: Int, keyed: Bool, size: Int, digest: String) {
        #expect(hex(blake2s(pattern(length), key: keyed ? patternKey : [], outputLength: size)) == digest)
    }

    // The same pattern digests agree with Python when fed one byte at a time.
    @Test(arguments: python)
    func matchesPythonByteByByte(length: Int, keyed: Bool, size: Int, digest: String) {
        var hasher = keyed
            ? patternKey.withUnsafeBytes { Blake2s(outputLength: size, key: $0) }
            : Blake2s(outputLength: size)
        for byte in pattern(length) { hasher.update([byte]) }
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        #expect(hex(out) == digest)
    }

    // A short key and odd digest lengths agree with Python.
    @Test func matchesPythonOddParameters() {
        // hashlib.blake2s(pattern(100), digest_size=20, key=b"tern!")
        #expect(hex(blake2s(pattern(100), key: Array("tern!".utf8), outputLength: 20))
                == "0c4477a0003394b19e230fa84a34e9eda5169911")
        // hashlib.blake2s(b"abc", digest_size=1)
        #expect(hex(blake2s(Array("abc".utf8), outputLength: 1)) == "0d")
    }

    // Splitting the input in two at every offset gives the one-shot digest (lengths 0...200,
    // unkeyed and keyed, the digest length cycling through 1...32).
    @Test(arguments: [false, true])
    func everySplitMatchesOneShot(keyed: Bool) {
        var mismatches: [String] = []
        for length in 0...200 {
            let input = pattern(length)
            let outputLength = 1 + (length % 32)
            let key = keyed ? Array(patternKey[0..<(1 + length % 32)]) : []
            let expected = blake2s(input, key: key, outputLength: outputLength)
            for split in 0...length {
                var hasher = key.isEmpty
                    ? Blake2s(outputLength: outputLength)
                    : key.withUnsafeBytes { Blake2s(outputLength: outputLength, key: $0) }
                hasher.update(Array(input[0..<split]))
                hasher.update(Array(input[split...]))
                var out = [UInt8](repeating: 0, count: outputLength)
                out.withUnsafeMutableBytes { hasher.finalize(into: $0) }
                if out != expected { mismatches.append("length \(length) split \(split)") }
            }
        }
        #expect(mismatches == [])
    }

    // Random chunkings (including empty chunks) give the one-shot digest for every digest length 1...32.
    @Test(arguments: [false, true])
    func randomChunkingsMatchOneShot(keyed: Bool) {
        var generator = SplitMix64(seed: keyed ? 0x6B65_7964 : 0x706C_6169)
        var mismatches: [String] = []
        for outputLength in 1...32 {
            for length in [0, 1, 31, 32, 63, 64, 65, 127, 128, 129, 200] + (0..<3).map({ _ in Int.random(in: 0...200, using: &generator) }) {
                let input = randomBytes(length, using: &generator)
                let key = keyed ? randomBytes(Int.random(in: 1...32, using: &generator), using: &generator) : []
                let expected = blake2s(input, key: key, outputLength: outputLength)
                for chunking in 0..<5 {
                    var hasher = key.isEmpty
                        ? Blake2s(outputLength: outputLength)
                        : key.withUnsafeBytes { Blake2s(outputLength: outputLength, key: $0) }
                    var offset = 0
                    var sizes: [Int] = []
                    while offset < length {
                        let size = min(Int.random(in: 0...70, using: &generator), length - offset)
                        hasher.update(Array(input[offset..<offset + size]))
                        sizes.append(size)
                        offset += size
                    }
                    hasher.update([])
                    var out = [UInt8](repeating: 0, count: outputLength)
                    out.withUnsafeMutableBytes { hasher.finalize(into: $0) }
                    if out != expected {
                        mismatches.append("out \(outputLength) length \(length) chunking \(chunking): \(sizes)")
                    }
                }
            }
        }
        #expect(mismatches == [])
    }

    // Empty updates at a block boundary do not compress early (the last block stays last).
    @Test func emptyUpdatesAtBlockBoundary() {
        let input = pattern(128)
        var hasher = Blake2s()
        hasher.update([])
        hasher.update(Array(input[0..<64]))
        hasher.update([])
        hasher.update(Array(input[64..<128]))
        hasher.update([])
        let digest: Bytes32 = hasher.finalize()
        #expect(hex(digest) == "1fa877de67259d19863a2a34bcc6962a2b25fcbf5cbecd7ede8f1fa36688a796")
    }

    // The digest length is part of the parameter block: a 16-byte digest is not a prefix of the 32-byte one.
    @Test func digestLengthChangesTheDigest() {
        let short = blake2s(pattern(10), outputLength: 16)
        let long = blake2s(pattern(10), outputLength: 32)
        #expect(short != Array(long[0..<16]))
    }

    // `hash(_:)`, `hash(_:_:)` and `finalize() -> Bytes32` agree with the byte-array path.
    @Test func convenienceFunctionsAgree() {
        let a = pattern(100), b = Array(pattern(200)[100...])
        let whole = pattern(200)
        let expected = hex(blake2s(whole))
        #expect(whole.withUnsafeBytes { hex(Blake2s.hash($0)) } == expected)
        #expect(a.withUnsafeBytes { ra in b.withUnsafeBytes { rb in hex(Blake2s.hash(ra, rb)) } } == expected)
        // HASH(Ci ‖ IDENTIFIER) through update(Bytes32).
        let ci = Array(WireGuardConstantVectors.construction.utf8).withUnsafeBytes { Blake2s.hash($0) }
        var hasher = Blake2s()
        hasher.update(ci)
        hasher.update(Array(WireGuardConstantVectors.identifier.utf8))
        let hi: Bytes32 = hasher.finalize()
        #expect(hex(ci) == WireGuardConstantVectors.initialChainingKey)
        #expect(hex(hi) == WireGuardConstantVectors.initialHash)
    }

    // `mac(key:_:)` is keyed BLAKE2s-128, as Python computes it.
    @Test func macMatchesPython() {
        let message = Array("mac1 test".utf8)
        let mac = patternKey.withUnsafeBytes { k in message.withUnsafeBytes { Blake2s.mac(key: k, $0) } }
        // hashlib.blake2s(b"mac1 test", digest_size=16, key=patternKey)
        #expect(hex(mac) == "fdff2cfcde4ebf8fd32fd33f7b38333f")
        // The 65-byte pattern row of the table above.
        let input = pattern(65)
        let mac65 = patternKey.withUnsafeBytes { k in input.withUnsafeBytes { Blake2s.mac(key: k, $0) } }
        #expect(hex(mac65) == "0b05f70a9cbda011963a55f67daa6edf")
    }

    // RFC 7693 appendix E: the hash of hashes is 6a411f08….
    @Test func rfc7693AppendixE() {
        #expect(SelfTest.blake2sHashOfHashes() == "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe")
    }
}
