// The example's services booted for real from the example's image: typed calls, typed
// errors, a service that is also a client, and its rebinding after the store restarts.
import Foundation
import Glibc
import Interfaces
import KVInterface
import LRPC
import NanoKernelTesting
import XCTest

final class KVTests: XCTestCase {
    var kernel: TestKernel!

    override func setUpWithError() throws {
        let image = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("image.toml").path
        kernel = try TestKernel(image: image)
    }

    override func tearDown() {
        XCTAssertTrue(kernel.shutdown(), "every domain exits with the kernel\n\(kernel.log)")
    }

    func testPutGetAndTypedErrors() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let kv = try KVClient(importing: runtime, callTimeoutSeconds: 10)
        try kv.put(key: BoundedText("greeting"), value: BoundedBytes(Array("hello".utf8)))
        XCTAssertEqual(try kv.get(key: BoundedText("greeting")).bytes, Array("hello".utf8))
        XCTAssertEqual(try kv.count(), 1)
        do {
            _ = try kv.get(key: BoundedText("absent"))
            XCTFail("found a key never put")
        } catch KVError.notFound {
        }
        XCTAssertThrowsError(try kv.put(key: BoundedText(""), value: BoundedBytes([]))) {
            XCTAssertEqual($0 as? KVError, .emptyKey)
        }
        XCTAssertThrowsError(try kv.put(key: BoundedText(String(repeating: "k", count: 65)), value: BoundedBytes([]))) {
            XCTAssertEqual($0 as? CallError, .fieldTooLarge(field: "kv.put: key", size: 65, limit: 64))
        }
    }

    func testStatsCallsKVAndTheClockAndRebindsAfterTheStoreRestarts() async throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let kv = try KVClient(importing: runtime)
        let stats = try StatsClient(importing: runtime, callTimeoutSeconds: 10)
        try await kv.put(key: BoundedText("a"), value: BoundedBytes([1]))
        try await kv.put(key: BoundedText("b"), value: BoundedBytes([2]))
        let first = try await stats.summary()
        XCTAssertEqual(first.keys, 2)
        XCTAssertGreaterThan(first.takenAt.seconds, 1_700_000_000)
        XCTAssertEqual(first.rebinds, 0)

        // Kill the store; the kernel restarts it (restart = "on-failure"), empty.
        let pid = try XCTUnwrap(kernel.status().domains.first { $0.name == "kv" }?.pid)
        XCTAssertEqual(kill(pid, SIGKILL), 0)
        var after: Summary?
        let deadline = Date().addingTimeInterval(15)
        while after == nil && Date() < deadline {
            after = try? await stats.summary()
            if after == nil { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        let summary = try XCTUnwrap(after, "stats answers again after the store restarts\n\(kernel.log)")
        XCTAssertEqual(summary.keys, 0, "the restarted store is empty")
        XCTAssertEqual(summary.rebinds, 1, "stats imported kv again once")
    }

    func testServiceLogLinesReachTheKernelLogWithTheDomainName() throws {
        let deadline = Date().addingTimeInterval(5)
        while !kernel.log.contains("starting") && Date() < deadline { usleep(20_000) }
        let line = kernel.log.split(separator: "\n").first { $0.contains("info kv: starting") }
        XCTAssertNotNil(line, kernel.log)
        XCTAssertTrue(line?.contains("kv") == true)
        XCTAssertTrue(line?.contains("capacity=1024") == true, String(line ?? ""))
    }
}
