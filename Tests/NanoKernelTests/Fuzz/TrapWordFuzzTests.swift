// Fuzzing the words a client writes in memory the kernel and a server read: its trap
// page (cells, doorbell, report ring while a trace is on) and its A-stacks (argument
// lengths and bytes, the reply word), random or nearly right, written before a trap and
// while it is in flight. The honest server (bench) and the kernel must be unharmed.
import Foundation
import Glibc
import KernelFuzz
import Interfaces
import LRPC
import NanoAdmin
import SystemPackage
import XCTest

final class TrapWordFuzzTests: KernelFuzzTestCase {
    func testTrapPageAndAStackWordsFromAClient() throws {
        let seed = seed(0x7_2A_9)
        var random = FuzzRandom(seed: seed)
        guard let domain = RawOperator(socketPath: kernel.socketPath) else { return XCTFail("no welcome") }
        defer { domain.close() }
        domain.send(ControlMessage.admin(request: 1, command: "trace", argument: "on").encoded())
        domain.send(ControlMessage.importInterface(request: 2, name: BenchInterface.name, transport: .lrpc, waitMilliseconds: 2000).encoded())
        XCTAssertTrue(domain.waitForReply(timeout: 10) { if case .imported = $0 { true } else { false } }, "no bench binding")
        guard let page = domain.trapPage, let (bo, geometry, fd) = domain.imported.first else { return XCTFail("no trap page or binding") }
        // The mapping takes (and closes) a copy: the domain keeps its own descriptor.
        let astacks = AStackRegion(region: try SharedRegion(mapping: FileDescriptor(rawValue: dup(fd.rawValue)), size: geometry.regionSize),
                                   geometry: geometry)
        let procedures = BenchInterface.all.map(\.id)
        var traps = 0, writes = 0
        let deadline = Date().addingTimeInterval(Self.budgetSeconds)
        while Date() < deadline && !domain.closed {
            let cellIndex = random.below(TrapPage.cellCount)
            let cell = page.cell(cellIndex)
            let slot = random.chance(85) ? random.below(geometry.slotCount) : Int(random.edgeWord())
            var trapBO = bo
            if random.chance(20) { trapBO.secret ^= random.next() }
            if random.chance(10) { trapBO.index = random.edgeWord() }
            if random.chance(10) { trapBO.generation = random.edgeWord() }
            let procedure = random.chance(85) ? random.pick(procedures) : random.edgeWord()
            // The A-stack: an argument length and bytes that are random, edge, or nearly right.
            if slot >= 0 && slot < geometry.slotCount {
                let s = astacks.slot(slot)
                s.reply.store(random.chance(80) ? ReplyState.pending.rawValue : random.edgeWord())
                s.argumentLength.store(random.chance(50) ? UInt32(random.below(geometry.payloadCapacity + 8)) : random.edgeWord())
                let bytes = random.bytes(random.below(s.payload.count + 1))
                s.payload.copyMemory(from: bytes.withUnsafeBytes { $0 })
                if random.chance(30) {  // a plausible length prefix: a bounded field's own length word
                    s.payload.storeBytes(of: random.edgeWord(), toByteOffset: 0, as: UInt32.self)
                }
            }
            cell.procedure.store(procedure)
            cell.bindingIndex.store(trapBO.index)
            cell.bindingGeneration.store(trapBO.generation)
            cell.bindingSecret.storeRelaxed(trapBO.secret)
            cell.slot.store(UInt32(truncatingIfNeeded: slot))
            cell.cpu.store(random.chance(80) ? 0 : random.edgeWord())
            let sequence = UInt32(random.below(1 << 24))
            let state = random.chance(80) ? CellState.posted.rawValue : UInt32(random.below(256))
            cell.state.store(sequence << 8 | state)
            // A report in the ring, as a tracing client stub leaves one: keys and times of its choosing.
            if random.chance(30) {
                let n = page.reportsWritten.load()
                let report = page.report(n)
                report.key.store(random.chance(50) ? TrapCell.traceKey(cell: cellIndex, sequence: sequence) : random.edgeWord())
                report.binding.store(random.chance(50) ? bo.index : random.edgeWord())
                for field in [CallReportField.started, .argumentsCopied, .posted, .woke, .resultsCopied] {
                    report.time(field).storeRelaxed(random.chance(50) ? UInt64(random.edgeWord()) : random.next())
                }
                page.reportsWritten.store(random.chance(90) ? n &+ 1 : random.edgeWord())
                writes += 1
            }
            let bits = random.chance(80) ? UInt32(1) << UInt32(cellIndex) : UInt32(truncatingIfNeeded: random.next())
            _ = page.pending.fetchOr(bits)
            page.pending.wake(count: 1)
            traps += 1
            remember("cell \(cellIndex) slot \(slot) procedure \(procedure) state \(state) bits \(String(bits, radix: 16))")
            // While it is in flight: the client changes its mind about words already read.
            if random.chance(30) {
                usleep(UInt32(random.below(200)))
                cell.state.store(UInt32(truncatingIfNeeded: random.next()))
                if slot >= 0 && slot < geometry.slotCount { astacks.slot(slot).reply.store(random.edgeWord()) }
                writes += 1
            }
            // Wait a little (bounded) for the kernel or server to finish with the cell.
            let waitUntil = monotonicNanoseconds() + 20_000_000
            while monotonicNanoseconds() < waitUntil {
                let s = TrapCell.state(of: cell.state.load())
                if s == .refused || s == .failed { break }
                if s == .accepted, slot >= 0, slot < geometry.slotCount,
                   astacks.slot(slot).reply.load() == ReplyState.done.rawValue { break }
                usleep(100)
            }
            domain.drain()
            if traps % 500 == 0 { assertKernelHealthy(seed: seed) }
        }
        print("fuzz trap words: \(traps) traps posted, \(writes) in-flight or report writes; the domain was \(domain.closed ? "cut off" : "kept")")
        XCTAssertGreaterThan(traps, 0)
        domain.send(ControlMessage.admin(request: 3, command: "trace", argument: "off").encoded())
        domain.close()
        assertKernelHealthy(seed: seed)
        assertResourcesBackToBaseline(seed: seed)
    }

    /// Finding (the suite's run of seed 29353): a traced call still waiting for its server's
    /// stamps when its binding was revoked kept the binding's call records (a memfd and a
    /// mapping in the kernel) in the trace until the next `trace on`. They go with the binding.
    func testATracedCallInFlightKeepsNothingOfItsBindingAfterTheClientLeaves() throws {
        let client = try kernel.connect()
        _ = try client.admin("trace", argument: "on")
        let bench = try client.importInterface(BenchInterface.name)
        bench.callTimeoutSeconds = 10
        let done = DispatchSemaphore(value: 0)
        Thread { _ = try? bench.call(BenchInterface.hold, 1_500); done.signal() }.start()
        XCTAssertTrue(KernelHarness.waitUntil(seconds: 5) {
            let rows = (try? JSONDecoder().decode([BindingReport].self, from: Data(self.runtime.admin("bindings").utf8))) ?? []
            return rows.contains { $0.client == client.domainName && $0.interface == "bench" && $0.astacksInUse > 0 }
        }, "the hold call never got under way")
        client.close()
        XCTAssertEqual(done.wait(timeout: .now() + 15), .success, "the call in flight never ended")
        usleep(2_000_000)  // bench finishes the hold: its stamps arrive for nobody
        assertResourcesBackToBaseline(seed: 0)
        assertEveryoneElseIsFine()
    }
}
