// Interfaces declared once (@ServiceInterface, @AStackValue): the generated client stubs
// against the real built-in services, typed errors across domains, async calls that
// leave Swift's cooperative pool free, and generated layouts that match their bytes.
import Foundation
import Interfaces
import LRPC
import NanoAdmin
import XCTest

@AStackValue
struct Sample: Equatable {
    var count: Int32
    var total: UInt64
    var ratio: Double
    var flag: Bool
    var label: BoundedText<8>
    var when: Timestamp
    var limit: Int64?
    var missing: UInt32?
}

final class GeneratedInterfaceTests: KernelTestCase {
    func testGeneratedStubsCallTheBuiltInServices() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 10)
        XCTAssertEqual(try bench.add(a: 40, b: 2), 42)
        XCTAssertEqual(try bench.bigInOut(BoundedBytes([1, 2, 3])).bytes, [1, 2, 3])
        try bench.null()
        let clock = try ClockClient(importing: runtime, callTimeoutSeconds: 10)
        XCTAssertGreaterThan(try clock.resolution(), 0)
        XCTAssertGreaterThan(try clock.now().seconds, 1_700_000_000)
        let names = try NameClient(importing: runtime, callTimeoutSeconds: 10)
        XCTAssertTrue(try names.lookup(InterfaceName("bench")).found)
    }

    func testADeclaredErrorArrivesAsItsOwnTypeAndTransportErrorsStayApart() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 10)
        XCTAssertThrowsError(try bench.hold(20_000)) { error in
            XCTAssertEqual(error as? BenchError, .holdTooLong, "\(error)")
        }
        let names = try NameClient(importing: runtime, callTimeoutSeconds: 10)
        // A procedure that declares no error type: its failure is a CallError, apart
        // from transport errors.
        XCTAssertThrowsError(try names.register(InterfaceName(""))) { error in
            guard case .procedureFailed(let text) = error as? CallError else { return XCTFail("\(error)") }
            XCTAssertTrue(text.contains("the name is empty"), text)
        }
        // A field too large is the caller's mistake, refused before the trap, and names
        // the field and its capacity.
        XCTAssertThrowsError(try bench.bigIn(BoundedBytes(Array(repeating: 0, count: 300)))) { error in
            XCTAssertEqual(error as? CallError, .fieldTooLarge(field: "bench.bigIn: bytes", size: 300, limit: 200))
        }
    }

    func testAsyncCallsDoNotOccupyTheCooperativePool() async throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try BenchClient(importing: runtime, callTimeoutSeconds: 30)
        // Eight calls each hold a slot for 3 s: more than the cooperative pool has threads
        // on this machine. While they are in flight, other tasks must still run.
        let returned = Counter()
        let holds = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await bench.hold(3000); returned.add() }
                }
                try await group.waitForAll()
            }
        }
        let allInFlight = await Self.eventually(seconds: 10) { self.benchSlotsInUse(runtime) >= 8 }
        XCTAssertTrue(allInFlight, "all eight calls reached the server at once")
        let sum = await withTaskGroup(of: Int.self) { group in
            for i in 0..<16 { group.addTask { i } }
            return await group.reduce(0, +)
        }
        XCTAssertEqual(sum, 120)
        XCTAssertEqual(returned.value, 0, "other tasks ran while the eight calls were still in flight")
        let sum3 = try await bench.add(a: 1, b: 2)
        XCTAssertEqual(sum3, 3, "an async call completes while others block")
        try await holds.value
        XCTAssertEqual(returned.value, 8)
    }

    private func benchSlotsInUse(_ runtime: DomainRuntime) -> Int {
        guard let text = try? runtime.admin("bindings"),
              let reports = try? JSONDecoder().decode([BindingReport].self, from: Data(text.utf8)) else { return 0 }
        return reports.filter { $0.server == "bench" }.map(\.astacksInUse).reduce(0, +)
    }

    private static func eventually(seconds: Double, _ condition: @escaping () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// No kernel: generated layouts against the bytes the generated code writes.
final class GeneratedLayoutTests: XCTestCase {
    func testLayoutNamesEveryFieldAndMatchesWhatIsWritten() throws {
        XCTAssertEqual(Sample.layout.signature,
                       "count:i32,total:u64,ratio:f64,flag:bool,label:text[8],when.seconds:i64,when.nanoseconds:i64,"
                       + "limit?:bool,limit:i64,missing?:bool,missing:u32")
        let value = Sample(count: -3, total: 9, ratio: 0.5, flag: true, label: BoundedText("12345678"),
                           when: Timestamp(seconds: 1, nanoseconds: 2), limit: 7, missing: nil)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Sample.layout.size, alignment: 8)
        defer { buffer.deallocate() }
        var writer = AStackWriter(buffer)
        try value.write(to: &writer)
        XCTAssertEqual(writer.offset, Sample.layout.size, "a value at full capacity fills exactly its layout")
        var reader = AStackReader(UnsafeRawBufferPointer(buffer))
        XCTAssertEqual(try Sample(from: &reader), value)
    }

    func testGeneratedDescriptorsKeepTheBuiltInLayouts() {
        XCTAssertEqual(BenchInterface.add.descriptor.signature, "add(a:i32,b:i32) -> (value:i32)")
        XCTAssertEqual(BenchInterface.bigInOut.descriptor.signature, "bigInOut(bytes:bytes[200]) -> (bytes:bytes[200])")
        XCTAssertEqual(ClockInterface.now.descriptor.signature, "now() -> (seconds:i64,nanoseconds:i64)")
        XCTAssertEqual(NameInterface.lookup.descriptor.signature, "lookup(name:text[32]) -> (found:bool,domain:u32)")
        XCTAssertEqual(BenchInterface.null.descriptor.simultaneousCalls, 8)
        XCTAssertEqual(BenchInterface.all.map(\.id), [0, 1, 2, 3, 4, 5])
    }

    func testAFailureMessageTooLongIsCutWithAMarkerNeverSilently() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { buffer.deallocate() }
        let long = String(repeating: "é", count: 100)  // 200 bytes
        let written = FailureCoding.write(code: 3, message: long, into: buffer)
        XCTAssertLessThanOrEqual(written, 64)
        let (code, message) = FailureCoding.read(UnsafeRawBufferPointer(rebasing: buffer[0..<written]))
        XCTAssertEqual(code, 3)
        XCTAssertTrue(message.hasPrefix("éé"))
        let kept = message.prefix { $0 == "é" }.utf8.count
        XCTAssertTrue(message.hasSuffix(" …[\(200 - kept) bytes cut]"), message)
        XCTAssertEqual(FailureCoding.read(UnsafeRawBufferPointer(rebasing: buffer[0..<FailureCoding.write(
            code: 1, message: "short", into: buffer)])).message, "short")
    }
}
