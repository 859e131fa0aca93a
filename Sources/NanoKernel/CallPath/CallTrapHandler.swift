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

final class CallTrapHandler: @unchecked Sendable {
    let domain: KernelDomain
    let validator: CallValidator
    let log: KernelLog
    let trace: CallTrace
    /// The domain's trap page, held by the handler for its own life (the domain's record
    /// may drop its reference first when it is retired).
    private let page: TrapPage
    private let stopped = SharedWord.allocate()

    init(domain: KernelDomain, page: TrapPage, bindings: BindingTable, log: KernelLog, trace: CallTrace) {
        self.trace = trace
        self.domain = domain
        self.page = page
        validator = CallValidator(domain: domain, bindings: bindings)
        self.log = log
    }

    deinit { stopped.deallocate() }

    func start() throws {
        try OSThread.spawn(name: "nk-trap-\(domain.id)") { [self] in run() }
    }

    func stop() {
        stopped.store(1)
        page.pending.wake(count: 1)
    }

    private func run() {
        var tuning = Tuning.Local(role: .kernel)
        while stopped.loadRelaxed() == 0 {
            let posted = page.pending.exchange(0)
            if posted == 0 {
                Tuning.shared.refresh(&tuning)
                awaitDoorbell(page, tuning.wait)
                continue
            }
            var bits = posted
            var traps = 0
            let traced = trace.isOn
            let woke = traced ? monotonicNanoseconds() : 0
            while bits != 0 {
                let cell = bits.trailingZeroBitCount
                bits &= bits - 1
                if traced {
                    var timeline = TrapTimeline(woke: woke, trace: trace)
                    if handleTrap(cell: cell, &tuning, &timeline) { traps += 1 }
                    timeline.record(domain: domain, page: page)
                } else {
                    var untraced = Untraced()
                    if handleTrap(cell: cell, &tuning, &untraced) { traps += 1 }
                }
            }
            if traps == 0 { noiseRing() }
        }
    }

    // MARK: doorbell storms

    /// Doorbells without a posted trap this window, and when the window began.
    private var noise = 0
    private var noiseWindow: UInt64 = 0
    /// Empty doorbells a domain may ring per second before its handler slows down.
    static let noiseAllowance = 2_000

    /// A doorbell that posted nothing: noise from a confused or hostile client. Past the
    /// allowance, this domain's own handler sleeps a little per ring, so the storm costs
    /// the kernel little CPU and other domains' handlers keep theirs; it is logged
    /// against the domain, once per window.
    private func noiseRing() {
        let now = monotonicNanoseconds()
        if now - noiseWindow > 1_000_000_000 {
            if noise > Self.noiseAllowance {
                domain.warn("kernel: doorbell storm from domain '\(domain.name)' (id \(domain.id)): \(noise) doorbells without a trap in 1 s; its trap handler is slowed", log: log)
            }
            noiseWindow = now
            noise = 0
        }
        noise += 1
        if noise > Self.noiseAllowance {
            domain.doorbellStorms.fetchAdd(1)
            usleep(1_000)
        }
    }

    @inline(__always)
    private func awaitDoorbell(_ page: TrapPage, _ policy: WaitPolicy) {
        if policy.spin(until: { page.pending.loadRelaxed() != 0 }) { return }
        page.kernelWaiting.store(1)
        if page.pending.load() == 0 && stopped.loadRelaxed() == 0 {
            page.pending.wait(expected: 0, timeoutNanoseconds: 1_000_000_000)
        }
        page.kernelWaiting.storeRelaxed(0)
    }

    // MARK: one trap

    /// Take the trap in cell `index`; false if the cell held none (noise). `observer` is
    /// `Untraced` (every observation compiles to nothing) unless a trace is on, when it is
    /// a `TrapTimeline` that stamps each step.
    @inline(__always) @discardableResult
    func handleTrap<O: TrapObserver>(cell index: Int, _ tuning: inout Tuning.Local, _ observer: inout O) -> Bool {
        let cell = page.cell(index)
        let word = cell.state.loadAcquire()
        // A doorbell without a posted trap is noise from a confused or hostile client.
        guard TrapCell.state(of: word) == .posted else { return false }
        let trap = Trap(cell: index, cellSequence: TrapCell.sequence(of: word),
                        procedure: cell.procedure.loadRelaxed(),
                        bindingIndex: cell.bindingIndex.loadRelaxed(),
                        bindingGeneration: cell.bindingGeneration.loadRelaxed(),
                        bindingSecret: cell.bindingSecret.loadRelaxed(),
                        slot: cell.slot.loadRelaxed(), cpu: cell.cpu.loadRelaxed())
        observer.copiedOut(trap)
        tuning.follow(trap.cpu)
        let verdict = validator.validate(trap, observer: &observer) { binding -> (UInt32, CallRecords, UInt64, UInt64)? in
            // Accept before the upcall: once the server runs, the client may reuse the cell.
            // Only from the very word the kernel read: a client whose deadline passed may
            // have taken its trap back (posted -> free) and reused the slot since.
            guard cell.state.compareExchange(word, TrapCell.word(sequence: trap.cellSequence, .accepted)) else { return nil }
            let sequence = recordLinkage(trap, binding)
            let linked: UInt64 = O.traces ? monotonicNanoseconds() : 0
            let upcalled = upcall(trap, binding, sequence: sequence, traced: O.traces)
            return (sequence, binding.records!, linked, upcalled)
        }
        switch verdict {
        case .success(let accepted?):
            observer.linked(accepted.0, at: accepted.2)
            observer.upcalled(accepted.1, slot: Int(trap.slot), at: accepted.3)
        case .success(nil):
            break  // withdrawn by its client before the kernel took it: nothing to do
        case .failure(let refusal):
            // Stamped before the refusal is written and logged (logging takes far longer).
            observer.refused(refusal)
            refuse(trap, cell, refusal)
        }
        return true
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
    /// Traced, returns the moment just before the wake: once woken, the server (and the
    /// client after it) may run before this thread does anything more.
    @inline(__always) @discardableResult
    func upcall(_ trap: Trap, _ binding: KernelBinding, sequence: UInt32, traced: Bool) -> UInt64 {
        let record = binding.records!.record(Int(trap.slot))
        record.traced.storeRelaxed(traced ? 1 : 0)
        record.procedure.storeRelaxed(trap.procedure)
        record.callerDomain.storeRelaxed(domain.id)
        record.cpu.storeRelaxed(trap.cpu)
        binding.callsAccepted.storeRelaxed(binding.callsAccepted.loadRelaxed() &+ 1)
        let waking: UInt64 = traced ? monotonicNanoseconds() : 0
        record.sequence.store(sequence)
        record.sequence.wakeIfWaiting(flag: record.serverWaiting)
        return waking
    }

    /// Counted (and logged, within the domain's rate) before the caller learns of it, so
    /// whoever the caller tells sees the refusal in `nkctl status` already.
    private func refuse(_ trap: Trap, _ cell: TrapCell, _ refusal: Refusal) {
        validator.record(refusal, of: trap, log: log)
        cell.refusal.storeRelaxed(refusal.rawValue)
        // Only over the trap it refuses: a withdrawn cell may already carry the next call.
        guard cell.state.compareExchange(TrapCell.word(sequence: trap.cellSequence, .posted),
                                         TrapCell.word(sequence: trap.cellSequence, .refused)) else { return }
        cell.state.wake(count: 1)
    }
}
