// CallTrapHandler: the kernel's side of the call trap, one thread per client domain.
//
// For each trap the domain posts, in the kernel's own process, before the server sees
// anything (kernel steps 1-3 of LRPC):
//   validateBindingObject  live, and owned by the trapping domain
//   validateProcedure      the procedure id is in the binding's PDL
//   validateAStackSlot     the slot belongs to this binding and is not in use
// then recordLinkage and upcall: write the call record the client cannot touch and
// wake the server thread that serves the slot. A refusal is written to the caller's
// trap cell and logged with the offending domain.
import CNanoKernel
import Glibc
import LRPC

/// A trap as copied out of the client-writable cell, once, before validation.
struct Trap {
    let cell: Int
    let cellSequence: UInt32
    let procedure: UInt32
    let bindingIndex: UInt32
    let bindingGeneration: UInt32
    let bindingSecret: UInt64
    let slot: UInt32
    /// Where the client ran when it trapped (follow-client placement); a hint, never trusted.
    let cpu: UInt32
}

final class CallTrapHandler: @unchecked Sendable {
    let domain: KernelDomain
    let validator: CallValidator
    let log: KernelLog
    let trace: CallTrace
    private let stopped = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)

    init(domain: KernelDomain, bindings: BindingTable, log: KernelLog, trace: CallTrace) {
        self.trace = trace
        self.domain = domain
        validator = CallValidator(domain: domain, bindings: bindings)
        self.log = log
        stopped.initialize(to: 0)
    }

    func start() throws {
        try OSThread.spawn(name: "nk-trap-\(domain.id)") { [self] in run() }
    }

    func stop() {
        nk_store_seq(stopped, 1)
        Futex.wake(domain.trapPage.pending, count: 1)
    }

    private func run() {
        let page = domain.trapPage
        var tuning = Tuning.Local(role: .kernel)
        while nk_load_relaxed(stopped) == 0 {
            let posted = nk_exchange(page.pending, 0)
            if posted == 0 {
                Tuning.shared.refresh(&tuning)
                awaitDoorbell(page, tuning.wait)
                continue
            }
            var bits = posted
            while bits != 0 {
                let cell = bits.trailingZeroBitCount
                bits &= bits - 1
                handleTrap(cell: cell, &tuning)
            }
        }
    }

    @inline(__always)
    private func awaitDoorbell(_ page: TrapPage, _ policy: WaitPolicy) {
        if policy.spin(until: { nk_load_relaxed(page.pending) != 0 }) { return }
        nk_store_seq(page.kernelWaiting, 1)
        if nk_load_seq(page.pending) == 0 && nk_load_relaxed(stopped) == 0 {
            Futex.wait(page.pending, expected: 0, timeoutNanoseconds: 1_000_000_000)
        }
        nk_store_relaxed(page.kernelWaiting, 0)
    }

    // MARK: one trap

    @inline(__always)
    func handleTrap(cell index: Int, _ tuning: inout Tuning.Local) {
        let cell = domain.trapPage.cell(index)
        let word = nk_load_acquire(cell.state)
        // A doorbell without a posted trap is noise from a confused or hostile client.
        guard TrapCell.state(of: word) == .posted else { return }
        let trap = Trap(cell: index, cellSequence: TrapCell.sequence(of: word),
                        procedure: nk_load_relaxed(cell.procedure),
                        bindingIndex: nk_load_relaxed(cell.bindingIndex),
                        bindingGeneration: nk_load_relaxed(cell.bindingGeneration),
                        bindingSecret: nk_load64_relaxed(cell.bindingSecret),
                        slot: nk_load_relaxed(cell.slot), cpu: nk_load_relaxed(cell.cpu))
        tuning.follow(trap.cpu)
        let refusal: Refusal? = domain.imports.withLock { imports in
            let binding: KernelBinding
            switch validator.validateBindingObject(trap, imports) {
            case .failure(let r): return r
            case .success(let b): binding = b
            }
            if let r = validator.validateProcedure(trap, binding) ?? validator.validateAStackSlot(trap, binding) { return r }
            // Accept before the upcall: once the server runs, the client may reuse the cell.
            nk_store_release(cell.state, TrapCell.word(sequence: trap.cellSequence, .accepted))
            let sequence = recordLinkage(trap, binding)
            upcall(trap, binding, sequence: sequence)
            if trace.isOn { trace.record(trap, domain: domain, binding: binding, verdict: "validated; upcall, sequence \(sequence)") }
            return nil
        }
        if let refusal {
            refuse(trap, cell, refusal)
            if trace.isOn { trace.record(trap, domain: domain, binding: nil, verdict: "refused: \(refusal)") }
        }
    }

    /// Kernel step 4-5: remember who is waiting on this slot, for the return and for
    /// failing the call if the server dies.
    @inline(__always)
    func recordLinkage(_ trap: Trap, _ binding: KernelBinding) -> UInt32 {
        let slot = Int(trap.slot)
        binding.linkages[slot].issued &+= 1
        binding.linkages[slot].cell = Int32(trap.cell)
        binding.linkages[slot].cellSequence = trap.cellSequence
        return binding.linkages[slot].issued
    }

    /// Kernel steps 6-9: the call record names the procedure and the caller (from the
    /// kernel, never from the client); bumping its sequence wakes the slot's server thread.
    @inline(__always)
    func upcall(_ trap: Trap, _ binding: KernelBinding, sequence: UInt32) {
        let record = binding.records!.record(Int(trap.slot))
        nk_store_relaxed(record.procedure, trap.procedure)
        nk_store_relaxed(record.callerDomain, domain.id)
        nk_store_relaxed(record.cpu, trap.cpu)
        nk_store_seq(record.sequence, sequence)
        Futex.wakeIfWaiting(record.sequence, waitingFlag: record.serverWaiting)
        nk_store64_relaxed(binding.callsAccepted, nk_load64_relaxed(binding.callsAccepted) &+ 1)
    }

    private func refuse(_ trap: Trap, _ cell: TrapCell, _ refusal: Refusal) {
        nk_store_relaxed(cell.refusal, refusal.rawValue)
        nk_store_seq(cell.state, TrapCell.word(sequence: trap.cellSequence, .refused))
        Futex.wake(cell.state, count: 1)
        validator.record(refusal, of: trap, log: log)
    }
}
