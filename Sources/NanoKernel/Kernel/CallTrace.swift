// CallTrace: what the kernel did with each call trap, for `nkctl trace`. Off by default;
// while off it costs the trap handler one relaxed load per trap. While on, each trap's
// outcome goes into a bounded ring under a lock (the call path is then slower: that is
// the price of looking).
import CNanoKernel
import LRPC
import Synchronization

public struct TraceEntry: Codable, Sendable, Equatable {
    public let nanoseconds: UInt64
    public let domain: String
    public let binding: UInt32
    public let interface: String
    public let procedure: String
    public let slot: UInt32
    public let cell: Int
    /// "upcall seq N" or "refused: <reason>".
    public let verdict: String
}

final class CallTrace: @unchecked Sendable {
    private let enabled = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
    private let ring = Mutex<[TraceEntry]>([])
    static let capacity = 1000

    init() { enabled.initialize(to: 0) }

    @inline(__always) var isOn: Bool { nk_load_relaxed(enabled) != 0 }

    func turn(on: Bool) {
        if on { ring.withLock { $0.removeAll() } }
        nk_store_relaxed(enabled, on ? 1 : 0)
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
