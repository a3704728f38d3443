import Bytes
import TernCrypto

/// libFuzzer entry point for the text parsers of keys: base64 (wg configuration
/// files) and hex (UAPI), for every key type. Any input must either parse and
/// print back to the same canonical text, or fail with a typed error; a trap
/// is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeys(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)

    if let key = try? PublicKey(base64: text) {
        precondition(key.base64 == text, "base64 key did not print back canonically")
        precondition((try? PublicKey(hex: key.hex)) == key, "hex round trip failed")
    }
    if let key = try? PublicKey(hex: text) {
        precondition(key.hex == text.lowercased(), "hex key did not print back")
        precondition((try? PublicKey(base64: key.base64)) == key, "base64 round trip failed")
    }
    _ = try? PrivateKey(base64: text)
    _ = try? PresharedKey(hex: text)

    if let bytes = try? Base64.decode(text) {
        precondition(Base64.encode(bytes) == text, "base64 is not canonical")
    }
    if let bytes = try? Hex.decode(text) {
        precondition(Hex.encode(bytes) == text.lowercased(), "hex did not print back")
    }
    return 0
}
