// DomainTable: every protection domain the kernel knows, and the one place that spawns,
// admits, reaps, restarts and retires them. It owns each domain's record and trap
// handler; a domain's record never points at its handler, so retiring a domain (its
// handler stopped, its record's descriptors closed) leaves nothing that keeps it alive.
// Bindings are not its business: the kernel revokes them (BindingManager) before it
// retires a domain. Only the control thread calls it.
import BootImage
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

final class DomainTable {
    let log: KernelLog
    let trace: CallTrace
    let bindingTable: BindingTable
    /// nil in tests that drive the table without processes.
    let launcher: DomainLauncher?

    private(set) var domains: [UInt32: KernelDomain] = [:]
    private var trapHandlers: [UInt32: CallTrapHandler] = [:]
    private var nextID: UInt32 = 1

    /// One per image service, by name: decides restarts (Supervision/RestartSupervisor).
    var supervisors: [String: RestartSupervisor] = [:]

    init(launcher: DomainLauncher?, bindingTable: BindingTable, log: KernelLog, trace: CallTrace) {
        self.launcher = launcher
        self.bindingTable = bindingTable
        self.log = log
        self.trace = trace
    }

    subscript(id: UInt32) -> KernelDomain? { domains[id] }

    var all: Dictionary<UInt32, KernelDomain>.Values { domains.values }

    /// The live service domain for an image entry (the newest, after restarts).
    func current(for entry: ServiceEntry) -> KernelDomain? {
        domains.values.filter { $0.entry?.name == entry.name }.max { $0.id < $1.id }
    }

    private func allocateID() -> UInt32 {
        defer { nextID += 1 }
        return nextID
    }

    // MARK: creating domains

    /// Spawn a service domain from its image entry.
    func spawn(_ entry: ServiceEntry, restarts: Int = 0) throws -> KernelDomain {
        guard let launcher else { throw ControlError("this domain table cannot spawn processes") }
        let (channel, childEnd) = try ControlChannel.pair()
        defer { try? childEnd.close() }
        let page = TrapPage(region: try SharedRegion.create(name: "nk-trap-\(entry.name)", size: TrapPage.size))
        let launched = try launcher.launch(entry, control: childEnd)
        let domain = KernelDomain(id: allocateID(), name: entry.name, kind: .service, entry: entry,
                                  channel: channel, trapPage: page, pid: launched.pid, logLinesPerSecond: launcher.logLinesPerSecond)
        domain.pidfd = launched.pidfd
        domain.notifyFD = launched.notifyFD
        domain.learned = launched.learned
        domain.output = launched.output
        domain.sandboxSummary = launched.sandbox
        domain.restarts = restarts
        domains[domain.id] = domain
        if supervisors[entry.name] == nil {
            supervisors[entry.name] = RestartSupervisor(policy: entry.restart, settings: entry.supervision)
        }
        supervisors[entry.name]?.started(at: domain.startedAt)
        log.info("kernel: spawned \(entry.name) (domain \(domain.id), pid \(launched.pid))")
        if domain.learning { learnGrants(of: domain) }
        return domain
    }

    /// An operator's connection that said hello becomes an operator client domain.
    func admitOperator(channel: ControlChannel, name: String, pid: Int32) throws -> KernelDomain {
        try admit(kind: .operator, entry: nil, channel: channel, name: name, pid: pid)
    }

    /// A domain on an existing channel, with a fresh trap page: an operator, or (tests)
    /// a service record without a process.
    func admit(kind: KernelDomain.Kind, entry: ServiceEntry?, channel: ControlChannel, name: String, pid: Int32) throws -> KernelDomain {
        let page = TrapPage(region: try SharedRegion.create(name: "nk-trap-\(name)", size: TrapPage.size))
        let domain = KernelDomain(id: allocateID(), name: name, kind: kind, entry: entry, channel: channel,
                                  trapPage: page, pid: pid, logLinesPerSecond: launcher?.logLinesPerSecond ?? Quotas().logLinesPerSecond)
        domain.state = .ready
        domains[domain.id] = domain
        return domain
    }

    /// Start the domain's call trap handler (at its welcome).
    func startTrapHandler(for domain: KernelDomain) throws {
        guard trapHandlers[domain.id] == nil, let page = domain.trapPage else { return }
        let handler = CallTrapHandler(domain: domain, page: page, bindings: bindingTable, log: log, trace: trace)
        try handler.start()
        trapHandlers[domain.id] = handler
    }

    // MARK: death

    /// The pidfd became readable: reap the process and record how it ended. Returns
    /// false if it has not exited after all. The caller revokes its bindings, then
    /// calls `retire` and perhaps `restart`.
    func reap(_ domain: KernelDomain) -> Bool {
        guard let pidfd = domain.pidfd else { return false }
        var code: Int32 = 0
        var status: Int32 = 0
        guard nk_pidfd_reap(pidfd.rawValue, &code, &status) == 1 else { return false }
        domain.output?.drainRemaining(into: log, domain: domain.name)
        stopTrapHandler(of: domain)
        let exit = code != CLD_EXITED ? "killed by signal \(status)"
            // The runtime ends a service on a termination signal with 128 + the signal.
            : (129...192).contains(status) ? "exited on signal \(status - 128) (status \(status))"
            : "exited with status \(status)"
        domain.exitedCleanly = code == CLD_EXITED && status == 0
        if domain.state != .stoppedBySandbox && domain.state != .stopped {
            domain.state = code == CLD_EXITED && status == 0 ? .exited : .crashed
            domain.lastEvent = domain.lastEvent.isEmpty ? exit : "\(domain.lastEvent); \(exit)"
        }
        log.info("kernel: domain \(domain.name) (pid \(domain.pid)) \(exit)")
        summariseLearning(of: domain)
        return true
    }

    /// Release everything the domain caused: its trap handler, channel, trap page,
    /// pidfd, notification fd and output pipe. Its record stays (for status) until
    /// `forget` or a restart replaces it. Its bindings must already be revoked.
    func retire(_ domain: KernelDomain) {
        stopTrapHandler(of: domain)
        domain.releaseResources()
    }

    /// Drop a retired domain's record.
    func forget(_ domain: KernelDomain) {
        retire(domain)
        domains[domain.id] = nil
    }

    private func stopTrapHandler(of domain: KernelDomain) {
        trapHandlers.removeValue(forKey: domain.id)?.stop()
    }

    // MARK: restart (policy: RestartSupervisor; acting on it: DomainTable+Supervision)

    // MARK: sandbox

    /// The domain made a syscall its filter does not allow: name it, then stop it.
    func receiveViolation(from domain: KernelDomain) {
        guard let notify = domain.notifyFD else { return }
        let violation: SandboxViolation
        do {
            violation = try SandboxViolation.receive(from: notify.rawValue)
        } catch where error.errno == EAGAIN {
            return  // the call was withdrawn (its thread interrupted): nothing to answer
        } catch {
            // The domain died first; its pidfd tells the rest.
            try? notify.close()
            domain.notifyFD = nil
            return
        }
        if domain.learning { return learn(violation, on: notify, of: domain) }
        // The refused thread may try again before the kill lands: the first report is the one.
        guard domain.state != .stoppedBySandbox else { return }
        domain.state = .stoppedBySandbox
        domain.lastEvent = "stopped by sandbox: \(violation.description)"
        log.warning("kernel: \(domain.name): stopped by sandbox: \(violation.description)")
        kill(domain)
    }

    // Learning mode: DomainTable+Learning.

    func kill(_ domain: KernelDomain) {
        if let pidfd = domain.pidfd { _ = nk_pidfd_send_signal(pidfd.rawValue, SIGKILL) }
    }
}
