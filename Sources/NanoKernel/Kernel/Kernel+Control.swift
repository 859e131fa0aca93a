// Control messages from domains: hello, export, import, ready, bind replies, and the
// operator's admin requests. A domain that writes garbage is disconnected; the kernel
// keeps running.
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

extension Kernel {
    func receiveControl(from domain: KernelDomain) {
        let received: (ControlMessage, [FileDescriptor])?
        do {
            received = try domain.channel.receive()
        } catch {
            disconnect(domain, because: "wrote garbage on its control channel (\(error))")
            return
        }
        guard let (message, fds) = received else {
            domain.channelOpen = false
            if domain.kind == .operator { operatorLeft(domain) }
            return
        }
        fds.forEach { try? $0.close() }
        handle(message, from: domain)
    }

    private func handle(_ message: ControlMessage, from domain: KernelDomain) {
        switch message {
        case .hello:
            welcome(domain)
        case .export(let interface):
            export(interface, from: domain)
        case .importInterface(let request, let name, let transport):
            importInterface(name, for: domain, request: request, transport: transport)
        case .ready:
            guard domain.state == .starting else { return }
            domain.state = .ready
            log.info("kernel: \(domain.name) ready (pid \(domain.pid), exports \(domain.exports.map(\.name)))")
            if domain.restarts > 0 && domain.exports.contains(where: { $0.name == "name" }) { askForRegistrations() }
        case .release(let index):
            // Only the binding's own client may give it up.
            if let binding = liveBindings[index], binding.client === domain { revoke(binding, reason: "released by its client") }
        case .bindAccepted(let binding):
            completeBinding(binding, acceptedBy: domain)
        case .bindRefused(let binding, let reason):
            failBinding(binding, refusedBy: domain, reason: reason)
        case .admin(let request, let command, let argument):
            guard domain.kind == .operator else {
                disconnect(domain, because: "sent an operator request")
                return
            }
            answerAdmin(command, argument: argument, request: request, to: domain)
        default:
            disconnect(domain, because: "sent a kernel-only message (\(message))")
        }
    }

    /// The name service came back empty: every other live service registers again.
    private func askForRegistrations() {
        for other in domains.values where other.kind == .service && other.state == .ready
            && !other.exports.contains(where: { $0.name == "name" }) {
            send(.registerAgain, to: other)
        }
    }

    /// A domain's first message. The kernel answers with its id and its trap page.
    func welcome(_ domain: KernelDomain) {
        guard !domain.welcomed else {
            disconnect(domain, because: "said hello twice")
            return
        }
        domain.welcomed = true
        send(.welcome(domainID: domain.id, domainName: domain.name), to: domain, descriptors: [domain.trapPage.region.fd])
        let handler = CallTrapHandler(domain: domain, bindings: bindingTable, log: log, trace: trace)
        domain.trapHandler = handler
        do { try handler.start() } catch {
            log.warning("kernel: \(error)")
            disconnect(domain, because: "the kernel could not start its trap handler")
        }
    }

    /// A new connection on the control socket becomes an operator client domain.
    func acceptOperator(_ channel: ControlChannel) {
        guard case .some((.hello(let requested), let fds)) = try? channel.receive() else {
            log.warning("kernel: dropped a control connection that did not say hello")
            return
        }
        fds.forEach { try? $0.close() }
        var uid: uid_t = 0
        var pid: pid_t = 0
        _ = nk_peer_credentials(channel.fd.rawValue, &uid, &pid)
        let safeName = String(requested.prefix(24).filter { $0.isLetter || $0.isNumber || $0 == "-" })
        let name = "\(safeName.isEmpty ? "operator" : safeName)-\(pid)"
        do {
            let page = TrapPage(region: try SharedRegion.create(name: "nk-trap-\(name)", size: TrapPage.size))
            let domain = KernelDomain(id: allocateDomainID(), name: name, kind: .operator, entry: nil,
                                      channel: channel, trapPage: page, pid: pid)
            domains[domain.id] = domain
            domain.state = .ready
            welcome(domain)
        } catch {
            log.warning("kernel: cannot admit operator \(name): \(error)")
        }
    }

    private func export(_ interface: InterfaceDescriptor, from domain: KernelDomain) {
        guard domain.entry?.provides.contains(interface.name) == true else {
            send(.failed(request: 0, message: "domain '\(domain.name)' may not export '\(interface.name)': the image does not list it under provides"), to: domain)
            return
        }
        guard !interface.procedures.isEmpty,
              Set(interface.procedures.map(\.id)).count == interface.procedures.count else {
            send(.failed(request: 0, message: "interface '\(interface.name)' has no procedures or repeats a procedure id"), to: domain)
            return
        }
        domain.exports.removeAll { $0.name == interface.name }
        domain.exports.append(interface)
        exporters[interface.name] = domain
        send(.exported(interface: interface.name), to: domain)
        log.info("kernel: \(domain.name) exported \(interface.name) (\(interface.procedures.count) procedures)")
        let waiting = pendingImports.filter { $0.interface == interface.name }
        pendingImports.removeAll { $0.interface == interface.name }
        for p in waiting where p.client.isAlive {
            startBinding(p.interface, for: p.client, request: p.request, transport: p.transport)
        }
    }

    /// Binding step 3: a client imports an interface through the kernel.
    private func importInterface(_ name: String, for client: KernelDomain, request: UInt32, transport requested: Transport?) {
        let transport = requested ?? image.transports[name] ?? .lrpc
        let provided = image.services.flatMap(\.provides)
        guard provided.contains(name) else {
            send(.failed(request: request, message: "no interface named '\(name)'; interfaces: \(provided.sorted().joined(separator: ", "))"), to: client)
            return
        }
        guard client.mayImport(name, image: image) else {
            let allowed = client.allowedImports(image: image)
            log.warning("kernel: refused import of '\(name)' by '\(client.name)': not allowed by the image")
            send(.failed(request: request, message: "domain '\(client.name)' may not import '\(name)': the image allows \(allowed.isEmpty ? "no imports" : allowed.joined(separator: ", "))"), to: client)
            return
        }
        if let server = exporters[name], server.isAlive {
            startBinding(name, for: client, request: request, transport: transport)
        } else {
            pendingImports.append(PendingImport(client: client, request: request, interface: name, transport: transport,
                                                deadline: monotonicNanoseconds() + 10_000_000_000))
        }
    }

    func expirePendingImports() {
        let now = monotonicNanoseconds()
        let expired = pendingImports.filter { $0.deadline < now }
        pendingImports.removeAll { $0.deadline < now }
        for p in expired {
            send(.failed(request: p.request, message: "interface '\(p.interface)' is not available (its service is not running)"), to: p.client)
        }
    }

    /// Cut a misbehaving domain off. A service is killed (and restarted if the image
    /// says so); an operator connection is closed.
    func disconnect(_ domain: KernelDomain, because reason: String) {
        log.warning("kernel: disconnected domain '\(domain.name)' (id \(domain.id)): \(reason)")
        domain.channelOpen = false
        domain.lastEvent = "disconnected: \(reason)"
        _ = Glibc.shutdown(domain.channel.fd.rawValue, Int32(SHUT_RDWR))
        if domain.kind == .operator {
            operatorLeft(domain)
        } else if let pidfd = domain.pidfd {
            _ = nk_pidfd_send_signal(pidfd.rawValue, SIGKILL)
        }
    }

    func send(_ message: ControlMessage, to domain: KernelDomain, descriptors: [FileDescriptor] = []) {
        guard domain.channelOpen else { return }
        do { try domain.channel.send(message, descriptors: descriptors) } catch {
            log.warning("kernel: cannot reach domain '\(domain.name)': \(error)")
        }
    }
}
