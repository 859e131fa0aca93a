// Bounded lists (issue 10): generated copy-in and copy-out round trips for every element
// kind, the layout that travels in the descriptor (one list field with an element
// sub-layout), a list over its capacity refused with its name, capacity and count, and a
// hostile count or descriptor refused instead of crashing or over-reading. No kernel.
import Interfaces
@testable import LRPC
import XCTest

@AStackValue
struct ListEntry: Equatable {
    var name: BoundedText<12>
    var size: UInt64
    var hidden: Bool
}

@AStackValue
struct ListSample: Equatable {
    var tag: Bool
    var ids: BoundedList<UInt32, 5>
    var entries: BoundedList<ListEntry, 4>
    var words: BoundedList<BoundedText<6>, 3>
    var maybe: BoundedList<Int64?, 2>
    var grid: BoundedList<BoundedList<Bool, 3>, 2>
    var after: Double
}

final class BoundedListTests: XCTestCase {
    let full = ListSample(
        tag: true, ids: [1, 2, 3, 4, 5],
        entries: [ListEntry(name: BoundedText("a"), size: 1, hidden: false),
                  ListEntry(name: BoundedText("twelve bytes"), size: .max, hidden: true),
                  ListEntry(name: BoundedText(""), size: 0, hidden: false),
                  ListEntry(name: BoundedText("d"), size: 4, hidden: true)],
        words: [BoundedText("one"), BoundedText("six666"), BoundedText("")],
        maybe: [7, nil], grid: [[true, false, true], []], after: 2.5)

    /// Writes `value` into a buffer of its layout's size, checks it fills exactly that,
    /// and reads it back.
    func roundTrip<T: AStackValue & Equatable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws -> T {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: T.layout.size, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xAA)
        var writer = AStackWriter(buffer)
        try value.write(to: &writer)
        XCTAssertEqual(writer.offset, T.layout.size, "a value fills exactly its layout", file: file, line: line)
        var reader = AStackReader(UnsafeRawBufferPointer(buffer))
        let back = try T(from: &reader)
        XCTAssertEqual(reader.offset, T.layout.size, file: file, line: line)
        return back
    }

    func testEveryElementKindRoundTripsFullPartialAndEmpty() throws {
        XCTAssertEqual(try roundTrip(full), full)
        let partial = ListSample(tag: false, ids: [9], entries: [full.entries[1]], words: [BoundedText("x")],
                                 maybe: [nil], grid: [[false]], after: -1)
        XCTAssertEqual(try roundTrip(partial), partial)
        let empty = ListSample(tag: false, ids: [], entries: [], words: [], maybe: [], grid: [], after: 0)
        XCTAssertEqual(try roundTrip(empty), empty)
        // A list is a value of its own too (a procedure may return one).
        let alone: BoundedList<ListEntry, 4> = [full.entries[0]]
        XCTAssertEqual(try roundTrip(alone), alone)
    }

    func testTheLayoutIsOneFieldPerListWithItsElementSubLayout() {
        XCTAssertEqual(ListSample.layout.signature,
                       "tag:bool,ids:list[5]{u32},entries:list[4]{name:text[12],size:u64,hidden:bool},"
                       + "words:list[3]{text[6]},maybe:list[2]{?:bool,i64},grid:list[2]{list[3]{bool}},after:f64")
        XCTAssertEqual(ListSample.layout.fieldCount, 7 + 1 + 3 + 1 + 2 + 2)
        // Placement: the entries element is text (4 + 12), u64 at 16, bool at 24: 25
        // bytes, padded to 32; the list is aligned to 8, its count padded to 8.
        let entries = ListSample.layout.fields[2]
        XCTAssertEqual(entries.element?.stride, 32)
        XCTAssertEqual(entries.alignment, 8)
        XCTAssertEqual(entries.size, 8 + 4 * 32)
        // The layout read back from its signature (as the kernel and nkctl read it) is
        // the same layout, sizes included.
        let parsed = FieldLayout(signature: ListSample.layout.signature)
        XCTAssertEqual(parsed, ListSample.layout)
        XCTAssertEqual(parsed?.size, ListSample.layout.size)
    }

    /// The per-call placement (computed from the types) agrees with the descriptor's
    /// (computed from the fields) at every starting offset.
    func testPlacementFromTheTypesMatchesTheLayout() {
        func check<T: AStackField>(_: T.Type, file: StaticString = #filePath, line: UInt = #line) {
            let layout = FieldLayout(T.fields(named: "x"))
            XCTAssertEqual(T.astackAlignment, layout.alignment, "\(T.self)", file: file, line: line)
            for offset in 0..<17 {
                XCTAssertEqual(T.astackEnd(from: offset), layout.end(from: offset), "\(T.self) from \(offset)", file: file, line: line)
            }
        }
        check(UInt32.self); check(Int64.self); check(Bool.self); check(Double.self)
        check(BoundedText<5>.self); check(BoundedBytes<3>.self); check(Int64?.self); check(ListEntry.self)
        check(ListEntry?.self); check(Timestamp?.self)
        check(BoundedList<Bool, 3>.self); check(BoundedList<ListEntry, 4>.self); check(BoundedList<Int64?, 2>.self)
        check(BoundedList<BoundedList<Bool, 3>, 2>.self); check(ListSample.self); check(ListSample?.self)
    }

    func testAListOverItsCapacityIsRefusedNamingFieldCapacityAndCount() {
        var value = full
        value.ids.elements.append(6)
        XCTAssertThrowsError(try roundTrip(value)) {
            XCTAssertEqual($0 as? CallError, .listTooLong(field: "ids", count: 6, capacity: 5))
            XCTAssertEqual("\($0)", "ids has 6 elements; the list holds at most 5")
        }
        // An element too large names the element.
        value = full
        value.entries[2].name = BoundedText("thirteen byte")
        XCTAssertThrowsError(try roundTrip(value)) {
            XCTAssertEqual($0 as? CallError, .fieldTooLarge(field: "entries[2].name", size: 13, limit: 12))
        }
        value = full
        value.grid[1] = [true, true, true, true]
        XCTAssertThrowsError(try roundTrip(value)) {
            XCTAssertEqual($0 as? CallError, .listTooLong(field: "grid[1]", count: 4, capacity: 3))
        }
    }

    /// A peer writes the A-stack: a count over the capacity (up to 2^32-1) is malformed,
    /// named, and no element is read past the list's room.
    func testAHostileCountIsAnErrorNotACrashOrAnOverRead() throws {
        let size = ListSample.layout.size
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        var writer = AStackWriter(buffer)
        try full.write(to: &writer)
        // ids' count is at offset 4 (after the bool, aligned to 4).
        for count: UInt32 in [6, 1000, .max] {
            buffer.storeBytes(of: count.littleEndian, toByteOffset: 4, as: UInt32.self)
            var reader = AStackReader(UnsafeRawBufferPointer(buffer))
            XCTAssertThrowsError(try ListSample(from: &reader)) {
                XCTAssertEqual($0 as? CallError, .malformed("ids claims \(count) elements; the list holds at most 5"))
            }
        }
        // A nested list's count is checked the same way, and the error names the element.
        var fresh = AStackWriter(buffer)
        try full.write(to: &fresh)
        // grid starts after the first five fields (aligned to 4); its count, then element
        // 1 (each inner list is a count and 3 bools, 8 bytes), whose count comes first.
        let gridStart = align(FieldLayout(Array(ListSample.layout.fields[0..<5])).size, 4)
        let innerCount = gridStart + 4 + 8
        buffer.storeBytes(of: UInt32(99).littleEndian, toByteOffset: innerCount, as: UInt32.self)
        var reader = AStackReader(UnsafeRawBufferPointer(buffer))
        XCTAssertThrowsError(try ListSample(from: &reader)) {
            XCTAssertEqual($0 as? CallError, .malformed("grid[1] claims 99 elements; the list holds at most 3"))
        }
        // A buffer shorter than the list's room: refused before any element is read.
        let short = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<20])
        var shortReader = AStackReader(short)
        XCTAssertThrowsError(try BoundedList<ListEntry, 4>(from: &shortReader, field: "entries")) {
            guard case .malformed(let text) = $0 as? CallError else { return XCTFail("\($0)") }
            XCTAssertTrue(text.contains("entries runs past"), text)
        }
    }

    /// The descriptor is hostile input where it is read: bounds hold for lists too.
    func testHostileListSignaturesAreRefused() {
        // 100 structs of 3 fields are 4 fields, not 300.
        let hundred = "entries:list[100]{name:text[64],size:u64,kind:u32}"
        XCTAssertEqual(FieldLayout(signature: hundred)?.fieldCount, 4)
        for bad in [
            "x:list[0]{u32}", "x:list[1048577]{bool}", "x:list[4]", "x:list{u32}", "x:list[2]{u32",
            "x:u32{u32}", "x:list[2]{y:u32}}", "u32", "x:list[2]{y:nope}", "x:text", "x:u32[4]",
            // Over 1 MiB in all: 2^20 elements of 8 bytes, or nested lists multiplying.
            "x:list[1048576]{u64}", "x:list[1024]{list[1024]{u64}}",
            "x:list[1048576]{list[1048576]{list[1048576]{list[1048576]{bytes[1048576]}}}}",
            // Over 64 fields, counting element fields.
            "x:list[1]{" + (0..<64).map { "f\($0):u32" }.joined(separator: ",") + "}",
            String(repeating: "x:list[1]{", count: 65) + "u32" + String(repeating: "}", count: 65),
        ] {
            XCTAssertNil(FieldLayout(signature: bad), bad)
        }
        XCTAssertNotNil(FieldLayout(signature: "x:list[1]{" + (0..<63).map { "f\($0):u32" }.joined(separator: ",") + "}"))
        XCTAssertNotNil(FieldLayout(signature: "x:list[1048572]{bool}"), "exactly 1 MiB")
        // A list built in code with absurd sizes saturates instead of trapping.
        let absurd = Field("x", list: FieldLayout([Field("y", .bytes, capacity: Int.max)]), capacity: Int.max)
        XCTAssertEqual(absurd.size, Int.max)
    }

    /// What the kernel decodes at export (and nkctl at import): a hostile list layout is
    /// refused there, whatever the sender computed.
    func testAnExportWithAHostileListLayoutIsRefused() {
        let element = FieldLayout((0..<40).map { Field("f\($0)", .uint64) })
        for layout in [
            FieldLayout([Field("x", list: element, capacity: 100), Field("y", list: element, capacity: 1)]),  // 82 fields
            FieldLayout([Field("x", list: FieldLayout([Field("b", .bytes, capacity: 1 << 20)]), capacity: 1 << 20)]),
            FieldLayout([Field("x", list: FieldLayout([Field("b", .bool)]), capacity: Int.max)]),
        ] {
            let procedure = ProcedureDescriptor(id: 1, name: "p", astackSize: 1 << 20, simultaneousCalls: 1,
                                                arguments: layout, results: .empty)
            let export = ControlMessage.export(InterfaceDescriptor(name: "hostile", procedures: [procedure]))
            XCTAssertThrowsError(try ControlMessage.decode(export.encoded())) {
                XCTAssertTrue("\($0)".contains("malformed layout"), "\($0)")
            }
        }
    }

    func testListsTravelInTheControlMessageAndComeBackEqual() throws {
        let descriptor = Procedure<ListSample, BoundedList<ListEntry, 4>>(id: 3, name: "lists").descriptor
        let interface = InterfaceDescriptor(name: "lists", procedures: [descriptor])
        guard case .export(let back) = try ControlMessage.decode(ControlMessage.export(interface).encoded()) else {
            return XCTFail("not an export")
        }
        XCTAssertEqual(back, interface)
        XCTAssertEqual(back.procedures[0].signature,
                       "lists(\(ListSample.layout.signature)) -> (items:list[4]{name:text[12],size:u64,hidden:bool})")
    }

    /// The built-in lists keep the bounds their services enforce.
    func testBuiltInListsMatchTheirServicesBounds() throws {
        XCTAssertEqual(NameList.layout.signature,
                       "registered:list[\(NameInterface.maximumEntries)]{text[\(NameInterface.maximumName)]}")
        let names = NameList(["bench", "clock"])
        XCTAssertEqual(try roundTrip(names).names, ["bench", "clock"])
        XCTAssertEqual(BenchInterface.sortPairs.descriptor.signature,
                       "sortPairs(items:list[8]{key:text[8],value:u64}) -> (items:list[8]{key:text[8],value:u64})")
        XCTAssertLessThanOrEqual(BenchInterface.sortPairs.descriptor.astackSize, BenchInterface.bigInOut.descriptor.astackSize)
    }
}
