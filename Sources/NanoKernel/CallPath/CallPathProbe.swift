// CallPathProbe: the kernel's per-trap checks (kernel steps 1-3) on real kernel objects,
// in-process and without a running kernel, for the benchmark suite in Benchmarks/.
// Not kernel API: only `@_spi(Benchmarks) import NanoKernel` sees it.
import LRPC

@_spi(Benchmarks)
public final class CallPathProbe: @unchecked Sendable {
    let domain: KernelDomain
    let validator: CallValidator
    let accepted: Trap
    let forged: Trap

    /// A client domain holding one live binding to `interface`, as `Kernel.completeBinding`
    /// leaves it; the trap calls `procedure` on slot 0.
    public init(interface: InterfaceDescriptor, procedure: UInt32) throws {
        let table = BindingTable()
        domain = try Self.domain(id: 1, name: "probe-client")
        let geometry = interface.astackGeometry
        let records = CallRecords(
            region: try SharedRegion.create(name: "probe-records", size: CallRecords.size(slots: geometry.slotCount)),
            slotCount: geometry.slotCount)
        let bo = table.issue(owner: domain.id)
        let binding = KernelBinding(bindingObject: bo, client: domain, server: try Self.domain(id: 2, name: "probe-server"),
                                    interface: interface, geometry: geometry, records: records, transport: .lrpc)
        domain.imports.withLock { $0[bo.index] = binding }
        validator = CallValidator(domain: domain, bindings: table)
        accepted = Trap(cell: 0, cellSequence: 1, procedure: procedure, bindingIndex: bo.index,
                        bindingGeneration: bo.generation, bindingSecret: bo.secret, slot: 0, cpu: 0)
        forged = Trap(cell: 0, cellSequence: 1, procedure: procedure, bindingIndex: bo.index,
                      bindingGeneration: bo.generation, bindingSecret: bo.secret ^ 1, slot: 0, cpu: 0)
    }

    private static func domain(id: UInt32, name: String) throws -> KernelDomain {
        let (channel, domainEnd) = try ControlChannel.pair()
        try domainEnd.close()
        let page = TrapPage(region: try SharedRegion.create(name: "probe-trap-\(id)", size: TrapPage.size))
        return KernelDomain(id: id, name: name, kind: .operator, entry: nil, channel: channel, trapPage: page, pid: 0)
    }

    /// `CallValidator.validate`, exactly as `CallTrapHandler.handleTrap` calls it (binding
    /// object, procedure, A-stack slot, under the domain's import lock), `iterations`
    /// times. A forged trap takes the refusal path (the binding table explains it).
    /// Returns the number of traps accepted.
    @inline(never)
    public func validate(iterations: Int, forged: Bool = false) -> Int {
        let trap = forged ? self.forged : accepted
        var accepts = 0
        for _ in 0..<iterations {
            if case .success = validator.validate(trap, accept: { _ in }) { accepts += 1 }
        }
        return accepts
    }
}
