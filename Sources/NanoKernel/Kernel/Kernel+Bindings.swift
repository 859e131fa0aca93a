// Binding steps 4-6 and revocation. The kernel asks the server's clerk to accept,
// allocates the A-stacks (a sealed memfd for exactly the client and the server) and
// the call records (kernel and server), and returns the binding object and A-stack
// list to the client.
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

extension Kernel {
    func startBinding(_ name: String, for client: KernelDomain, request: UInt32, transport: Transport) {
        guard let server = exporters[name], let interface = server.exports.first(where: { $0.name == name }) else { return }
        let geometry = interface.astackGeometry
        let bo = bindingTable.issue(owner: client.id)
        do {
            let pending = try transport == .lrpc
                ? offerAStacks(name, bo, client, server, interface, geometry, request)
                : offerMessages(name, bo, client, server, interface, geometry, request)
            pendingBinds[bo.index] = pending
        } catch {
            bindingTable.revoke(bo)
            send(.failed(request: request, message: "cannot bind '\(name)': \(error)"), to: client)
        }
    }

    /// LRPC: the A-stacks (a sealed memfd the kernel never maps) and the call records.
    private func offerAStacks(_ name: String, _ bo: BindingObject, _ client: KernelDomain, _ server: KernelDomain,
                              _ interface: InterfaceDescriptor, _ geometry: AStackGeometry, _ request: UInt32) throws -> PendingBind {
        let astackRaw = nk_memfd_sealed("nk-astack-\(name)-\(bo.index)", geometry.regionSize)
        guard astackRaw >= 0 else { throw SystemError("memfd_create A-stack") }
        let astackFD = FileDescriptor(rawValue: astackRaw)
        let records: CallRecords
        do {
            records = CallRecords(
                region: try SharedRegion.create(name: "nk-records-\(name)-\(bo.index)", size: CallRecords.size(slots: geometry.slotCount)),
                slotCount: geometry.slotCount)
        } catch {
            try? astackFD.close()
            throw error
        }
        let binding = KernelBinding(bindingObject: bo, client: client, server: server, interface: interface,
                                    geometry: geometry, records: records, transport: .lrpc)
        send(.bind(binding: bo.index, client: client.id, clientName: client.name, interface: name, geometry: geometry, transport: .lrpc),
             to: server, descriptors: [astackFD, records.region.fd])
        return PendingBind(binding: binding, request: request, clientFD: astackFD, relayEnds: nil)
    }

    /// Conventional RPC: a socket pair to the client and one to the server, the kernel in the middle.
    private func offerMessages(_ name: String, _ bo: BindingObject, _ client: KernelDomain, _ server: KernelDomain,
                               _ interface: InterfaceDescriptor, _ geometry: AStackGeometry, _ request: UInt32) throws -> PendingBind {
        let (toClient, clientFD) = try ControlChannel.socketPair()
        let (toServer, serverFD) = try ControlChannel.socketPair()
        defer { try? serverFD.close() }
        let binding = KernelBinding(bindingObject: bo, client: client, server: server, interface: interface,
                                    geometry: geometry, records: nil, transport: .message)
        send(.bind(binding: bo.index, client: client.id, clientName: client.name, interface: name, geometry: geometry, transport: .message),
             to: server, descriptors: [serverFD])
        return PendingBind(binding: binding, request: request, clientFD: clientFD, relayEnds: (toClient, toServer))
    }

    func completeBinding(_ index: UInt32, acceptedBy server: KernelDomain) {
        guard let pending = pendingBinds[index], pending.binding.server === server else {
            disconnect(server, because: "accepted a binding it was not offered")
            return
        }
        pendingBinds[index] = nil
        let binding = pending.binding
        defer { try? pending.clientFD.close() }
        guard binding.client.isAlive else {
            pending.closeDescriptors()
            bindingTable.revoke(binding.bindingObject)
            send(.unbind(binding: index), to: server)
            return
        }
        if let (toClient, toServer) = pending.relayEnds {
            let relay = MessageRelay(binding: binding, clientEnd: toClient, serverEnd: toServer,
                                     validator: CallValidator(domain: binding.client, bindings: bindingTable), log: log)
            binding.relay = relay
            do { try relay.start() } catch {
                pending.closeDescriptors()
                bindingTable.revoke(binding.bindingObject)
                send(.unbind(binding: index), to: server)
                send(.failed(request: pending.request, message: "cannot start the kernel's relay: \(error)"), to: binding.client)
                return
            }
        }
        binding.client.imports.withLock { $0[index] = binding }
        liveBindings[index] = binding
        send(.imported(request: pending.request, binding: binding.bindingObject, geometry: binding.geometry,
                       interface: binding.interface, transport: binding.transport), to: binding.client, descriptors: [pending.clientFD])
        log.info("kernel: bound \(binding.client.name) → \(binding.interface.name) (binding \(index), "
                 + (binding.transport == .lrpc ? "\(binding.geometry.slotCount) A-stacks of \(binding.geometry.payloadCapacity) bytes)" : "messages through the kernel)"))
    }

    func failBinding(_ index: UInt32, refusedBy server: KernelDomain, reason: String) {
        guard let pending = pendingBinds.removeValue(forKey: index), pending.binding.server === server else { return }
        pending.closeDescriptors()
        bindingTable.revoke(pending.binding.bindingObject)
        send(.failed(request: pending.request, message: "server '\(server.name)' refused the binding: \(reason)"),
             to: pending.binding.client)
    }

    /// Revoke a binding: the client's binding object goes stale, calls in flight fail
    /// with a clear error, the server's slot threads exit.
    func revoke(_ binding: KernelBinding, reason: String) {
        let index = binding.bindingObject.index
        binding.client.imports.withLock { imports in
            imports[index] = nil
            failCallsInFlight(binding)
        }
        liveBindings[index] = nil
        bindingTable.revoke(binding.bindingObject)
        binding.server.retiredCallsServed += binding.calls
        binding.relay?.stop()
        if let records = binding.records {
            nk_store_seq(records.revoked, 1)
            for slot in 0..<binding.geometry.slotCount { Futex.wake(records.record(slot).sequence, count: Int32.max) }
        }
        if binding.server.isAlive { send(.unbind(binding: index), to: binding.server) }
        log.info("kernel: revoked binding \(index) (\(binding.client.name) → \(binding.interface.name)): \(reason)")
    }

    /// Wake every client waiting on a call the server will never return.
    private func failCallsInFlight(_ binding: KernelBinding) {
        guard binding.records != nil else { return }  // a message binding's relay fails its call
        for slot in 0..<binding.geometry.slotCount where binding.slotInUse(slot) {
            let linkage = binding.linkages[slot]
            guard linkage.cell >= 0 else { continue }
            let cell = binding.client.trapPage.cell(Int(linkage.cell))
            let accepted = TrapCell.word(sequence: linkage.cellSequence, .accepted)
            if nk_compare_exchange(cell.state, accepted, TrapCell.word(sequence: linkage.cellSequence, .failed)) != 0 {
                Futex.wake(cell.state, count: 1)
            }
        }
    }

    func revokeBindings(of domain: KernelDomain, reason: String) {
        for binding in liveBindings.values where binding.client === domain || binding.server === domain {
            revoke(binding, reason: reason)
        }
        for (index, pending) in pendingBinds where pending.binding.client === domain || pending.binding.server === domain {
            pendingBinds[index] = nil
            pending.closeDescriptors()
            bindingTable.revoke(pending.binding.bindingObject)
            if pending.binding.server === domain {
                send(.failed(request: pending.request, message: "server '\(domain.name)' died while binding"), to: pending.binding.client)
            }
        }
        pendingImports.removeAll { $0.client === domain }
    }

    func callsServed(by domain: KernelDomain) -> UInt64 {
        liveBindings.values.filter { $0.server === domain }.reduce(domain.retiredCallsServed) { $0 + $1.calls }
    }
}
