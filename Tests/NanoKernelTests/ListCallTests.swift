// Bounded lists across protection domains (issue 10): a real call into nk-bench with a
// list argument and a list result, through the generated typed stub and through
// `nkctl call`, which knows the list only from the procedure descriptor.
import Interfaces
import LRPC
import XCTest

final class ListCallTests: KernelTestCase {
    func pair(_ key: String, _ value: UInt64) -> BenchPair { BenchPair(key: BoundedText(key), value: value) }

    func testAListArgumentAndResultCrossDomains() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        // The binding itself, so the test does not depend on how the generated stub binds.
        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 10
        func sortPairs(_ pairs: BoundedList<BenchPair, 8>) throws(CallError) -> BoundedList<BenchPair, 8> {
            try bench.call(BenchInterface.sortPairs, pairs)
        }
        let sorted = try sortPairs([pair("pear", 3), pair("apple", 1), pair("fig", .max)])
        XCTAssertEqual(sorted, [pair("apple", 1), pair("fig", .max), pair("pear", 3)])
        XCTAssertEqual(try sortPairs([]), [])
        let full = BoundedList<BenchPair, 8>((0..<8).reversed().map { pair("k\($0)", UInt64($0)) })
        XCTAssertEqual(try sortPairs(full).map(\.value), Array(0..<8))

        // Over the capacity: refused in the stub, before the trap, naming the procedure,
        // the field, its capacity and the count.
        let nine = BoundedList<BenchPair, 8>((0..<9).map { pair("k\($0)", 0) })
        XCTAssertThrowsError(try sortPairs(nine)) {
            XCTAssertEqual($0 as? CallError, .listTooLong(field: "bench.sortPairs: items", count: 9, capacity: 8))
        }
        // An element too long names its index and field.
        XCTAssertThrowsError(try sortPairs([pair("a", 1), pair("ninechars", 2)])) {
            XCTAssertEqual($0 as? CallError, .fieldTooLarge(field: "bench.sortPairs: items[1].key", size: 9, limit: 8))
        }
        // A raw client writes a count over the capacity into the A-stack: the server stub
        // refuses the arguments (reading no element), and the service keeps serving.
        for count: UInt32 in [9, 1 << 31, .max] {
            XCTAssertThrowsError(try bench.call(
                procedureID: BenchInterface.sortPairs.id, name: "sortPairs",
                write: { (w: inout AStackWriter) throws(CallError) in
                    try w.put(count, field: "items")
                    try w.put(bytes: [UInt8](repeating: 0xff, count: 190), capacity: 192, field: "garbage")  // 200 bytes in all
                },
                read: { (_: inout AStackReader) throws(CallError) in })) {
                XCTAssertEqual($0 as? CallError, .malformed(
                    "server rejected the arguments of bench.sortPairs: malformed A-stack contents: items claims \(count) elements; the list holds at most 8"))
            }
        }
        XCTAssertEqual(try kernel.domain("bench").state, "ready")
        // The binding still works after the refusals.
        XCTAssertEqual(try sortPairs([pair("b", 2), pair("a", 1)]), [pair("a", 1), pair("b", 2)])
    }

    func testNkctlCallShowsAndAcceptsLists() throws {
        func nkctl(_ args: String...) throws -> (Int32, String) {
            try KernelHarness.run([KernelHarness.nkctl, "call", "--socket", kernel.socketPath] + args, timeout: 20)
        }
        let sorted = try nkctl("bench.sortPairs", #"[{"key":"pear","value":3},{"key":"apple","value":1}]"#)
        XCTAssertEqual(sorted.0, 0, sorted.1)
        XCTAssertEqual(sorted.1, #"items: [{"key": "apple", "value": 1}, {"key": "pear", "value": 3}]"# + "\n")
        let json = try nkctl("bench.sortPairs", "[]", "--json")
        XCTAssertEqual(json.1, "{\"items\": []}\n")

        let usage = try nkctl("bench.sortPairs")
        XCTAssertEqual(usage.0, 2)
        XCTAssertTrue(usage.1.contains("<items:list[8]{key:text[8],value:u64}>"), usage.1)
        XCTAssertTrue(usage.1.contains("a list is a JSON array"), usage.1)
        let tooMany = try nkctl("bench.sortPairs", "[" + (0..<9).map { #"{"key":"k\#($0)","value":0}"# }.joined(separator: ",") + "]")
        XCTAssertEqual(tooMany.0, 2)
        XCTAssertTrue(tooMany.1.contains("argument items has 9 elements; the list holds at most 8"), tooMany.1)
        let strayField = try nkctl("bench.sortPairs", #"[{"key":"a","value":1,"colour":"red"}]"#)
        XCTAssertEqual(strayField.0, 2)
        XCTAssertTrue(strayField.1.contains("argument items[0] has no field 'colour'"), strayField.1)
        let wrongType = try nkctl("bench.sortPairs", #"[{"key":"a","value":-1}]"#)
        XCTAssertEqual(wrongType.0, 2)
        XCTAssertTrue(wrongType.1.contains("argument items[0].value must be u64, got '-1'"), wrongType.1)
        let notJSON = try nkctl("bench.sortPairs", "apple")
        XCTAssertEqual(notJSON.0, 2)
        XCTAssertTrue(notJSON.1.contains("argument items must be a JSON array"), notJSON.1)
        let longKey = try nkctl("bench.sortPairs", #"[{"key":"ninechars","value":1}]"#)
        XCTAssertEqual(longKey.0, 1)
        XCTAssertTrue(longKey.1.contains("items[0].key is 9 bytes; the field holds at most 8"), longKey.1)
    }
}
