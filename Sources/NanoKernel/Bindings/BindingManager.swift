// BindingManager: owns every binding from export to revocation (LRPC binding steps 1-6):
// which domain exports each interface, imports waiting for their server, binds the
// server has been offered but not yet answered, live bindings, and the binding table
// that makes binding objects unforgeable. Only the control thread calls it. It makes
// its decisions without processes: a test can drive it with domains on socket pairs.
//
// Rule: only the parties of a binding act on it. A bind reply from a domain that is not
// the binding's server, or a release from one that is not its client, is refused and
// logged against the sender (a bind reply also cuts the sender off); the binding and its
// honest parties are untouched. A bind
// reply for an offer that was withdrawn from that same server (its client left) is the
// honest server's answer crossing the withdrawal: it is dropped quietly.
import BootImage
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

final class BindingManager {
    let image: BootImage
    let log: KernelLog
    let trace: CallTrace
    let table = BindingTable()

    /// The domain exporting each interface (the newest export wins).
    private(set) var exporters: [String: KernelDomain] = [:]
    private(set) var live: [UInt32: KernelBinding] = [:]
    private(set) var pending: [UInt32: PendingBind] = [:]

    private(set) var waitingImports: [WaitingImport] = []
    /// Offers withdrawn before their server answered, per server id: binding indexes,
    /// oldest first.
    private var withdrawn: [UInt32: [UInt32]] = [:]
    /// Withdrawn offers remembered per server (a server answers each offer once). Per
    /// server, so one that never answers forgets only its own: with one shared bound its
    /// silence would push out an honest server's entry, and that server's late answer
    /// would be taken for a forgery and cut it off.
    static let withdrawnPerServer = 64

    /// The most a client may ask the kernel to hold an import while its server is down.
    static let maximumImportWaitMilliseconds: UInt32 = 60_000

    init(image: BootImage, log: KernelLog, trace: CallTrace = CallTrace()) {
        self.image = image
        self.log = log
        self.trace = trace
    }

    /// Binding step 4 made an offer (BindingManager+Offer.swift): it waits for the server's
    /// answer until its deadline (the image's pending_bind_seconds).
    func recordOffer(_ offer: PendingBind) {
        var offer = offer
        offer.deadline = monotonicNanoseconds() + UInt64(image.quotas.pendingBindSeconds) * 1_000_000_000
        pending[offer.binding.bindingObject.index] = offer
    }

    /// A binding offered to its server (binding step 4), not yet accepted.
    struct PendingBind {
        let binding: KernelBinding
        let request: UInt32
        /// What the client gets: its A-stack memfd, or its end of the message socket.
        let clientFD: FileDescriptor
        /// The kernel's ends of a message binding's sockets (client side, server side).
        let relayEnds: (FileDescriptor, FileDescriptor)?
        /// When the offer expires if the server has not answered.
        var deadline: UInt64 = .max

        func closeDescriptors() {
            try? clientFD.close()
            if let (a, b) = relayEnds { try? a.close(); try? b.close() }
        }
    }

    /// An import whose interface has no live exporter yet.
    struct WaitingImport {
        let client: KernelDomain
        let request: UInt32
        let interface: String
        let transport: Transport
        let deadline: UInt64
    }

    // MARK: binding steps 1-2: export

    /// A server exports an interface (its procedure descriptor list). Imports waiting for
    /// it start binding.
    func export(_ interface: InterfaceDescriptor, from domain: KernelDomain) {
        guard domain.entry?.provides.contains(interface.name) == true else {
            domain.send(.failed(request: 0, message: "domain '\(domain.name)' may not export '\(DomainText.safe(interface.name))': the image does not list it under provides"), log: log)
            return
        }
        // Procedure names are shown to operators and sent to clients: bounded, printable.
        guard interface.procedures.allSatisfy({ DomainText.safe($0.name, limit: 64) == $0.name && !$0.name.isEmpty }) else {
            domain.send(.failed(request: 0, message: "interface '\(interface.name)' has a procedure name that is empty, longer than 64 bytes or not printable"), log: log)
            return
        }
        guard !interface.procedures.isEmpty,
              Set(interface.procedures.map(\.id)).count == interface.procedures.count else {
            domain.send(.failed(request: 0, message: "interface '\(interface.name)' has no procedures or repeats a procedure id"), log: log)
            return
        }
        domain.exports.removeAll { $0.name == interface.name }
        domain.exports.append(interface)
        exporters[interface.name] = domain
        domain.send(.exported(interface: interface.name), log: log)
        traceExport(interface, by: domain)
        domain.note("kernel: \(domain.name) exported \(interface.name) (\(interface.procedures.count) procedures)", log: log)
        let waiting = waitingImports.filter { $0.interface == interface.name }
        waitingImports.removeAll { $0.interface == interface.name }
        for w in waiting where w.client.isAlive {
            offerBinding(w.interface, for: w.client, request: w.request, transport: w.transport)
        }
    }

    // MARK: binding step 3: import

    /// `waitMilliseconds`: how long the client will wait for a server that is down or
    /// restarting (bounded by the kernel). `refusal`: why the import must fail at once
    /// (its service failed for good), from the DomainTable.
    func importInterface(_ name: String, for client: KernelDomain, request: UInt32, transport requested: Transport?,
                         waitMilliseconds: UInt32 = 10_000, refusal: (String) -> String? = { _ in nil }) {
        let transport = requested ?? image.transports[name] ?? .lrpc
        let provided = image.services.flatMap(\.provides)
        guard provided.contains(name) else {
            client.warn("kernel: refused import of '\(DomainText.safe(name))' by '\(client.name)': no such interface", log: log)
            client.send(.failed(request: request, message: "no interface named '\(DomainText.safe(name))'; interfaces: \(provided.sorted().joined(separator: ", "))"), log: log)
            return
        }
        let mayImport = client.mayImport(name, image: image)
        traceImport(name, by: client, request: request, transport: transport, allowed: mayImport)
        guard mayImport else {
            let allowed = client.allowedImports(image: image)
            client.warn("kernel: refused import of '\(DomainText.safe(name))' by '\(client.name)': not allowed by the image", log: log)
            client.send(.failed(request: request, message: "domain '\(client.name)' may not import '\(DomainText.safe(name))': the image allows \(allowed.isEmpty ? "no imports" : allowed.joined(separator: ", "))"), log: log)
            return
        }
        if let quota = quotaReached(by: client, importing: name) {
            client.send(.failed(request: request, message: quota), log: log)
            return
        }
        if let server = exporters[name], server.isAlive {
            offerBinding(name, for: client, request: request, transport: transport)
        } else if let refusal = refusal(name) {
            client.send(.failed(request: request, message: refusal), log: log)
        } else {
            // Down, starting or backing off: hold the import as long as the client waits.
            let wait = UInt64(min(max(waitMilliseconds, 1), Self.maximumImportWaitMilliseconds)) * 1_000_000
            waitingImports.append(WaitingImport(client: client, request: request, interface: name, transport: transport,
                                                deadline: monotonicNanoseconds() + wait))
        }
    }

    /// The quota a new import by `client` would exceed, as the error it gets.
    private func quotaReached(by client: KernelDomain, importing name: String) -> String? {
        let quotas = image.quotas
        let held = live.values.filter { $0.client === client }
        if held.count >= quotas.bindingsPerClient {
            return "quota bindings_per_client reached: domain '\(client.name)' holds \(held.count) bindings (the image allows \(quotas.bindingsPerClient))"
        }
        let toInterface = held.filter { $0.interface.name == name }.count
        if toInterface >= quotas.bindingsPerInterface {
            return "quota bindings_per_interface reached: domain '\(client.name)' holds \(toInterface) bindings to '\(name)' (the image allows \(quotas.bindingsPerInterface))"
        }
        let waiting = pending.values.filter { $0.binding.client === client }.count + waitingImports.filter { $0.client === client }.count
        if waiting >= quotas.pendingBindsPerClient {
            return "quota pending_binds_per_client reached: domain '\(client.name)' has \(waiting) imports in progress (the image allows \(quotas.pendingBindsPerClient))"
        }
        return nil
    }

    /// Offers their server did not answer in time are withdrawn; the client is told.
    func expireOffers(now: UInt64 = monotonicNanoseconds()) {
        for offer in pending.values where offer.deadline < now {
            withdraw(offer, tellingServer: true)
            offer.binding.client.send(.failed(request: offer.request, message: "server '\(offer.binding.server.name)' did not answer the binding within \(image.quotas.pendingBindSeconds) s (quota pending_bind_seconds)"), log: log)
            offer.binding.server.warn("kernel: withdrew binding \(offer.binding.bindingObject.index) offered to '\(offer.binding.server.name)': no answer within \(image.quotas.pendingBindSeconds) s", log: log)
        }
    }

    /// Imports whose server never came fail with a clear error; `why` says what the
    /// service is doing (backing off, stopped), from the DomainTable.
    func expireWaitingImports(now: UInt64 = monotonicNanoseconds(), why: (String) -> String = { _ in "its service is not running" }) {
        let expired = waitingImports.filter { $0.deadline < now }
        waitingImports.removeAll { $0.deadline < now }
        for w in expired {
            w.client.send(.failed(request: w.request, message: "interface '\(w.interface)' is not available: \(why(w.interface))"), log: log)
        }
    }

    /// The earliest instant a waiting import expires (the event loop's timer).
    var nextImportDeadline: UInt64? { waitingImports.map(\.deadline).min() }

    /// The interfaces' service failed for good: imports waiting for them are refused now.
    func refuseWaitingImports(of interfaces: [String], message: (String) -> String) {
        let refused = waitingImports.filter { interfaces.contains($0.interface) }
        waitingImports.removeAll { interfaces.contains($0.interface) }
        for w in refused { w.client.send(.failed(request: w.request, message: message(w.interface)), log: log) }
    }

    // MARK: binding steps 5-6: the server's answer

    /// The server's clerk accepted: the client gets its binding object and A-stacks.
    /// Returns why the sender must be cut off, if it accepted what it was not offered.
    func bindAccepted(_ index: UInt32, by server: KernelDomain) -> String? {
        guard let offer = pending[index], offer.binding.server === server else {
            return answerToNoOffer(index, from: server, "accepted a binding it was not offered (binding \(index))")
        }
        pending[index] = nil
        let binding = offer.binding
        defer { try? offer.clientFD.close() }
        if let (toClient, toServer) = offer.relayEnds {
            let relay = MessageRelay(binding: binding, clientEnd: toClient, serverEnd: toServer,
                                     validator: CallValidator(domain: binding.client, bindings: table), log: log, trace: trace)
            binding.relay = relay
            do { try relay.start() } catch {
                withdraw(offer, tellingServer: true)
                binding.client.send(.failed(request: offer.request, message: "cannot start the kernel's relay: \(error)"), log: log)
                return nil
            }
        }
        traceBindingStep(binding.bindingObject, "binding 4", binding.transport == .lrpc
                         ? "\(server.name)'s clerk accepted: mapped the A-stacks, started \(binding.geometry.slotCount) slot threads (the E-stacks)"
                         : "\(server.name)'s clerk accepted: started its receiver thread")
        binding.client.imports.withLock { $0[index] = binding }
        live[index] = binding
        let deadline = UInt32(image.callDeadlineMilliseconds(for: binding.interface.name))
        binding.client.send(.imported(request: offer.request, binding: binding.bindingObject, geometry: binding.geometry,
                                      interface: binding.interface, transport: binding.transport,
                                      callDeadlineMilliseconds: deadline),
                            descriptors: [offer.clientFD], log: log)
        traceBindingStep(binding.bindingObject, "binding 6", "binding object, PDL and "
                         + (binding.transport == .lrpc ? "A-stack descriptor" : "socket") + " sent to \(binding.client.name)",
                         outcome: "bound")
        binding.client.note("kernel: bound \(binding.client.name) → \(binding.interface.name) (binding \(index), "
                 + (binding.transport == .lrpc ? "\(binding.geometry.slotCount) A-stacks of \(binding.geometry.payloadCapacity) bytes)" : "messages through the kernel)"), log: log)
        return nil
    }

    /// The server's clerk refused: the client gets the reason.
    /// Returns why the sender must be cut off, if it refused what it was not offered.
    func bindRefused(_ index: UInt32, by server: KernelDomain, reason: String) -> String? {
        guard let offer = pending[index], offer.binding.server === server else {
            return answerToNoOffer(index, from: server, "refused a binding it was not offered (binding \(index))")
        }
        withdraw(offer, tellingServer: false, remember: false)
        traceBindingStep(offer.binding.bindingObject, "binding 4", "\(server.name)'s clerk refused: \(DomainText.safe(reason))",
                         outcome: "refused by the server")
        offer.binding.client.send(.failed(request: offer.request, message: "server '\(server.name)' refused the binding: \(DomainText.safe(reason))"), log: log)
        return nil
    }

    /// A bind reply with no offer to match. The honest server's answer to an offer
    /// withdrawn from it is dropped; anything else is an attempt on someone else's
    /// binding: refused, counted and logged against the sender, who is cut off.
    private func answerToNoOffer(_ index: UInt32, from server: KernelDomain, _ what: String) -> String? {
        if let position = withdrawn[server.id]?.firstIndex(of: index) {
            withdrawn[server.id]!.remove(at: position)
            if withdrawn[server.id]!.isEmpty { withdrawn[server.id] = nil }
            return nil
        }
        refuseForeign(what, from: server)
        return what
    }

    /// A client gives up one of its own bindings, named by the whole binding object: a
    /// stale release (its binding already revoked, the index reused) changes nothing.
    func release(_ bo: BindingObject, by client: KernelDomain) {
        guard let binding = live[bo.index], binding.client === client, binding.bindingObject == bo else {
            // Its own binding, revoked before the release arrived: nothing to do.
            if table.classify(index: bo.index, generation: bo.generation, secret: bo.secret, caller: client.id) == .staleBindingObject { return }
            refuseForeign("released binding \(bo.index), which is not its own", from: client)
            return
        }
        revoke(binding, reason: "released by its client", notifyClient: false)
    }

    /// A message about a binding from a domain that is not its party: nothing changes.
    private func refuseForeign(_ what: String, from domain: KernelDomain) {
        domain.refusals.fetchAdd(1)
        domain.warn("kernel: refused a binding message from domain '\(domain.name)' (id \(domain.id)): it \(what)", log: log)
    }

    /// Take an offer back: its descriptors close, its binding object goes stale. A server
    /// that may still answer it is told (unbind) and its answer remembered as expected.
    private func withdraw(_ offer: PendingBind, tellingServer: Bool, remember: Bool = true) {
        let index = offer.binding.bindingObject.index
        pending[index] = nil
        offer.closeDescriptors()
        table.revoke(offer.binding.bindingObject)
        let server = offer.binding.server
        if remember && server.isAlive {
            var remembered = withdrawn[server.id] ?? []
            if remembered.count >= Self.withdrawnPerServer { remembered.removeFirst() }
            remembered.append(index)
            withdrawn[server.id] = remembered
        }
        if tellingServer && server.isAlive { server.send(.unbind(binding: index), log: log) }
    }

    // MARK: revocation

    /// Revoke a binding: the client's binding object goes stale, calls in flight fail
    /// with a clear error, the server's slot threads exit. `notifyClient`: tell a live
    /// client (`revoked`), so its next call rebinds or fails clearly.
    func revoke(_ binding: KernelBinding, reason: String, notifyClient: Bool = true) {
        let index = binding.bindingObject.index
        binding.client.imports.withLock { imports in
            imports[index] = nil
            failCallsInFlight(binding)
        }
        live[index] = nil
        table.revoke(binding.bindingObject)
        binding.server.retiredCallsServed += binding.calls
        binding.relay?.stop()
        trace.bindingRevoked(index)
        if let records = binding.records {
            records.revoked.store(1)
            for slot in 0..<binding.geometry.slotCount { records.record(slot).sequence.wake(count: Int32.max) }
        }
        if binding.server.isAlive { binding.server.send(.unbind(binding: index), log: log) }
        if notifyClient && binding.client.isAlive && binding.client !== binding.server {
            binding.client.send(.revoked(binding: binding.bindingObject, reason: reason), log: log)
        }
        traceBindingStep(binding.bindingObject, "", "revoked: \(reason); the binding object is stale from now on",
                         outcome: reason == "released by its client" ? "released" : "revoked")
        binding.client.note("kernel: revoked binding \(index) (\(binding.client.name) → \(binding.interface.name)): \(reason)", log: log)
    }

    /// Wake every client waiting on a call the server will never return. Which calls
    /// are in flight comes from the kernel's own linkages, never from a word the server
    /// can write: a trap cell still `accepted` with the linkage's sequence is a caller
    /// still waiting.
    private func failCallsInFlight(_ binding: KernelBinding) {
        guard binding.records != nil, let page = binding.client.trapPage else { return }  // a message binding's relay fails its call
        for slot in 0..<binding.geometry.slotCount {
            let linkage = binding.linkages[slot]
            guard linkage.cell >= 0 else { continue }
            let cell = page.cell(Int(linkage.cell))
            let accepted = TrapCell.word(sequence: linkage.cellSequence, .accepted)
            if cell.state.compareExchange(accepted, TrapCell.word(sequence: linkage.cellSequence, .failed)) {
                cell.state.wake(count: 1)
            }
        }
    }

    /// A domain went away: every binding it is a party to goes, offers to it or for it
    /// are withdrawn (the other party is told), its waiting imports are dropped.
    func revokeAll(of domain: KernelDomain, reason: String) {
        for binding in live.values where binding.client === domain || binding.server === domain {
            revoke(binding, reason: reason)
        }
        for offer in pending.values where offer.binding.client === domain || offer.binding.server === domain {
            let clientLeft = offer.binding.client === domain
            withdraw(offer, tellingServer: clientLeft)
            if !clientLeft {
                offer.binding.client.send(.failed(request: offer.request, message: "server '\(domain.name)' died while binding"), log: log)
            }
        }
        waitingImports.removeAll { $0.client === domain }
        withdrawn[domain.id] = nil
        for (name, exporter) in exporters where exporter === domain { exporters[name] = nil }
    }

    func callsServed(by domain: KernelDomain) -> UInt64 {
        live.values.filter { $0.server === domain }.reduce(domain.retiredCallsServed) { $0 + $1.calls }
    }
}
