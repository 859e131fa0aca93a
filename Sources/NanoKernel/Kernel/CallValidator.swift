// CallValidator: the checks the kernel makes on every call, in its own process, before
// the server sees anything (LRPC kernel steps 1-3). The call trap handler and the
// message relay both use it, so the two transports are validated alike.
import CNanoKernel
import LRPC

struct CallValidator {
    let domain: KernelDomain
    let bindings: BindingTable

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
        _ = nk_fetch_add64(domain.refusals, 1)
        let (allowed, dropped) = domain.refusalLog.withLock { $0.admit() }
        if dropped > 0 { log.warning("refused \(dropped) more calls from domain '\(domain.name)' (not logged one by one)") }
        guard allowed else { return }
        log.warning("refused call from domain '\(domain.name)' (id \(domain.id), pid \(domain.pid)): \(refusal) "
                    + "[binding \(trap.bindingIndex), procedure \(trap.procedure), slot \(trap.slot)]")
    }
}
