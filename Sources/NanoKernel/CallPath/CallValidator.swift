// CallValidator: the checks the kernel makes on every call, in its own process, before
// the server sees anything (LRPC kernel steps 1-3). The call trap handler, the message
// relay and the benchmark probe all call `validate`, so both transports are validated
// alike and the benchmark measures the real path.
import CNanoKernel
import LRPC

/// A trap as copied out of the client-writable cell (or call message), once, before
/// validation.
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

struct CallValidator {
    let domain: KernelDomain
    let bindings: BindingTable

    /// Validate `trap` under the domain's import lock; on success run `accept` under the
    /// same lock (so a revocation cannot slip between the check and the upcall).
    /// `relayedOn`: the message binding whose relay received the trap (its only binding);
    /// nil for a trap from a trap cell, whose A-stack slot is checked instead.
    @inline(__always)
    func validate<R>(_ trap: Trap, relayedOn relay: KernelBinding? = nil,
                     accept: (KernelBinding) -> R) -> Result<R, Refusal> {
        var untraced = Untraced()
        return validate(trap, relayedOn: relay, observer: &untraced, accept: accept)
    }

    /// The same checks, each reported to `observer` as it passes (a `TrapTimeline` while a
    /// trace is on; `Untraced`, whose observations compile to nothing, otherwise).
    @inline(__always)
    func validate<R, O: TrapObserver>(_ trap: Trap, relayedOn relay: KernelBinding? = nil, observer: inout O,
                                      accept: (KernelBinding) -> R) -> Result<R, Refusal> {
        domain.imports.withLock { imports in
            let binding: KernelBinding
            switch validateBindingObject(trap, imports) {
            case .failure(let r): return .failure(r)
            case .success(let b): binding = b
            }
            if let relay, binding !== relay { return .failure(.foreignBindingObject) }
            observer.checked(.bindingObject, binding)
            if let r = validateProcedure(trap, binding) { return .failure(r) }
            observer.checked(.procedure, binding)
            if relay == nil, let r = validateAStackSlot(trap, binding) { return .failure(r) }
            if relay == nil { observer.checked(.astack, binding) }
            return .success(accept(binding))
        }
    }

    @inline(__always)
    func validateBindingObject(_ trap: Trap, _ imports: [UInt32: KernelBinding]) -> Result<KernelBinding, Refusal> {
        if let binding = imports[trap.bindingIndex],
           binding.bindingObject.generation == trap.bindingGeneration,
           binding.bindingObject.secret == trap.bindingSecret {
            return .success(binding)
        }
        return .failure(bindings.classify(index: trap.bindingIndex, generation: trap.bindingGeneration,
                                          secret: trap.bindingSecret, caller: domain.id))
    }

    @inline(__always)
    func validateProcedure(_ trap: Trap, _ binding: KernelBinding) -> Refusal? {
        binding.hasProcedure(trap.procedure) ? nil : .unknownProcedure
    }

    @inline(__always)
    func validateAStackSlot(_ trap: Trap, _ binding: KernelBinding) -> Refusal? {
        // A message binding has no A-stacks: no slot is its own.
        guard binding.transport == .lrpc, trap.slot < UInt32(binding.geometry.slotCount) else { return .slotOutOfRange }
        return binding.slotInUse(Int(trap.slot)) ? .slotInUse : nil
    }

    func record(_ refusal: Refusal, of trap: Trap, log: KernelLog) {
        domain.refusals.fetchAdd(1)
        let (allowed, dropped) = domain.logLimit.withLock { $0.admit() }
        if dropped > 0 { log.warning("refused \(dropped) more calls from domain '\(domain.name)' (not logged one by one)") }
        guard allowed else { return }
        log.warning("refused call from domain '\(domain.name)' (id \(domain.id), pid \(domain.pid)): \(refusal) "
                    + "[binding \(trap.bindingIndex), procedure \(trap.procedure), slot \(trap.slot)]")
    }
}
