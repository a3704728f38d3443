import JSON

/// libFuzzer entry point for the JSON module. The input is parsed in strict
/// and in HuJSON mode (with a small depth limit so deep inputs hit the limit
/// path too). Whatever parses must:
///
/// 1. print (compact and pretty) to text that parses back, strictly, to an
///    equal value, and print again to the same bytes;
/// 2. also parse in HuJSON mode to the same value if it parsed strictly
///    (HuJSON is a superset);
/// 3. expose consistent accessors.
///
/// Errors must carry a position inside the input. A trap is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let strictValue = check(bytes, JSONParser.Options(syntax: .strict, maxDepth: 16))
    let hujsonValue = check(bytes, JSONParser.Options(syntax: .hujson, maxDepth: 16))
    if let strictValue {
        precondition(hujsonValue == strictValue, "strict document parsed differently as HuJSON")
    }
    if let number = JSONNumber(text: String(decoding: bytes, as: UTF8.self)) {
        precondition(JSONNumber(text: number.text) == number, "number text did not round-trip")
        _ = number.double
    }
    return 0
}

private func check(_ bytes: [UInt8], _ options: JSONParser.Options) -> JSONValue? {
    let value: JSONValue
    do {
        value = try JSONParser.parse(bytes, options: options)
    } catch {
        precondition(error.offset >= 0 && error.offset <= bytes.count, "error offset outside the input")
        precondition(error.line >= 1 && error.column >= 1, "bad error position")
        _ = error.description
        return nil
    }
    for style in [JSONSerializer.Style.compact, .pretty] {
        let printed = JSONSerializer.bytes(value, style: style)
        guard let reparsed = try? JSONParser.parse(printed, options: .strict) else {
            preconditionFailure("printed JSON does not parse")
        }
        precondition(reparsed == value, "printed JSON parsed to a different value")
        precondition(JSONSerializer.bytes(reparsed, style: style) == printed, "printing is not deterministic")
    }
    walk(value)
    return value
}

/// Touches every accessor on every node.
private func walk(_ value: JSONValue) {
    _ = (value.isNull, value.bool, value.int, value.int64, value.uint64, value.double, value.string, value.count)
    if let elements = value.array {
        precondition(value.count == elements.count, "array count")
        precondition(value[elements.count] == nil && value[-1] == nil, "index out of range returned a value")
        for element in elements { walk(element) }
    }
    if let object = value.object {
        for member in object.members {
            precondition(value[member.key] == member.value, "lookup by key disagrees with members")
            walk(member.value)
        }
    }
}
