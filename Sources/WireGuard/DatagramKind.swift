/// What a datagram on the WireGuard UDP port is, from its first bytes: the
/// demultiplexer that lets STUN and disco share the port with WireGuard.
///
/// The three never collide: a WireGuard message starts with its type (1-4)
/// and three zero bytes; a STUN message starts with two zero bits and has
/// the magic cookie 0x2112A442 at offset 4 (RFC 8489 §6); a disco message
/// starts with the six bytes "TS" U+1F4AC.
public enum DatagramKind: Equatable, Sendable {
    /// A WireGuard message (its length is checked by the device).
    case wireGuard
    /// A STUN message.
    case stun
    /// A disco message.
    case disco
    /// None of these.
    case unknown

    /// The STUN header: type, length, magic cookie, transaction id.
    public static let stunHeaderSize = 20
    /// The STUN magic cookie, big-endian at offset 4.
    public static let stunMagicCookie: UInt32 = 0x2112_A442
    /// The disco prefix "TS💬".
    public static let discoMagic: [UInt8] = [0x54, 0x53, 0xF0, 0x9F, 0x92, 0xAC]
    /// Magic, sender key and nonce come before a disco message's box.
    public static let discoHeaderSize = 6 + 32 + 24

    /// Classifies `datagram` by its first bytes.
    public static func classify(_ datagram: UnsafeRawBufferPointer) -> DatagramKind {
        guard datagram.count >= 4 else { return .unknown }
        if (1...4).contains(datagram[0]), datagram[1] == 0, datagram[2] == 0, datagram[3] == 0 { return .wireGuard }
        if datagram.count >= stunHeaderSize, datagram[0] & 0xC0 == 0,
           UInt32(bigEndian: datagram.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) == stunMagicCookie {
            return .stun
        }
        if datagram.count >= discoHeaderSize, discoMagic.indices.allSatisfy({ datagram[$0] == discoMagic[$0] }) {
            return .disco
        }
        return .unknown
    }
}
