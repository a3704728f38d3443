import IP

/// libFuzzer entry point for the IP module. The same input is used three ways:
///
/// 1. as bytes for `IPPacket`: a view that is accepted must be self-consistent
///    and every field must be readable;
/// 2. as text for the address, prefix, endpoint and subnet route list parsers: whatever parses
///    must print to text that parses back to the same value (and, where the
///    spelling is unique, to the same text);
/// 3. as a little program of inserts, removals and lookups for `PrefixTable`,
///    checked against a plain list scanned for the longest match.
///
/// A trap is a finding; typed parse errors are the expected outcome for junk.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIP(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    checkPacket(bytes)
    checkText(String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self))
    checkPrefixTable(bytes)
    return 0
}

private func checkPacket(_ bytes: UnsafeRawBufferPointer) {
    guard let packet = try? IPPacket(bytes) else { return }
    precondition(packet.version == 4 || packet.version == 6, "bad version accepted")
    precondition(packet.totalLength <= bytes.count, "total length beyond buffer")
    precondition(packet.headerLength <= packet.totalLength, "header beyond total length")
    precondition(packet.payload.count == packet.totalLength - packet.headerLength, "payload size")
    precondition(packet.source.isIPv4 == (packet.version == 4), "source family")
    precondition(packet.destination.isIPv4 == (packet.version == 4), "destination family")
    _ = (packet.protocolNumber, packet.isFragment, packet.transport?.ports)
    _ = (packet.sourceIPv4, packet.destinationIPv4, packet.sourceIPv6, packet.destinationIPv6)
}

private func checkText(_ text: String) {
    if let address = try? IPv4Address(text) {
        // The strict dotted quad has exactly one spelling.
        precondition(address.description == text, "IPv4 address did not print back unchanged")
    }
    if let address = try? IPv6Address(text) {
        let canonical = address.description
        precondition((try? IPv6Address(canonical)) == address, "IPv6 round trip changed the value")
        precondition((try? IPv6Address(canonical))?.description == canonical, "IPv6 canonical form not stable")
    }
    if let address = try? IPAddress(text) {
        precondition((try? IPAddress(address.description)) == address, "IPAddress round trip")
    }
    if let prefix = try? IPPrefix(text) {
        precondition((try? IPPrefix(prefix.description)) == prefix, "IPPrefix round trip")
        precondition(prefix.contains(prefix.address), "prefix does not contain its own address")
        precondition(prefix.length <= prefix.address.bitWidth, "prefix length out of range")
    }
    if let endpoint = try? Endpoint(text) {
        precondition((try? Endpoint(endpoint.description)) == endpoint, "Endpoint round trip")
    }
    if let routes = try? SubnetRoute.parseList(text) {
        // Accepted lists are canonical: printing them back parses to the same list.
        let printed = routes.map { $0.description }.joined(separator: ",")
        precondition((try? SubnetRoute.parseList(printed)) == routes, "subnet route list round trip")
        _ = SubnetRoute.problem(with: routes, meshRanges: [SubnetRoute.defaultMeshIPv4Range])
    }
}

/// Reads the input as operations: an opcode byte, then a family-sized address,
/// a length byte and a value byte (missing bytes read as zero).
private func checkPrefixTable(_ bytes: UnsafeRawBufferPointer) {
    var table = PrefixTable<UInt8>()
    var reference: [(prefix: IPPrefix, value: UInt8)] = []
    var offset = 0
    func next() -> UInt8 {
        defer { offset += 1 }
        return offset < bytes.count ? bytes[offset] : 0
    }
    while offset < bytes.count {
        let opcode = next()
        let ipv6 = opcode & 0x10 != 0
        var raw = [UInt8](repeating: 0, count: ipv6 ? 16 : 4)
        // Few distinct high bytes, so that prefixes overlap.
        for i in 0..<raw.count { raw[i] = i == 0 ? next() & 0x03 : next() }
        let address = raw.withUnsafeBytes { IPAddress(networkOrderBytes: $0) }
        let length = Int(next()) % (address.bitWidth + 1)
        let value = next() & 0x07
        guard let prefix = try? IPPrefix(address, length: length) else {
            preconditionFailure("in-range length refused")
        }
        let existing = reference.firstIndex { $0.prefix == prefix }
        switch opcode & 0x03 {
        case 0, 1:
            let old = table.insert(prefix, value)
            precondition(old == existing.map { reference[$0].value }, "insert returned the wrong old value")
            if let existing { reference[existing].value = value } else { reference.append((prefix, value)) }
        case 2:
            let old = table.remove(prefix)
            precondition(old == existing.map { reference[$0].value }, "remove returned the wrong value")
            if let existing { reference.remove(at: existing) }
        default:
            let removed = table.removeAll(value: value)
            let before = reference.count
            reference.removeAll { $0.value == value }
            precondition(removed == before - reference.count, "removeAll(value:) count")
        }
        precondition(table.count == reference.count, "count differs from reference")

        var best: (length: Int, value: UInt8)?
        for entry in reference where entry.prefix.contains(address) {
            if best == nil || entry.prefix.length > best!.length { best = (entry.prefix.length, entry.value) }
        }
        precondition(table.lookup(address) == best?.value, "lookup differs from reference")
    }
    for value in UInt8(0)..<8 {
        let expected = reference.filter { $0.value == value }.map(\.prefix).sorted()
        precondition(table.prefixes(for: value) == expected, "prefixes(for:) differs from reference")
    }
}
