// CallTrace: what the kernel did with each call trap, for `nkctl trace`. Off by default;
// while off it costs the trap handler one relaxed load per trap. While on, each trap's
// outcome goes into a bounded ring under a lock (the call path is then slower: that is
// the price of looking).
import CNanoKernel
import LRPC
import NanoAdmin
import Synchronization

final class CallTrace: @unchecked Sendable {
    private let enabled = SharedWord.allocate()
    private let ring = Mutex<[TraceEntry]>([])
    static let capacity = 1000

    init() {}

    deinit { enabled.deallocate() }

    @inline(__always) var isOn: Bool { enabled.loadRelaxed() != 0 }

    func turn(on: Bool) {
        if on { ring.withLock { $0.removeAll() } }
        enabled.storeRelaxed(on ? 1 : 0)
    }

    func record(_ trap: Trap, domain: KernelDomain, binding: KernelBinding?, verdict: String) {
        let procedure = binding?.interface.procedure(id: trap.procedure)?.name ?? "#\(trap.procedure)"
        let entry = TraceEntry(nanoseconds: monotonicNanoseconds(), domain: domain.name, binding: trap.bindingIndex,
                               interface: binding?.interface.name ?? "?", procedure: procedure, slot: trap.slot,
                               cell: trap.cell, verdict: verdict)
        ring.withLock { entries in
            if entries.count >= Self.capacity { entries.removeFirst() }
            entries.append(entry)
        }
    }

    var entries: [TraceEntry] { ring.withLock { $0 } }
}
