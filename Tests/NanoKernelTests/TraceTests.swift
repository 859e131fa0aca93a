// nkctl trace's data: every binding step and every call step, timed on one clock, with
// the client's and server's own reports joined to the kernel's steps; and the shared
// layouts the book prints, checked against the code.
import Foundation
import Interfaces
import LRPC
import NanoAdmin
import NanoKernel
import XCTest

final class TraceTests: KernelTestCase {
    private func trace(_ runtime: DomainRuntime, _ argument: String) throws -> TraceReply {
        try JSONDecoder().decode(TraceReply.self, from: Data(try runtime.admin("trace", argument: argument).utf8))
    }

    /// Every entry from the start, once all are complete (or the wait ends).
    private func completeEntries(_ runtime: DomainRuntime, count: Int) throws -> [TraceEntry] {
        var entries: [TraceEntry] = []
        _ = KernelHarness.waitUntil(seconds: 5) {
            entries = []
            var next: UInt64 = 0
            while let reply = try? self.trace(runtime, "from=\(next)"), !reply.entries.isEmpty {
                entries += reply.entries
                next = reply.next
            }
            return entries.count >= count && entries.allSatisfy(\.complete)
        }
        return entries
    }

    func testTheTraceShowsEveryBindingStepAndEveryCallStep() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        XCTAssertTrue(try trace(runtime, "on").on)
        let bench = try runtime.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 10
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(2, 2)), 4)
        var forged = bench.bindingObject
        forged.secret ^= 1
        XCTAssertThrowsError(try bench.trap(procedureID: 0, slot: 0, bindingObject: forged))
        let messages = try runtime.importInterface(BenchInterface.name, transport: .message)
        messages.callTimeoutSeconds = 10
        XCTAssertEqual(try messages.call(BenchInterface.add, AddArguments(3, 4)), 7)

        let entries = try completeEntries(runtime, count: 5)
        XCTAssertEqual(entries.map(\.id), entries.map(\.id).sorted(), "ids increase")
        XCTAssertEqual(Set(entries.map(\.id)).count, entries.count, "ids are unique")

        let binding = try XCTUnwrap(entries.first { $0.kind == "binding" && $0.transport == "lrpc" })
        XCTAssertEqual(binding.outcome, "bound")
        XCTAssertEqual(binding.binding, bench.bindingObject.index)
        XCTAssertEqual(binding.steps.map(\.seed), ["binding 3", "binding 3", "binding 6", "binding 5", "binding 4", "binding 4", "binding 6"])

        let calls = entries.filter { $0.kind == "call" }
        XCTAssertEqual(calls.map(\.outcome), ["upcalled", "refused: \(Refusal.forgedBindingObject)", "relayed"])
        let add = calls[0]
        XCTAssertEqual(add.procedure, "add")
        XCTAssertEqual(add.client, runtime.domainName)
        XCTAssertEqual(add.server, "bench")
        XCTAssertEqual(Set(add.steps.map(\.actor)), ["client", "kernel", "server"])
        XCTAssertTrue(add.missing.isEmpty, "client and server reports arrived: \(add.missing)")
        let seeds = add.steps.sorted { $0.at < $1.at }.map(\.seed)
        XCTAssertEqual(seeds.first, "client 1")
        XCTAssertTrue(seeds.contains("kernel 4-5") && seeds.contains("kernel 6-9") && seeds.contains("server 2"), "\(seeds)")
        let times = add.steps.map(\.at)
        XCTAssertLessThan(times.max()! - times.min()!, 1_000_000_000, "one clock across the three processes")

        let refused = calls[1]
        XCTAssertTrue(refused.steps.contains { $0.seed == "kernel 1" && $0.what.contains("FAILED") })
        XCTAssertFalse(refused.steps.contains { $0.actor == "server" }, "the server never saw the refused call")

        let relayed = calls[2]
        XCTAssertEqual(relayed.transport, "message")
        XCTAssertEqual(Set(relayed.steps.map(\.actor)), ["client", "kernel", "server"])

        XCTAssertFalse(try trace(runtime, "off").on)
        XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(1, 1)), 2)
        let after = try trace(runtime, "from=\(entries.last!.id + 1)")
        XCTAssertTrue(after.entries.isEmpty, "nothing is traced once the trace is off")
    }

    /// Also the regression test for the relay's `stop` shutting down descriptor numbers its
    /// thread had already closed (and the kernel reused): the client's end closes before
    /// the kernel handles its release, every time here.
    func testATracedMessageBindingCanGoTheMomentItsCallReturns() throws {
        let runtime = try kernel.connect()
        defer { runtime.close() }
        XCTAssertTrue(try trace(runtime, "on").on)
        for i in 0..<30 {
            // The client releases the binding as soon as its reply arrives, while the
            // kernel's relay may still be recording the call.
            let bench = try runtime.importInterface(BenchInterface.name, transport: .message)
            bench.callTimeoutSeconds = 10
            XCTAssertEqual(try bench.call(BenchInterface.add, AddArguments(Int32(i), 1)), Int32(i) + 1)
        }
        XCTAssertEqual(try kernel.domain("bench").state, "ready")
        XCTAssertFalse(try trace(runtime, "off").on, "the kernel still answers")
    }

    func testNkctlTracePrintsEachCallAsOneBlockWithTheSeedsSteps() throws {
        let done = DispatchSemaphore(value: 0)
        var printed: (status: Int32, output: String) = (-1, "")
        Thread {
            printed = (try? KernelHarness.run([KernelHarness.nkctl, "trace", "--seconds", "3", "--interface", "clock",
                                               "--socket", self.kernel.socketPath], timeout: 20)) ?? (-1, "")
            done.signal()
        }.start()
        let runtime = try kernel.connect()
        defer { runtime.close() }
        // Once the trace is on, call clock.
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.trace(runtime, "")).map(\.on) == true })
        let clock = try runtime.importInterface(ClockInterface.name)
        clock.callTimeoutSeconds = 10
        _ = try clock.call(ClockInterface.now, Empty())
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
        XCTAssertEqual(printed.status, 0, printed.output)
        let text = printed.output
        XCTAssertTrue(text.contains("call #"), text)
        XCTAssertTrue(text.contains("→ clock.now in clock (lrpc"), text)
        for step in ["client 1", "client 3-4", "kernel 1", "kernel 2-3", "kernel 4-5", "kernel 6-9", "server 2", "server 3"] {
            XCTAssertTrue(text.contains("\n  \(step) "), "no line for \(step) in:\n\(text)")
        }
        XCTAssertTrue(text.contains("imports clock from clock, lrpc"), "the binding's block: \(text)")
        XCTAssertFalse(try trace(runtime, "").on, "nkctl turned the trace off as it exited")
    }

    func testTheTraceStopsWhenItsOperatorGoes() throws {
        let owner = try kernel.connect()
        XCTAssertTrue(try trace(owner, "on").on)
        owner.close()
        let other = try kernel.connect()
        defer { other.close() }
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) { (try? self.trace(other, "").on) == false })
    }
}

final class LayoutTests: XCTestCase {
    func testTheBookPrintsTheLayoutsTheCodeUses() throws {
        let path = KernelHarness.repositoryRoot + "/docs/layout.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text, SharedLayouts.markdown(), "docs/layout.md is stale: run `nkctl layout --markdown > docs/layout.md`")
    }

    func testNoSharedFieldOverlapsAnother() {
        for table in SharedLayouts.all { XCTAssertEqual(table.defects, [], table.name) }
        XCTAssertEqual(TrapPageField.cells.rawValue + TrapPageField.cells.size, TrapPageField.reports.rawValue)
        XCTAssertEqual(TrapPage.size, TrapPageField.reports.rawValue + TrapPageField.reports.size)
        XCTAssertLessThanOrEqual(CallRecordField.serverReturned.rawValue + 8, CallRecordField.layoutSize)
    }
}
