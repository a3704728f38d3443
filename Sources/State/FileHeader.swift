/// The 32-byte header every State file starts with.
///
/// ```
/// offset size  field
///      0    4  magic "TERN"
///      4    4  kind: four ASCII bytes ("SNAP", "JRNL", or a caller's own)
///      8    4  version: the format version of this kind of file (UInt32 LE)
///     12    4  payload CRC-32C (atomic files: of the payload; journals: 0)
///     16    8  sequence (UInt64 LE; snapshots: the last journal record they
///              cover; journals: the sequence just before their first record;
///              other files: the caller's value, usually 0)
///     24    4  payload length in bytes (atomic files; journals: 0)
///     28    4  header CRC-32C of bytes 0..<28
/// ```
///
/// All integers are little-endian. Bytes 0..<12 (magic, kind, version) are
/// frozen for every future version, so any build can tell a file it does
/// not understand and refuse it with a clear `.unsupportedVersion` error;
/// the rest of the layout may change with the version. Validation order:
/// magic, kind, version, header checksum.
public struct FileHeader: Equatable, Sendable {
    /// The header's size in bytes.
    public static let size = 32
    /// "TERN" as a little-endian UInt32.
    static let magic: UInt32 = 0x4E52_4554

    /// What kind of file this is.
    public var kind: FileKind
    /// The format version of the file.
    public var version: UInt32
    /// The sequence field (see the type's discussion).
    public var sequence: UInt64
    /// The payload's length in bytes (0 for journals).
    public var payloadLength: UInt32
    /// The CRC-32C of the payload (0 for journals).
    public var payloadChecksum: UInt32

    /// A header with these fields.
    public init(kind: FileKind, version: UInt32, sequence: UInt64 = 0, payloadLength: UInt32 = 0, payloadChecksum: UInt32 = 0) {
        self.kind = kind
        self.version = version
        self.sequence = sequence
        self.payloadLength = payloadLength
        self.payloadChecksum = payloadChecksum
    }

    /// The 32 bytes of this header, checksum included.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(FileHeader.size)
        LittleEndian.append(FileHeader.magic, to: &bytes)
        LittleEndian.append(kind.rawValue, to: &bytes)
        LittleEndian.append(version, to: &bytes)
        LittleEndian.append(payloadChecksum, to: &bytes)
        LittleEndian.append(sequence, to: &bytes)
        LittleEndian.append(payloadLength, to: &bytes)
        LittleEndian.append(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// Parses and validates `bytes` (at least 32; only the first 32 are
    /// read) as a header of `kind` with a version of at most
    /// `supportedVersion`. `path` is for the error message.
    public static func decode(
        _ bytes: [UInt8], kind expected: FileKind, supportedVersion: UInt32, path: String
    ) throws(StateError) -> FileHeader {
        guard bytes.count >= size else { throw StateError("read header", path: path, .truncated) }
        guard LittleEndian.uint32(bytes, at: 0) == magic else { throw StateError("read header", path: path, .badMagic) }
        let kind = FileKind(rawValue: LittleEndian.uint32(bytes, at: 4))
        guard kind == expected else {
            throw StateError("read header", path: path, .wrongKind(expected: expected, found: kind))
        }
        let version = LittleEndian.uint32(bytes, at: 8)
        guard version <= supportedVersion, version >= 1 else {
            throw StateError("read header", path: path, .unsupportedVersion(found: version, supported: supportedVersion))
        }
        var crc = CRC32C()
        crc.update(bytes, range: 0..<28)
        guard crc.value == LittleEndian.uint32(bytes, at: 28) else {
            throw StateError("read header", path: path, .corruptHeader)
        }
        return FileHeader(
            kind: kind, version: version, sequence: LittleEndian.uint64(bytes, at: 16),
            payloadLength: LittleEndian.uint32(bytes, at: 24), payloadChecksum: LittleEndian.uint32(bytes, at: 12))
    }
}

/// The four-character kind tag in a state file's header ("SNAP", "JRNL",
/// or a caller's own such as "NODE"), stored as four ASCII bytes.
public struct FileKind: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The four bytes in file order, packed little-endian (first byte lowest).
    public let rawValue: UInt32

    /// The kind with these four bytes (first byte in the low bits).
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The kind named by exactly four ASCII characters (traps otherwise: a programmer error).
    public init(_ tag: StaticString) {
        precondition(tag.utf8CodeUnitCount == 4, "a file kind is four ASCII characters")
        var value: UInt32 = 0
        tag.withUTF8Buffer { bytes in
            for i in 0..<4 {
                precondition(bytes[i] >= 0x20 && bytes[i] < 0x7f, "a file kind is four ASCII characters")
                value |= UInt32(bytes[i]) << (8 * UInt32(i))
            }
        }
        rawValue = value
    }

    /// A store's snapshot file.
    public static let snapshot = FileKind("SNAP")
    /// A store's append-only journal.
    public static let journal = FileKind("JRNL")

    /// The four characters ("SNAP"); bytes outside printable ASCII appear as "?".
    public var description: String {
        var text = ""
        for i in 0..<4 {
            let byte = UInt8(truncatingIfNeeded: rawValue >> (8 * UInt32(i)))
            text += (byte >= 0x20 && byte < 0x7f) ? String(Character(Unicode.Scalar(byte))) : "?"
        }
        return text
    }
}
