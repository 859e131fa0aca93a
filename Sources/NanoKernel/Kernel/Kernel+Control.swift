// Control messages from domains, routed to their owner: binding messages to the
// BindingManager, lifecycle to the DomainTable, operator requests to AdminRequests.
// A domain that writes garbage is disconnected; the kernel keeps running.
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

extension Kernel {
    func receiveControl(from domain: KernelDomain) {
        guard let channel = domain.channel else { return }
        let received: (ControlMessage, [FileDescriptor])?
        do {
            received = try channel.receive()
        } catch let error as SystemError where error.errno == .resourceTemporarilyUnavailable {
            return  // nothing to read after all (the channel is non-blocking)
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
        route(message, from: domain)
    }

    private func route(_ message: ControlMessage, from domain: KernelDomain) {
        switch message {
        case .hello:
            welcome(domain)
        case .export(let interface):
            bindings.export(interface, from: domain)
        case .importInterface(let request, let name, let transport, let wait):
            bindings.importInterface(name, for: domain, request: request, transport: transport, waitMilliseconds: wait,
                                     refusal: { [domains, image] in domains.importRefusal(for: $0, image: image) })
        case .ready:
            ready(domain)
        case .release(let bo):
            bindings.release(bo, by: domain)
        case .bindAccepted(let binding):
            if let reason = bindings.bindAccepted(binding, by: domain) { disconnect(domain, because: reason) }
        case .bindRefused(let binding, let reason):
            if let reason = bindings.bindRefused(binding, by: domain, reason: reason) { disconnect(domain, because: reason) }
        case .admin(let request, let command, let argument):
            guard domain.kind == .operator else {
                disconnect(domain, because: "sent an operator request")
                return
            }
            answerAdmin(command, argument: argument, request: request, to: domain)
        default:
            disconnect(domain, because: "sent a kernel-only message (\(message.tag))")
        }
    }

    private func ready(_ domain: KernelDomain) {
        guard domain.state == .starting else { return }
        domain.state = .ready
        log.info("kernel: \(domain.name) ready (pid \(domain.pid), exports \(domain.exports.map(\.name)))")
        if domain.restarts > 0 && domain.entry?.isRegistry == true { askForRegistrations() }
    }

    /// The registry (the image's `registry = true` service) came back empty: every other
    /// live service registers again.
    private func askForRegistrations() {
        for other in domains.all where other.kind == .service && other.state == .ready && other.entry?.isRegistry != true {
            other.send(.registerAgain, log: log)
        }
    }

    /// A domain's first message. The kernel answers with its id and its trap page.
    func welcome(_ domain: KernelDomain) {
        guard !domain.welcomed else {
            disconnect(domain, because: "said hello twice")
            return
        }
        domain.welcomed = true
        guard let page = domain.trapPage else { return }
        page.tracing.storeRelaxed(trace.isOn ? 1 : 0)
        domain.send(.welcome(domainID: domain.id, domainName: domain.name), descriptors: [page.region.fd], log: log)
        do { try domains.startTrapHandler(for: domain) } catch {
            log.warning("kernel: \(error)")
            disconnect(domain, because: "the kernel could not start its trap handler")
        }
    }

    /// A new connection on the control socket becomes an operator client domain.
    func acceptOperator(_ channel: ControlChannel) {
        guard case .some((.hello(let requested), let fds)) = try? channel.receive() else {
            if connectionLog.admit().allowed { log.warning("kernel: dropped a control connection that did not say hello") }
            return
        }
        fds.forEach { try? $0.close() }
        var uid: uid_t = 0
        var pid: pid_t = 0
        _ = nk_peer_credentials(channel.fd.rawValue, &uid, &pid)
        let name = Self.operatorName(requested: requested, pid: pid, serviceNames: image.services.map(\.name))
        do {
            welcome(try domains.admitOperator(channel: channel, name: name, pid: pid))
        } catch {
            log.warning("kernel: cannot admit operator \(name): \(error)")
        }
    }

    /// An operator's domain name: what it asked for (ASCII letters, digits, '-'), then its
    /// pid. Services trust a caller's kernel-given name (the file service's views, the
    /// registry's owners), so an operator's name never equals a service's in the image.
    static func operatorName(requested: String, pid: pid_t, serviceNames: [String]) -> String {
        let safe = String(requested.unicodeScalars.prefix(24).filter {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
        }.map(Character.init))
        let name = "\(safe.isEmpty ? "operator" : safe)-\(pid)"
        return serviceNames.contains(name) ? "operator-\(name)" : name
    }

    /// Cut a misbehaving domain off. A service is killed (and restarted if the image
    /// says so); an operator connection is closed.
    func disconnect(_ domain: KernelDomain, because reason: String) {
        let reason = DomainText.safe(reason, limit: 400)
        log.warning("kernel: disconnected domain '\(domain.name)' (id \(domain.id)): \(reason)")
        domain.lastEvent = "disconnected: \(reason)"
        domain.cutChannel()
        if domain.kind == .operator {
            operatorLeft(domain)
        } else {
            domains.kill(domain)
        }
    }

    /// An operator's connection closed: its bindings go, and so does its record.
    func operatorLeft(_ domain: KernelDomain) {
        traceDomainLeaving(domain)
        bindings.revokeAll(of: domain, reason: "operator \(domain.name) disconnected")
        tellRegistry(domainEnded: domain, returning: false)
        domains.forget(domain)
    }

    /// The registry holds names by the domain that registered them. A domain never comes
    /// back, so its names go now rather than wait for the registry's own restart; a
    /// service that restarts (a new domain, the same name) finds its names kept for it.
    /// The kernel knows the registry only as the image's `registry = true` service.
    func tellRegistry(domainEnded domain: KernelDomain, returning: Bool) {
        guard !shutdownRequested else { return }
        for registry in domains.all where registry.entry?.isRegistry == true && registry.welcomed && registry.id != domain.id {
            registry.send(.domainEnded(domainID: domain.id, name: domain.name, returning: returning), log: log)
        }
    }

    /// A service's process is gone: its bindings go (their clients are told), its
    /// descriptors close, and its supervisor decides: restart after a back-off, stay
    /// down, or failed (imports waiting for it are refused at once).
    func serviceDied(_ domain: KernelDomain) {
        let hadEvent = !domain.lastEvent.isEmpty
        guard domains.reap(domain) else { return }
        traceDomainLeaving(domain)
        let exit = domains.classifyExit(domain, hadEvent: hadEvent, shuttingDown: shutdownRequested)
        bindings.revokeAll(of: domain, reason: "\(domain.name) died")
        domains.retire(domain)
        guard !shutdownRequested, let entry = domain.entry else { return }
        let next = domains.supervise(domain, after: exit)
        tellRegistry(domainEnded: domain, returning: next == .restarting || next == .backingOff)
        if next == .failed {
            bindings.refuseWaitingImports(of: entry.provides) { [domains, image] in
                domains.importRefusal(for: $0, image: image) ?? "service '\(entry.name)' failed"
            }
        }
    }
}
