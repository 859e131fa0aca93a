// Domain lifecycle: spawn, death (seen through the pidfd), sandbox violations, restart.
// When a domain dies the kernel fails every call in flight to it, revokes its bindings,
// and restarts it if the image says so.
import BootImage
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

extension Kernel {
    static let maximumRestarts = 5

    @discardableResult
    func spawnService(_ entry: ServiceEntry, restarts: Int = 0) -> KernelDomain? {
        do {
            let (channel, childEnd) = try ControlChannel.pair()
            defer { try? childEnd.close() }
            let page = TrapPage(region: try SharedRegion.create(name: "nk-trap-\(entry.name)", size: TrapPage.size))
            let launched = try launcher.launch(entry, control: childEnd)
            let domain = KernelDomain(id: allocateDomainID(), name: entry.name, kind: .service, entry: entry,
                                      channel: channel, trapPage: page, pid: launched.pid)
            domain.pidfd = launched.pidfd
            domain.notifyFD = launched.notifyFD
            domain.output = launched.output
            domain.sandboxSummary = launched.sandbox
            domain.restarts = restarts
            domains[domain.id] = domain
            log.info("kernel: spawned \(entry.name) (domain \(domain.id), pid \(launched.pid))")
            return domain
        } catch {
            log.warning("kernel: \(error)")
            if !bootFinished { failBootNow("\(error)") }
            return nil
        }
    }

    private func failBootNow(_ message: String) {
        bootFinished = true
        log.warning("kernel: boot failed: \(message)")
        onBoot(.failure(ControlError(message)))
        requestShutdown()
    }

    /// The pidfd became readable: the domain's process is gone.
    func reap(_ domain: KernelDomain) {
        guard let pidfd = domain.pidfd else { return }
        var code: Int32 = 0
        var status: Int32 = 0
        guard nk_pidfd_reap(pidfd.rawValue, &code, &status) == 1 else { return }
        try? pidfd.close()
        domain.pidfd = nil
        try? domain.notifyFD?.close()
        domain.notifyFD = nil
        domain.output?.drainRemaining(into: log, domain: domain.name)
        domain.output = nil
        domain.channelOpen = false
        domain.trapHandler?.stop()
        let exit = code == CLD_EXITED ? "exited with status \(status)" : "killed by signal \(status)"
        let wasStopping = domain.state == .stopped
        if domain.state != .stoppedBySandbox && !wasStopping {
            domain.state = code == CLD_EXITED && status == 0 ? .exited : .crashed
            domain.lastEvent = domain.lastEvent.isEmpty ? exit : "\(domain.lastEvent); \(exit)"
        }
        log.info("kernel: domain \(domain.name) (pid \(domain.pid)) \(exit)")
        revokeBindings(of: domain, reason: "\(domain.name) died")
        for (name, exporter) in exporters where exporter === domain { exporters[name] = nil }
        if !wasStopping && !shutdownRequested { maybeRestart(domain) }
    }

    private func maybeRestart(_ domain: KernelDomain) {
        guard let entry = domain.entry else { return }
        let failed = domain.state != .exited
        let wanted = entry.restart == .always || (entry.restart == .onFailure && failed)
        guard wanted, bootFinished || domain.restarts < 2 else { return }
        guard domain.restarts < Self.maximumRestarts else {
            domain.state = .failed
            log.warning("kernel: \(domain.name) failed \(domain.restarts + 1) times; not restarting it")
            return
        }
        log.info("kernel: restarting \(domain.name) (restart \(domain.restarts + 1))")
        if let replacement = spawnService(entry, restarts: domain.restarts + 1) {
            // The replacement carries the story; the dead record goes.
            replacement.lastEvent = "restarted after: \(domain.lastEvent)"
            domains[domain.id] = nil
        }
    }

    /// The domain made a syscall its filter does not allow: name it, then stop it.
    func receiveViolation(from domain: KernelDomain) {
        guard let notify = domain.notifyFD else { return }
        let violation: SandboxViolation
        do {
            violation = try SandboxViolation.receive(from: notify.rawValue)
        } catch {
            // The domain died first; its pidfd tells the rest.
            try? notify.close()
            domain.notifyFD = nil
            return
        }
        // The refused thread may try again before the kill lands: the first report is the one.
        guard domain.state != .stoppedBySandbox else { return }
        domain.state = .stoppedBySandbox
        domain.lastEvent = "stopped by sandbox: \(violation.description)"
        log.warning("kernel: \(domain.name): stopped by sandbox: \(violation.description)")
        if let pidfd = domain.pidfd { _ = nk_pidfd_send_signal(pidfd.rawValue, SIGKILL) }
    }

    /// An operator's connection closed: its bindings go, and so does its record.
    func operatorLeft(_ domain: KernelDomain) {
        domain.trapHandler?.stop()
        revokeBindings(of: domain, reason: "operator \(domain.name) disconnected")
        domains[domain.id] = nil
    }
}
