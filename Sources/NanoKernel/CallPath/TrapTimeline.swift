// TrapTimeline: the kernel's own steps of one call trap, stamped as they happen while a
// trace is on. The trap handler is generic over its observer: with `Untraced` every
// observation is an empty inline function, so the untraced path is the code it was.
import CNanoKernel
import LRPC
import NanoAdmin

enum TrapCheck {
    case bindingObject, procedure, astack
}

protocol TrapObserver {
    /// True when the server should stamp its steps too.
    static var traces: Bool { get }
    mutating func copiedOut(_ trap: Trap)
    mutating func checked(_ check: TrapCheck, _ binding: KernelBinding)
    mutating func linked(_ sequence: UInt32, at: UInt64)
    mutating func upcalled(_ records: CallRecords, slot: Int, at: UInt64)
    mutating func refused(_ refusal: Refusal)
}

struct Untraced: TrapObserver {
    static var traces: Bool { false }
    @inline(__always) mutating func copiedOut(_ trap: Trap) {}
    @inline(__always) mutating func checked(_ check: TrapCheck, _ binding: KernelBinding) {}
    @inline(__always) mutating func linked(_ sequence: UInt32, at: UInt64) {}
    @inline(__always) mutating func upcalled(_ records: CallRecords, slot: Int, at: UInt64) {}
    @inline(__always) mutating func refused(_ refusal: Refusal) {}
}

struct TrapTimeline: TrapObserver {
    static var traces: Bool { true }
    private var steps: [TraceStep]
    private var trap: Trap?
    private var binding: KernelBinding?
    private var sequence: UInt32 = 0
    private var server: CallTrace.PendingServer?
    private var refusal: Refusal?
    private let trace: CallTrace

    init(woke: UInt64, trace: CallTrace) {
        self.trace = trace
        steps = [.kernel("", "trap handler woke on the doorbell (a futex wake: the trap reaching the kernel)", at: woke)]
    }

    mutating func copiedOut(_ trap: Trap) {
        self.trap = trap
        steps.append(.kernel("kernel 1", "trap registers copied out of the client's cell \(trap.cell), once"))
    }

    mutating func checked(_ check: TrapCheck, _ binding: KernelBinding) {
        self.binding = binding
        switch check {
        case .bindingObject:
            steps.append(.kernel("kernel 1", "binding object checked: in this domain's import table, generation and secret match"))
        case .procedure:
            steps.append(.kernel("kernel 1", "procedure checked: id \(trap!.procedure) is in the PDL, its PD located"))
        case .astack:
            // The slot is idle, so the server's stamps of the slot's previous traced call are final.
            trace.collectServerStamps(binding: trap!.bindingIndex, slot: Int(trap!.slot))
            steps.append(.kernel("kernel 2-3", "A-stack checked: slot \(trap!.slot) is this binding's and no call is using it"))
        }
    }

    mutating func linked(_ sequence: UInt32, at: UInt64) {
        self.sequence = sequence
        steps.append(.kernel("kernel 4-5", "linkage recorded: call \(sequence) on slot \(trap!.slot), caller's cell \(trap!.cell)", at: at))
    }

    mutating func upcalled(_ records: CallRecords, slot: Int, at: UInt64) {
        server = CallTrace.PendingServer(entry: 0, sequence: sequence, records: records, slot: slot)
        steps.append(.kernel("kernel 6-9", "upcall: call record written (procedure, caller), slot thread woken", at: at))
    }

    mutating func refused(_ refusal: Refusal) {
        self.refusal = refusal
        let check: String
        switch refusal {
        case .forgedBindingObject, .staleBindingObject, .foreignBindingObject: check = "binding object"
        case .unknownProcedure: check = "procedure"
        case .slotOutOfRange, .slotInUse: check = "A-stack"
        case .malformedTrap: check = "trap"
        }
        let seed = check == "A-stack" ? "kernel 2-3" : "kernel 1"
        steps.append(.kernel(seed, "\(check) check FAILED: \(refusal); refusal written to the caller's cell, the server never sees it"))
    }

    /// Hand the entry to the trace; the client's and server's reports join it later.
    func record(domain: KernelDomain, page: TrapPage) {
        guard let trap else { return }
        let key = TrapCell.traceKey(cell: trap.cell, sequence: trap.cellSequence)
        let entry = TraceEntry(
            id: 0, kind: "call", client: domain.name, server: binding?.server.name ?? "",
            interface: binding?.interface.name ?? "",
            procedure: binding?.interface.procedure(id: trap.procedure)?.name ?? "#\(trap.procedure)",
            transport: Transport.lrpc.rawValue, binding: trap.bindingIndex, generation: trap.bindingGeneration,
            slot: trap.slot, outcome: refusal.map { "refused: \($0)" } ?? "upcalled",
            steps: steps, complete: false, missing: refusal == nil ? ["client report", "server report"] : ["client report"])
        _ = trace.call(domain: domain.id, key: key, entry: entry, server: server)
        trace.collectClientReports(domain: domain.id, page: page)
    }
}
