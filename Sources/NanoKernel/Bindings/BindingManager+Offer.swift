// Binding step 4: the kernel asks the server's clerk to accept a binding. For LRPC it
// allocates the A-stacks (a sealed memfd for exactly the client and the server, which
// the kernel never maps) and the call records (kernel and server); for the message
// transport, a socket pair to each side with the kernel's relay in the middle.
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

extension BindingManager {
    func offerBinding(_ name: String, for client: KernelDomain, request: UInt32, transport: Transport) {
        guard let server = exporters[name], let interface = server.exports.first(where: { $0.name == name }) else { return }
        let geometry = interface.astackGeometry
        let bo = table.issue(owner: client.id)
        let issued = monotonicNanoseconds()
        do {
            let offer = try transport == .lrpc
                ? offerAStacks(name, bo, client, server, interface, geometry, request)
                : offerMessages(name, bo, client, server, interface, geometry, request)
            recordOffer(offer)
            traceOffer(bo, client: client, server: server, request: request, transport: transport, geometry: geometry,
                       issuedAt: issued)
        } catch {
            table.revoke(bo)
            client.send(.failed(request: request, message: "cannot bind '\(name)': \(error)"), log: log)
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
        server.send(.bind(binding: bo.index, client: client.id, clientName: client.name, interface: name, geometry: geometry, transport: .lrpc),
                    descriptors: [astackFD, records.region.fd], log: log)
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
        server.send(.bind(binding: bo.index, client: client.id, clientName: client.name, interface: name, geometry: geometry, transport: .message),
                    descriptors: [serverFD], log: log)
        return PendingBind(binding: binding, request: request, clientFD: clientFD, relayEnds: (toClient, toServer))
    }
}
