// The file interface's wire form: the generated layouts are exactly the ones the service
// has always exported (same fields, kinds and capacities), and every FileError code
// survives the trip as a declared service error.
import Interfaces
import LRPC
import XCTest

final class FileInterfaceTests: XCTestCase {
    let path = Field("path", .text, capacity: FileInterface.pathCapacity)
    let data = Field("data", .bytes, capacity: FileInterface.chunkCapacity)

    func testArgumentLayoutsKeepTheirFieldsAndLimits() {
        XCTAssertEqual(PathArgument.layout, FieldLayout([path]))
        XCTAssertEqual(ListArguments.layout, FieldLayout([path, Field("cursor", .uint64)]))
        XCTAssertEqual(ReadArguments.layout, FieldLayout([path, Field("offset", .uint64), Field("count", .uint32)]))
        XCTAssertEqual(WholeFile.layout, FieldLayout([path, data]))
        XCTAssertEqual(WriteAtArguments.layout, FieldLayout([path, Field("offset", .uint64), data]))
        XCTAssertEqual(TruncateArguments.layout, FieldLayout([path, Field("size", .uint64)]))
        XCTAssertEqual(RenameArguments.layout,
                       FieldLayout([Field("from", .text, capacity: FileInterface.pathCapacity),
                                    Field("to", .text, capacity: FileInterface.pathCapacity)]))
        XCTAssertEqual(WriteResult.layout, FieldLayout([Field("offset", .uint64), Field("size", .uint64)]))
    }

    func testEveryFileErrorCodeRoundTrips() {
        var seen = Set<UInt32>()
        for code in FileError.Code.allCases {
            let error = FileError(code, "detail of \(code)")
            XCTAssertNotEqual(error.wireCode, 0, "0 means an untyped failure")
            XCTAssertTrue(seen.insert(error.wireCode).inserted, "\(code) shares its wire code")
            XCTAssertEqual(FileError(code: error.wireCode, message: error.message), error)
        }
        XCTAssertNil(FileError(code: 0, message: "untyped"))
        XCTAssertNil(FileError(code: UInt32(FileError.Code.allCases.count) + 1, message: "a newer service's code"))
    }
}
