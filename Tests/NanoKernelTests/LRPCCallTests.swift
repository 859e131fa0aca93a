// Boot the default image for real, call every procedure of every service over LRPC,
// and shut down with nothing left behind.
import Foundation
import Interfaces
import LRPC
import XCTest

final class LRPCCallTests: KernelTestCase {
    func testEveryProcedureOfEveryServiceAnswers() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }

        let names = try runtime.importInterface(NameInterface.name)
        names.callTimeoutSeconds = 10
        XCTAssertEqual(try names.call(NameInterface.list, Empty()).names, ["bench", "clock", "file", "name"])
        let clockOwner = try names.call(NameInterface.lookup, InterfaceName("clock"))
        XCTAssertTrue(clockOwner.found)
        XCTAssertEqual(clockOwner.domain, try kernel.domain("clock").id, "the registry records the kernel's caller id")
        XCTAssertFalse(try names.call(NameInterface.lookup, InterfaceName("nothing")).found)
        _ = try names.call(NameInterface.register, InterfaceName("scratch"))
        XCTAssertEqual(try names.call(NameInterface.lookup, InterfaceName("scratch")).domain, runtime.domainID)

        let clock = try runtime.importInterface(ClockInterface.name)
        clock.callTimeoutSeconds = 10
        let now = try clock.call(ClockInterface.now, Empty())
        XCTAssertLessThan(abs(Double(now.seconds) - Date().timeIntervalSince1970), 5)
        let first = try clock.call(ClockInterface.monotonic, Empty())
        let second = try clock.call(ClockInterface.monotonic, Empty())
        XCTAssertGreaterThan(second.seconds * 1_000_000_000 + second.nanoseconds, first.seconds * 1_000_000_000 + first.nanoseconds)
        XCTAssertGreaterThan(try clock.call(ClockInterface.resolution, Empty()), 0)

        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 10
        _ = try bench.call(BenchInterface.null, Empty())
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(40, 2)), 42)
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(Int32.max, 1)), Int32.min)
        let payload = (0..<200).map { UInt8($0) }
        _ = try bench.call(BenchInterface.bigIn, BoundedBytes<200>(payload))
        XCTAssertEqual(try bench.call(BenchInterface.bigInOut, BoundedBytes<200>(payload)).bytes, payload)
        _ = try bench.call(BenchInterface.hold, 1)

        XCTAssertGreaterThanOrEqual(try kernel.domain("bench").callsServed, 6)
    }

    func testArgumentsLargerThanTheAStackAreRefusedBeforeTheTrap() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        let before = try kernel.domain("bench").callsServed
        XCTAssertThrowsError(try bench.call(BenchInterface.bigIn, BoundedBytes<200>(Array(repeating: 1, count: 201)))) { error in
            // The field's capacity is the limit, and the message says it is the field's.
            guard case CallError.fieldTooLarge(let field, let size, let limit) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "bench.bigIn: bytes")
            XCTAssertEqual(size, 201)
            XCTAssertEqual(limit, 200)
        }
        XCTAssertEqual(try kernel.domain("bench").callsServed, before, "no trap reached the server")
    }

    func testNkctlCallPrintsResultsAndExplainsMistakes() throws {
        func nkctl(_ command: String, _ args: String...) throws -> (Int32, String) {
            try KernelHarness.run([KernelHarness.nkctl, command, "--socket", kernel.socketPath] + args, timeout: 20)
        }
        let add = try nkctl("call", "bench.add", "-5", "7")
        XCTAssertEqual(add.0, 0, add.1)
        XCTAssertEqual(add.1, "value: 2\n")
        let json = try nkctl("call", "clock.resolution", "--json")
        XCTAssertTrue(json.1.hasPrefix("{\"value\": "), json.1)

        let unknownProcedure = try nkctl("call", "clock.tomorrow")
        XCTAssertEqual(unknownProcedure.0, 2)
        XCTAssertTrue(unknownProcedure.1.contains("procedures: now, monotonic, resolution"), unknownProcedure.1)
        let unknownService = try nkctl("call", "weather.today")
        XCTAssertNotEqual(unknownService.0, 0)
        XCTAssertTrue(unknownService.1.contains("interfaces: bench, clock, file, name"), unknownService.1)
        let missing = try nkctl("call", "bench.add", "1")
        XCTAssertEqual(missing.0, 2)
        XCTAssertTrue(missing.1.contains("usage: nkctl call bench.add <a:i32> <b:i32>"), missing.1)
        let wrongType = try nkctl("call", "bench.add", "one", "2")
        XCTAssertEqual(wrongType.0, 2)
        XCTAssertTrue(wrongType.1.contains("argument a must be i32"), wrongType.1)
        let tooBig = try nkctl("call", "bench.bigIn", String(repeating: "x", count: 300))
        XCTAssertEqual(tooBig.0, 1)
        // 200 is the field's capacity, and the message says so (not "its A-stack").
        XCTAssertTrue(tooBig.1.contains("nkctl: bench.bigIn: bytes is 300 bytes; the field holds at most 200"), tooBig.1)

        let status = try nkctl("status")
        XCTAssertTrue(status.1.contains("clock") && status.1.contains("ready"), status.1)
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let clock = try runtime.importInterface(ClockInterface.name)
        let bindings = try nkctl("bindings", "--json")
        XCTAssertTrue(bindings.1.contains("\"binding\":\(clock.bindingObject.index)"), bindings.1)
        XCTAssertTrue(bindings.1.contains("\"interface\":\"clock\""), bindings.1)
        XCTAssertFalse(bindings.1.contains("secret") || bindings.1.contains(String(clock.bindingObject.secret)),
                       "a binding object's secret is never shown")
    }

    /// `call`'s options work after the target too (`--socket` was taken for a procedure
    /// argument); after `--` every word is an argument, even one that looks like an option.
    func testNkctlCallTakesItsOptionsInAnyPosition() throws {
        func run(_ args: String...) throws -> (Int32, String) {
            // No --socket before the target, nor NK_SOCKET: only the trailing one names the kernel.
            try KernelHarness.run(["/usr/bin/env", "-u", "NK_SOCKET", KernelHarness.nkctl] + args, timeout: 20)
        }
        let trailing = try run("call", "bench.add", "2", "3", "--socket", kernel.socketPath)
        XCTAssertEqual(trailing.0, 0, trailing.1)
        XCTAssertEqual(trailing.1, "value: 5\n")
        let mixed = try run("call", "bench.add", "--json", "-2", "--socket=\(kernel.socketPath)", "--timeout", "5", "7")
        XCTAssertEqual(mixed.0, 0, mixed.1)
        XCTAssertEqual(mixed.1, "{\"value\": 5}\n")
        // Text that looks like an option travels after --.
        let write = try run("call", "file.write", "--socket", kernel.socketPath, "odd.txt", "--", "--socket")
        XCTAssertEqual(write.0, 0, write.1)
        let read = try run("call", "--socket", kernel.socketPath, "file.read", "odd.txt", "--json")
        XCTAssertEqual(read.0, 0, read.1)
        XCTAssertTrue(read.1.contains("\"--socket\""), read.1)
        let dangling = try run("call", "bench.add", "2", "3", "--socket")
        XCTAssertEqual(dangling.0, 2, dangling.1)
        XCTAssertTrue(dangling.1.contains("--socket needs a value"), dangling.1)
        let conflicting = try run("call", "--socket", kernel.socketPath, "bench.add", "2", "3", "--socket", "/nonexistent")
        XCTAssertEqual(conflicting.0, 2, conflicting.1)
        XCTAssertTrue(conflicting.1.contains("--socket is given twice"), conflicting.1)
    }

    func testEightThreadsOfTenThousandCallsGetTheirOwnResults() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 20
        let threads = 8, calls = 10_000
        let failures = UnsafeMutablePointer<Int>.allocate(capacity: threads)
        failures.initialize(repeating: 0, count: threads)
        defer { failures.deallocate() }
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                defer { group.leave() }
                for i in 0..<calls {
                    let a = Int32(t * 1_000_000 + i), b = Int32(i % 97)
                    guard (try? bench.call(BenchInterface.add, AddArguments(a, b))) == a + b else {
                        failures[t] += 1
                        continue
                    }
                    if i % 500 == 0 {
                        let bytes = Array("thread \(t) call \(i)".utf8)
                        if (try? bench.call(BenchInterface.bigInOut, BoundedBytes<200>(bytes)))?.bytes != bytes { failures[t] += 1 }
                    }
                }
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "calls deadlocked or hung")
        XCTAssertEqual((0..<threads).map { failures[$0] }, Array(repeating: 0, count: threads))
        XCTAssertGreaterThanOrEqual(try kernel.domain("bench").callsServed, UInt64(threads * calls))
    }
}
