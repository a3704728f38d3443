/// Writing messages to bytes for the wire.
///
/// The serializers own the framing: they drop any `Content-Length` or
/// `Transfer-Encoding` field from `headers` and write `Content-Length`
/// themselves from `body.count` (where a body is allowed). They never emit
/// a message that would parse differently than meant: a CR, LF or NUL in a
/// method, target, reason, header name or value is replaced by a space, and
/// other bytes not allowed in a method or header name by `_`.
extension HTTPResponse {
    /// The response as bytes: status line, headers, `Content-Length`, empty
    /// line, body.
    ///
    /// 1xx and 204 responses get no `Content-Length` and no body; 304 keeps a
    /// `Content-Length` field given in `headers` (the length of the
    /// representation) and sends no body. With `omittingBody` (the answer to
    /// a `HEAD` request) `Content-Length` still states `body.count` but the
    /// body bytes are not written.
    public func serialized(omittingBody: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        serialize(into: &out, omittingBody: omittingBody)
        return out
    }

    /// Appends the response to `out`; see `serialized(omittingBody:)`.
    public func serialize(into out: inout [UInt8], omittingBody: Bool = false) {
        out.reserveCapacity(out.count + 128 + body.count)
        appendText(version.description, to: &out)
        out.append(space)
        let code = status >= 100 && status <= 999 ? status : 500
        out.append(UInt8(truncatingIfNeeded: 0x30 + code / 100))
        out.append(UInt8(truncatingIfNeeded: 0x30 + code / 10 % 10))
        out.append(UInt8(truncatingIfNeeded: 0x30 + code % 10))
        out.append(space)
        appendFieldValue(reason, to: &out)
        appendCRLF(to: &out)
        let noBody = HTTPResponse.statusHasNoBody(code)
        for field in headers {
            if asciiCaseInsensitiveEqual(field.name, "Transfer-Encoding") { continue }
            if asciiCaseInsensitiveEqual(field.name, "Content-Length") && code != 304 { continue }
            appendField(field.name, field.value, to: &out)
        }
        if !noBody {
            appendField("Content-Length", String(body.count), to: &out)
        }
        appendCRLF(to: &out)
        if !noBody && !omittingBody { out.append(contentsOf: body) }
    }
}

extension HTTPRequest {
    /// The request as bytes: request line, headers, `Content-Length`, empty
    /// line, body.
    ///
    /// `Content-Length` is written when the body is not empty or the method
    /// is `POST`, `PUT` or `PATCH`. `Host` is not added: an HTTP/1.1 request
    /// needs one in `headers`.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        serialize(into: &out)
        return out
    }

    /// Appends the request to `out`; see `serialized()`.
    public func serialize(into out: inout [UInt8]) {
        out.reserveCapacity(out.count + 128 + body.count)
        appendToken(method.isEmpty ? "GET" : method, to: &out)
        out.append(space)
        if target.isEmpty {
            out.append(UInt8(ascii: "/"))
        } else {
            for byte in target.utf8 { out.append(byte > space && byte < 0x7F ? byte : UInt8(ascii: "_")) }
        }
        out.append(space)
        appendText(version.description, to: &out)
        appendCRLF(to: &out)
        for field in headers {
            if asciiCaseInsensitiveEqual(field.name, "Transfer-Encoding")
                || asciiCaseInsensitiveEqual(field.name, "Content-Length") { continue }
            appendField(field.name, field.value, to: &out)
        }
        if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            appendField("Content-Length", String(body.count), to: &out)
        }
        appendCRLF(to: &out)
        out.append(contentsOf: body)
    }
}

private func appendCRLF(to out: inout [UInt8]) {
    out.append(cr)
    out.append(lf)
}

private func appendText(_ text: String, to out: inout [UInt8]) {
    out.append(contentsOf: text.utf8)
}

/// Appends a token (method, header name); non-token bytes become `_`, an
/// empty token becomes `_`.
private func appendToken(_ token: String, to out: inout [UInt8]) {
    var wrote = false
    for byte in token.utf8 {
        out.append(isTokenByte(byte) ? byte : UInt8(ascii: "_"))
        wrote = true
    }
    if !wrote { out.append(UInt8(ascii: "_")) }
}

/// Appends a header value or reason phrase; control bytes other than HTAB
/// become spaces, so the value cannot end the line early.
private func appendFieldValue(_ value: String, to out: inout [UInt8]) {
    for byte in value.utf8 { out.append(isFieldValueByte(byte) ? byte : space) }
}

private func appendField(_ name: String, _ value: String, to out: inout [UInt8]) {
    appendToken(name, to: &out)
    out.append(UInt8(ascii: ":"))
    out.append(space)
    appendFieldValue(value, to: &out)
    appendCRLF(to: &out)
}
