import JSON
import Testing

@Suite struct AccessorTests {
    @Test func literalsBuildDocumentsInWrittenOrder() {
        let doc: JSONValue = ["type": "register", "version": 1, "zeta": true, "alpha": nil, "tags": ["a", "b"]]
        #expect(doc.object?.keys == ["type", "version", "zeta", "alpha", "tags"])
        #expect(doc["type"]?.string == "register")
        #expect(doc["version"]?.int == 1)
        #expect(doc["zeta"]?.bool == true)
        #expect(doc["alpha"]?.isNull == true)
        #expect(doc["tags"]?[1]?.string == "b")
        #expect(doc["missing"] == nil)
        #expect(doc.count == 5)
    }

    @Test func accessorsReturnNilForOtherKinds() {
        let values: [JSONValue] = [nil, true, 5, "s", [1], ["k": 1]]
        #expect(values.compactMap { $0.bool }.count == 1)
        #expect(values.compactMap { $0.int }.count == 1)
        #expect(values.compactMap { $0.string }.count == 1)
        #expect(values.compactMap { $0.array }.count == 1)
        #expect(values.compactMap { $0.object }.count == 1)
        #expect(values.filter { $0.isNull }.count == 1)
        #expect(values.compactMap { $0.double }.count == 1)
        for value in values {
            #expect(value["k"] == nil || value.object != nil)
            #expect(value[0] == nil || value.array != nil)
        }
    }

    @Test func indexSubscriptNeverTraps() {
        let array: JSONValue = [1, 2, 3]
        #expect(array[-1] == nil)
        #expect(array[3] == nil)
        #expect(array[Int.max] == nil)
        #expect(array[2]?.int == 3)
    }

    @Test func settingKeysKeepsOrderAndUniqueness() {
        var doc: JSONValue = ["a": 1, "b": 2]
        doc["c"] = 3
        doc["a"] = "one"
        #expect(doc.compactText == #"{"a":"one","b":2,"c":3}"#)
        doc["b"] = nil
        #expect(doc.compactText == #"{"a":"one","c":3}"#)
        var empty = JSONValue.emptyObject
        empty["x"] = [true]
        #expect(empty.compactText == #"{"x":[true]}"#)
    }

    @Test func objectOperations() {
        var object: JSONObject = ["x": 1]
        let insertedY = object.insert("y", 2)
        let insertedX = object.insert("x", 9)
        #expect(insertedY)
        #expect(!insertedX)
        #expect(object["x"] == 1)
        #expect(object.contains("y"))
        #expect(object.position(of: "y") == 1)
        #expect(JSONObject([(key: "a", value: 1), (key: "a", value: 2)]) == nil)
        #expect(JSONObject([(key: "a", value: 1), (key: "b", value: 2)])?.keys == ["a", "b"])
        // Order matters for equality.
        let ab: JSONValue = ["a": 1, "b": 2]
        let ba: JSONValue = ["b": 2, "a": 1]
        #expect(ab != ba)
        #expect(Array(object.map { $0.key }) == ["x", "y"])
    }

    @Test func largeObjectIndexStaysConsistent() {
        var object = JSONObject()
        for index in 0..<200 { object["k\(index)"] = JSONValue(index) }
        for index in stride(from: 0, to: 200, by: 3) { object["k\(index)"] = nil }
        object["k1"] = "replaced"
        object["new"] = true
        #expect(object.count == 133 + 1)
        #expect(object["k1"] == "replaced")
        #expect(object["k3"] == nil)
        #expect(object["k199"]?.int == 199)
        #expect(object.keys.last == "new")
        let insertedK2 = object.insert("k2", 0)
        #expect(!insertedK2)
        for (position, member) in object.members.enumerated() {
            #expect(object.position(of: member.key) == position)
        }
        // Shrinking below the threshold falls back to linear search.
        for key in object.keys.dropFirst(3) { object[key] = nil }
        #expect(object.keys == ["k1", "k2", "k4"])
        #expect(object["k4"]?.int == 4)
    }

    @Test func numberAccessors() {
        #expect(JSONNumber(text: "42")?.int64 == 42)
        #expect(JSONNumber(text: "42") == JSONNumber(42))
        #expect(JSONNumber(text: "42.0") != JSONNumber(42))
        #expect(JSONNumber(text: "4.5")?.double == 4.5)
        #expect(JSONNumber(UInt64.max).text == "18446744073709551615")
        #expect(JSONNumber(UInt64.max).uint64 == UInt64.max)
        #expect(JSONValue(-5).uint64 == nil)
        for bad in ["", "01", "+1", "1.", ".1", "1e", "NaN", "1 ", " 1", "--1", "0x1", "1e5x"] {
            #expect(JSONNumber(text: bad) == nil, "\(bad)")
        }
        #expect(JSONValue(Int64(1) << 40).int64 == 1 << 40)
        #expect(JSONValue("s") == "s")
        #expect(JSONValue(false) == false)
        #expect(JSONValue([1, 2]) == [1, 2])
    }

    @Test func parsingInitializer() throws {
        let value = try JSONValue(parsing: "[1, // c\n]", options: .hujson)
        #expect(value == [1])
        #expect(value.description == "[1]")
    }
}
