import CTern
import IP

/// Reading the messages and attributes the kernel sends, with libmnl's
/// bounds-checked walkers (`mnl_nlmsg_ok`, `mnl_attr_ok`, ...). Nothing here
/// trusts a length it has not checked against the bytes received.

/// Calls `body` with each complete netlink message in `bytes`.
func forEachMessage(
    in bytes: UnsafeRawBufferPointer, _ body: (UnsafePointer<nlmsghdr>) throws(NetlinkError) -> Void
) throws(NetlinkError) {
    guard let base = bytes.baseAddress else { return }
    var remaining = Int32(truncatingIfNeeded: bytes.count)
    var message = UnsafePointer(base.assumingMemoryBound(to: nlmsghdr.self))
    while mnl_nlmsg_ok(message, remaining) {
        try body(message)
        message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
    }
}

/// The fixed family header (`ifinfomsg`, `rtmsg`, ...) at the start of
/// `message`'s payload, or nil if the payload is too short for it.
func familyHeader<Header>(of message: UnsafePointer<nlmsghdr>, as type: Header.Type) -> Header? {
    guard mnl_nlmsg_get_payload_len(message) >= MemoryLayout<Header>.size else { return nil }
    return UnsafeRawPointer(mnl_nlmsg_get_payload(message)!).loadUnaligned(as: Header.self)
}

/// The bytes of `message`'s payload after a family header of `offset` bytes
/// (rounded up to 4): where its attributes are.
func attributeRegion(of message: UnsafePointer<nlmsghdr>, after offset: Int) -> UnsafeRawBufferPointer {
    let payloadLength = mnl_nlmsg_get_payload_len(message)
    let start = align4(offset)
    guard payloadLength > start else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    let payload = UnsafeRawPointer(mnl_nlmsg_get_payload(message)!)
    return UnsafeRawBufferPointer(start: payload + start, count: payloadLength - start)
}

/// Calls `body` with the type (nested and byte-order flags removed) and the
/// payload of each well-formed attribute in `region`; stops at the first
/// malformed one.
func forEachAttribute(
    in region: UnsafeRawBufferPointer, _ body: (Int, UnsafeRawBufferPointer) throws(NetlinkError) -> Void
) throws(NetlinkError) {
    guard let base = region.baseAddress else { return }
    let end = base + region.count
    var attribute = UnsafePointer(base.assumingMemoryBound(to: nlattr.self))
    while mnl_attr_ok(attribute, Int32(truncatingIfNeeded: end - UnsafeRawPointer(attribute))) {
        let payload = UnsafeRawBufferPointer(
            start: UnsafeRawPointer(mnl_attr_get_payload(attribute)!),
            count: Int(mnl_attr_get_payload_len(attribute)))
        try body(Int(mnl_attr_get_type(attribute)), payload)
        attribute = UnsafePointer(mnl_attr_next(attribute))
    }
}

extension UnsafeRawBufferPointer {
    /// The payload as a 32-bit number in host byte order, if it is 4 bytes.
    var u32: UInt32? { count >= 4 ? loadUnaligned(as: UInt32.self) : nil }

    /// The payload as a 32-bit number in network byte order, if it is 4 bytes.
    var u32BigEndian: UInt32? { u32.map { UInt32(bigEndian: $0) } }

    /// The payload's first byte, if any.
    var u8: UInt8? { count >= 1 ? self[0] : nil }

    /// The payload as text up to the first NUL (or its end).
    var string: String {
        var end = 0
        while end < count && self[end] != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: self[0..<end]), as: UTF8.self)
    }

    /// The payload as an IPv4 (4 bytes) or IPv6 (16 bytes) address.
    var ipAddress: IPAddress? {
        count == 4 || count == 16 ? IPAddress(networkOrderBytes: self) : nil
    }
}
