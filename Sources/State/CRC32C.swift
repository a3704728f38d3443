/// CRC-32C (Castagnoli, the iSCSI/ext4/Btrfs checksum): reflected
/// polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF,
/// table-driven (one 256-entry table, one byte per step).
///
/// Known answers (RFC 3720 B.4 and the usual check value): "123456789" →
/// 0xE3069283; 32 zero bytes → 0x8A9136AA; 32 bytes of 0xFF → 0x62A8AB43.
///
/// ```
/// var crc = CRC32C()
/// crc.update(header)
/// crc.update(payload)
/// let value = crc.value
/// ```
public struct CRC32C: Sendable {
    /// The running register (before the final XOR).
    private var state: UInt32 = 0xFFFF_FFFF

    /// A fresh checksum over no bytes.
    public init() {}

    /// Feeds `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        for byte in bytes {
            crc = CRC32C.table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
        }
        state = crc
    }

    /// Feeds the bytes of `bytes`.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds the bytes of `bytes[range]`.
    public mutating func update(_ bytes: [UInt8], range: Range<Int>) {
        bytes.withUnsafeBytes { update(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Feeds one byte.
    public mutating func update(byte: UInt8) {
        state = CRC32C.table[Int(UInt8(truncatingIfNeeded: state) ^ byte)] ^ (state >> 8)
    }

    /// The checksum of everything fed so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The byte-at-a-time table for the reflected Castagnoli polynomial.
    private static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 {
                value = (value & 1) != 0 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1
            }
            table[index] = value
        }
        return table
    }()
}

/// Little-endian integer encoding into and out of byte arrays (every
/// on-disk integer in the State module is little-endian).
enum LittleEndian {
    /// Appends the 4 bytes of `value`.
    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    /// Appends the 8 bytes of `value`.
    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    /// Stores `value` at `bytes[offset..<offset+4]`.
    static func store(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    /// The UInt32 at `bytes[offset..<offset+4]`.
    static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return value
    }

    /// The UInt64 at `bytes[offset..<offset+8]`.
    static func uint64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return value
    }
}
