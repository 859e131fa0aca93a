// The binding steps the kernel traces for `nkctl trace`. They happen on the control
// thread, so tracing them costs the call path nothing; while no trace is on each is one
// relaxed load.
import LRPC
import NanoAdmin

extension BindingManager {
    func traceExport(_ interface: InterfaceDescriptor, by domain: KernelDomain) {
        guard trace.isOn else { return }
        trace.begin("export", client: "", server: domain.name, interface: interface.name, outcome: "exported",
                    steps: [.kernel("binding 1", "\(domain.name) exported \(interface.name): a PDL of \(interface.procedures.count) "
                                    + "procedure descriptors (id, A-stack size, simultaneous calls; no entry address)")])
    }

    func traceImport(_ name: String, by client: KernelDomain, request: UInt32, transport: Transport, allowed: Bool) {
        guard trace.isOn else { return }
        let why = allowed ? "policy check passed: the image lets \(client.name) import \(name)"
                          : "policy check FAILED: the image does not let \(client.name) import \(name)"
        trace.bindingRequested(
            client: client, request: request, interface: name, transport: transport,
            steps: [.kernel("binding 3", "\(client.name) asked the kernel to import \(name) (not through the name service)"),
                    .kernel("binding 3", why)],
            outcome: allowed ? "requested" : "refused by policy")
    }

    func traceOffer(_ bo: BindingObject, client: KernelDomain, server: KernelDomain, request: UInt32, transport: Transport,
                    geometry: AStackGeometry, issuedAt: UInt64) {
        guard trace.isOn else { return }
        let offered = monotonicNanoseconds()
        let allocated = transport == .lrpc
            ? TraceStep.kernel("binding 5", "A-stacks allocated before the clerk accepts: \(geometry.slotCount) slots of "
                               + "\(geometry.payloadCapacity) bytes in one sealed memfd, and \(geometry.slotCount) call records", at: offered)
            : TraceStep.kernel("binding 5", "two socket pairs made (client-kernel, kernel-server): messages, no A-stacks", at: offered)
        trace.bindingIssued(client: client.id, request: request, bo: bo, server: server.name, steps: [
            .kernel("binding 6", "binding object made: index \(bo.index), generation \(bo.generation), random secret (kept from the server)",
                    at: issuedAt),
            allocated,
            .kernel("binding 4", "asked \(server.name)'s clerk (its runtime) to accept the binding", at: offered),
        ])
    }

    func traceBindingStep(_ bo: BindingObject, _ seed: String, _ what: String, outcome: String? = nil) {
        guard trace.isOn else { return }
        trace.bindingStep(bo, [.kernel(seed, what)], outcome: outcome)
    }
}
