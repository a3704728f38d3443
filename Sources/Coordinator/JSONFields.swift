import IP
import JSON
import TernCrypto

/// Typed reads of the members of a stored JSON object (a record or a
/// snapshot part); every failure is a `.corruptState` error naming the member.
struct JSONFields {
    let object: JSONValue

    init(_ object: JSONValue) throws(RegistryError) {
        guard object.object != nil else { throw RegistryError(.corruptState, "expected a JSON object") }
        self.object = object
    }

    func value(_ name: String) throws(RegistryError) -> JSONValue {
        guard let value = object[name] else { throw RegistryError(.corruptState, "missing member '" + name + "'") }
        return value
    }

    private func bad(_ name: String, _ expected: String) -> RegistryError {
        RegistryError(.corruptState, "member '" + name + "': expected " + expected)
    }

    func string(_ name: String) throws(RegistryError) -> String {
        guard let text = try value(name).string else { throw bad(name, "a string") }
        return text
    }

    func bool(_ name: String) throws(RegistryError) -> Bool {
        guard let flag = try value(name).bool else { throw bad(name, "true or false") }
        return flag
    }

    func uint64(_ name: String) throws(RegistryError) -> UInt64 {
        guard let number = try value(name).uint64 else { throw bad(name, "an unsigned integer") }
        return number
    }

    func int64(_ name: String) throws(RegistryError) -> Int64 {
        guard let number = try value(name).int64 else { throw bad(name, "an integer") }
        return number
    }

    func optionalInt64(_ name: String) throws(RegistryError) -> Int64? {
        let member = try value(name)
        if member.isNull { return nil }
        guard let number = member.int64 else { throw bad(name, "an integer or null") }
        return number
    }

    func optionalUInt64(_ name: String) throws(RegistryError) -> UInt64? {
        let member = try value(name)
        if member.isNull { return nil }
        guard let number = member.uint64 else { throw bad(name, "an unsigned integer or null") }
        return number
    }

    func array(_ name: String) throws(RegistryError) -> [JSONValue] {
        guard let elements = try value(name).array else { throw bad(name, "an array") }
        return elements
    }

    func strings(_ name: String) throws(RegistryError) -> [String] {
        var result: [String] = []
        for element in try array(name) {
            guard let text = element.string else { throw bad(name, "an array of strings") }
            result.append(text)
        }
        return result
    }

    func uint64s(_ name: String) throws(RegistryError) -> [UInt64] {
        var result: [UInt64] = []
        for element in try array(name) {
            guard let number = element.uint64 else { throw bad(name, "an array of unsigned integers") }
            result.append(number)
        }
        return result
    }

    func key(_ name: String) throws(RegistryError) -> PublicKey {
        let text = try string(name)
        guard let key = try? PublicKey(base64: text) else { throw bad(name, "a base64 public key") }
        return key
    }

    func address(_ name: String) throws(RegistryError) -> IPAddress {
        let text = try string(name)
        guard let address = try? IPAddress(text) else { throw bad(name, "an IP address") }
        return address
    }

    func prefix(_ name: String) throws(RegistryError) -> IPPrefix {
        let text = try string(name)
        guard let prefix = try? IPPrefix(text) else { throw bad(name, "an address prefix") }
        return prefix
    }

    func endpoints(_ name: String) throws(RegistryError) -> [Endpoint] {
        var result: [Endpoint] = []
        for text in try strings(name) {
            guard let endpoint = try? Endpoint(text) else { throw bad(name, "endpoints like 192.0.2.1:41641") }
            result.append(endpoint)
        }
        return result
    }

    /// Prefixes; an absent member is none (state written before subnet routes existed).
    func prefixesIfPresent(_ name: String) throws(RegistryError) -> [IPPrefix] {
        guard object[name] != nil else { return [] }
        var result: [IPPrefix] = []
        for text in try strings(name) {
            guard let prefix = try? IPPrefix(text) else { throw bad(name, "address prefixes") }
            result.append(prefix)
        }
        return result
    }

    /// `prefixesIfPresent`, or nil when the member is absent or null.
    func optionalPrefixes(_ name: String) throws(RegistryError) -> [IPPrefix]? {
        guard let value = object[name], !value.isNull else { return nil }
        return try prefixesIfPresent(name)
    }

    func optionalEndpoints(_ name: String) throws(RegistryError) -> [Endpoint]? {
        if try value(name).isNull { return nil }
        return try endpoints(name)
    }
}

/// JSON spellings shared by records, snapshots and admin output.
enum JSONForms {
    static func integer(_ value: Int64?) -> JSONValue { value.map { .number(JSONNumber($0)) } ?? .null }
    static func unsigned(_ value: UInt64?) -> JSONValue { value.map { .number(JSONNumber($0)) } ?? .null }
    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
    static func endpoints(_ values: [Endpoint]) -> JSONValue { .array(values.map { .string($0.description) }) }
    static func prefixes(_ values: [IPPrefix]) -> JSONValue { .array(values.map { .string($0.description) }) }
}
