import CTern
import IP

/// The nf_tables expressions Tern's rules are made of, written as netlink
/// attributes (the job libnftnl does for `nft`). Each matcher emits exactly
/// the expressions `nft` itself generates for the same rule text, so
/// `nft list table inet tern` prints Tern's rules in their usual spelling:
///
///     iifname "tern0"                 meta load iifname => reg 1
///                                     cmp eq reg 1 "tern0\0..." (16 bytes)
///     ip daddr 192.168.0.0/16         meta load nfproto => reg 1
///                                     cmp eq reg 1 2 (NFPROTO_IPV4)
///                                     payload load 2b @ network header + 16 => reg 1
///                                     cmp eq reg 1 c0 a8
///     ip daddr 100.64.0.0/10          ... payload load 4b @ network header + 16
///                                     bitwise reg 1 = (reg 1 & ffc00000) ^ 0
///                                     cmp eq reg 1 64 40 00 00
///     ct state established,related    ct load state => reg 1
///                                     bitwise reg 1 = (reg 1 & 6) ^ 0
///                                     cmp neq reg 1 0
///     accept                          immediate reg 0 accept
///     masquerade                      masq
///
/// Numbers in nf_tables attributes are big-endian; register contents are
/// the packet's bytes (network order) or host-order numbers (ct state).
extension MessageBuffer {
    /// Appends one expression (an NFTA_LIST_ELEM of NFTA_RULE_EXPRESSIONS)
    /// named `name` whose NFTA_EXPR_DATA `data` writes.
    func expression(_ name: String, _ data: (MessageBuffer) -> Void) {
        let element = beginNest(Int(NFTA_LIST_ELEM.rawValue))
        put(Int(NFTA_EXPR_NAME.rawValue), string: name)
        let nest = beginNest(Int(NFTA_EXPR_DATA.rawValue))
        data(self)
        endNest(nest)
        endNest(element)
    }

    /// `meta load KEY => reg 1`.
    func metaLoad(_ key: nft_meta_keys) {
        expression("meta") { data in
            data.put(Int(NFTA_META_DREG.rawValue), u32BigEndian: NFT_REG_1.rawValue)
            data.put(Int(NFTA_META_KEY.rawValue), u32BigEndian: key.rawValue)
        }
    }

    /// `cmp OP reg 1 VALUE`.
    func compare(_ operation: nft_cmp_ops, _ value: [UInt8]) {
        expression("cmp") { data in
            data.put(Int(NFTA_CMP_SREG.rawValue), u32BigEndian: NFT_REG_1.rawValue)
            data.put(Int(NFTA_CMP_OP.rawValue), u32BigEndian: operation.rawValue)
            data.dataValue(Int(NFTA_CMP_DATA.rawValue), value)
        }
    }

    /// `payload load LENGTHb @ network header + OFFSET => reg 1`.
    func payloadLoad(networkHeaderOffset offset: Int, length: Int) {
        expression("payload") { data in
            data.put(Int(NFTA_PAYLOAD_DREG.rawValue), u32BigEndian: NFT_REG_1.rawValue)
            data.put(Int(NFTA_PAYLOAD_BASE.rawValue), u32BigEndian: NFT_PAYLOAD_NETWORK_HEADER.rawValue)
            data.put(Int(NFTA_PAYLOAD_OFFSET.rawValue), u32BigEndian: UInt32(offset))
            data.put(Int(NFTA_PAYLOAD_LEN.rawValue), u32BigEndian: UInt32(length))
        }
    }

    /// `bitwise reg 1 = (reg 1 & MASK) ^ 0`.
    func bitwiseAnd(_ mask: [UInt8]) {
        expression("bitwise") { data in
            data.put(Int(NFTA_BITWISE_SREG.rawValue), u32BigEndian: NFT_REG_1.rawValue)
            data.put(Int(NFTA_BITWISE_DREG.rawValue), u32BigEndian: NFT_REG_1.rawValue)
            data.put(Int(NFTA_BITWISE_LEN.rawValue), u32BigEndian: UInt32(mask.count))
            data.dataValue(Int(NFTA_BITWISE_MASK.rawValue), mask)
            data.dataValue(Int(NFTA_BITWISE_XOR.rawValue), [UInt8](repeating: 0, count: mask.count))
        }
    }

    /// `ct load KEY => reg 1`.
    func conntrackLoad(_ key: nft_ct_keys) {
        expression("ct") { data in
            data.put(Int(NFTA_CT_DREG.rawValue), u32BigEndian: NFT_REG_1.rawValue)
            data.put(Int(NFTA_CT_KEY.rawValue), u32BigEndian: key.rawValue)
        }
    }

    /// `immediate reg 0 accept`: the verdict.
    func accept() {
        expression("immediate") { data in
            data.put(Int(NFTA_IMMEDIATE_DREG.rawValue), u32BigEndian: NFT_REG_VERDICT.rawValue)
            let immediate = data.beginNest(Int(NFTA_IMMEDIATE_DATA.rawValue))
            let verdict = data.beginNest(Int(NFTA_DATA_VERDICT.rawValue))
            data.put(Int(NFTA_VERDICT_CODE.rawValue), u32BigEndian: UInt32(NF_ACCEPT))
            data.endNest(verdict)
            data.endNest(immediate)
        }
    }

    /// `masq`: source NAT to the address of the outgoing interface.
    func masquerade() {
        expression("masq") { _ in }
    }

    /// `iifname "NAME"` (incoming) or `oifname "NAME"`: an exact match of
    /// the IFNAMSIZ bytes, NUL-padded.
    func matchInterfaceName(incoming: Bool, _ name: String) {
        metaLoad(incoming ? NFT_META_IIFNAME : NFT_META_OIFNAME)
        var bytes = [UInt8](repeating: 0, count: Int(IFNAMSIZ))
        for (index, byte) in name.utf8.enumerated() where index < bytes.count - 1 { bytes[index] = byte }
        compare(NFT_CMP_EQ, bytes)
    }

    /// `ip daddr PREFIX` or `ip6 daddr PREFIX`: the family check inet
    /// tables need, then the destination address against the prefix. A
    /// byte-aligned prefix loads only its bytes; any other length loads the
    /// whole address and masks it (nft's own encoding, /0 included).
    func matchDestination(_ prefix: IPPrefix) {
        let isIPv4 = prefix.address.isIPv4
        metaLoad(NFT_META_NFPROTO)
        compare(NFT_CMP_EQ, [UInt8(isIPv4 ? NFPROTO_IPV4 : NFPROTO_IPV6)])
        let address = IPAddressBytes(prefix.address)
        let full = withUnsafeBytes(of: address.bytes) { raw in [UInt8](raw[0..<address.count]) }
        // The destination address's offset in the IPv4 / IPv6 header.
        let offset = isIPv4 ? 16 : 24
        if prefix.length > 0 && prefix.length % 8 == 0 {
            payloadLoad(networkHeaderOffset: offset, length: prefix.length / 8)
            compare(NFT_CMP_EQ, [UInt8](full[0..<prefix.length / 8]))
        } else {
            payloadLoad(networkHeaderOffset: offset, length: full.count)
            var mask = [UInt8](repeating: 0, count: full.count)
            for bit in 0..<prefix.length { mask[bit / 8] |= UInt8(0x80) >> UInt8(bit % 8) }
            bitwiseAnd(mask)
            compare(NFT_CMP_EQ, full)
        }
    }

    /// `ct state established,related`.
    func matchEstablishedOrRelated() {
        conntrackLoad(NFT_CT_STATE)
        // NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED):
        // 1 << (0 + 1) | 1 << (1 + 1), a host-order 32-bit register value.
        let states: UInt32 = 1 << 1 | 1 << 2
        bitwiseAnd(withUnsafeBytes(of: states) { [UInt8]($0) })
        compare(NFT_CMP_NEQ, [0, 0, 0, 0])
    }

    /// A nested NFTA_DATA_VALUE holding `bytes`, as attribute `type`.
    private func dataValue(_ type: Int, _ bytes: [UInt8]) {
        let nest = beginNest(type)
        bytes.withUnsafeBytes { raw in put(Int(NFTA_DATA_VALUE.rawValue), bytes: raw) }
        endNest(nest)
    }
}
