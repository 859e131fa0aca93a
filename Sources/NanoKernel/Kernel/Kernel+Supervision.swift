// The operator's control of services: `kill SERVICE [SIGNAL]` (fault injection: the
// restart policy decides what follows), `stop` (a clean request, SIGKILL after a grace
// period; stays down), `start`, `restart` (stop, then start, with a fresh budget).
import BootImage
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

extension Kernel {
    func controlService(_ command: String, argument: String) -> Result<String, ControlError> {
        let words = argument.split(separator: " ").map(String.init)
        guard let name = words.first, let entry = image.services.first(where: { $0.name == name }) else {
            let names = image.services.map(\.name).joined(separator: ", ")
            return .failure(ControlError("no service named '\(words.first ?? "")'; services: \(names)"))
        }
        let domain = domains.current(for: entry)
        switch command {
        case "kill": return kill(entry, domain, signalName: words.count > 1 ? words[1] : "KILL")
        case "stop": return stop(entry, domain)
        case "start": return start(entry, domain)
        default: return restart(entry, domain)
        }
    }

    static let signalNames: [String: Int32] = [
        "KILL": SIGKILL, "TERM": SIGTERM, "INT": SIGINT, "HUP": SIGHUP, "QUIT": SIGQUIT, "ABRT": SIGABRT,
        "SEGV": SIGSEGV, "BUS": SIGBUS, "FPE": SIGFPE, "ILL": SIGILL, "USR1": SIGUSR1, "USR2": SIGUSR2,
        "STOP": SIGSTOP, "CONT": SIGCONT, "PIPE": SIGPIPE, "ALRM": SIGALRM,
    ]

    private func kill(_ entry: ServiceEntry, _ domain: KernelDomain?, signalName: String) -> Result<String, ControlError> {
        let upper = signalName.uppercased()
        let bare = upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
        guard let signal = Self.signalNames[bare] ?? Int32(signalName).flatMap({ (1...64).contains($0) ? $0 : nil }) else {
            return .failure(ControlError("unknown signal '\(signalName)'; signals: \(Self.signalNames.keys.sorted().joined(separator: ", ")) or a number"))
        }
        guard let domain, let pidfd = domain.pidfd else {
            return .failure(ControlError("service '\(entry.name)' is not running (\(domain?.state.rawValue ?? "never started"))"))
        }
        let label = Self.signalNames[bare] == nil ? "signal \(signal)" : "SIG\(bare)"
        if let reason = SignalEffect.ineffective(signal, label: label, service: entry.name, pid: domain.pid) {
            return .failure(ControlError("not sent: \(reason)"))
        }
        guard nk_pidfd_send_signal(pidfd.rawValue, signal) == 0 else {
            return .failure(ControlError("cannot signal \(entry.name): \(Errno.last)"))
        }
        log.info("kernel: operator sent signal \(signal) to \(entry.name) (pid \(domain.pid))")
        return .success("sent signal \(signal) (\(label)) to \(entry.name) (pid \(domain.pid))")
    }

    private func stop(_ entry: ServiceEntry, _ domain: KernelDomain?) -> Result<String, ControlError> {
        guard let domain else { return .failure(ControlError("service '\(entry.name)' is not running")) }
        guard domain.pidfd != nil else {
            let was = domain.state
            domain.state = .stopped
            domain.restartAt = nil
            tellRegistry(domainEnded: domain, returning: false)  // its names waited for a restart
            return .success("\(entry.name) stopped (it was \(was.rawValue))")
        }
        domains.requestStop(domain)
        return .success("stopping \(entry.name) (pid \(domain.pid)); SIGKILL after \(DomainTable.stopGraceNanoseconds(of: domain) / 1_000_000) ms")
    }

    private func start(_ entry: ServiceEntry, _ domain: KernelDomain?) -> Result<String, ControlError> {
        if let domain, domain.pidfd != nil {
            return .failure(ControlError("service '\(entry.name)' is already running (\(domain.state.rawValue), pid \(domain.pid))"))
        }
        domains.supervisors[entry.name]?.reset()
        let started: KernelDomain?
        if let domain { started = domains.replace(domain) } else { started = try? domains.spawn(entry) }
        guard let started else { return .failure(ControlError("cannot start \(entry.name); see the kernel log")) }
        return .success("started \(entry.name) (pid \(started.pid))")
    }

    private func restart(_ entry: ServiceEntry, _ domain: KernelDomain?) -> Result<String, ControlError> {
        domains.supervisors[entry.name]?.reset()
        guard let domain, domain.pidfd != nil else { return start(entry, domain) }
        domain.restartWhenDown = true
        domains.requestStop(domain)
        return .success("restarting \(entry.name) (pid \(domain.pid)); its restart budget is reset")
    }
}

extension Kernel {
    /// A server whose image sets `hang_limit_ms` and holds a call longer is killed; its
    /// restart policy brings it back and the caller's call fails as for any death.
    func checkHangs(now: UInt64 = monotonicNanoseconds()) {
        var inFlight: [(call: HangWatch.Call, limitNanoseconds: UInt64, server: UInt32)] = []
        for binding in bindings.live.values where binding.records != nil {
            guard let limit = binding.server.entry?.supervision.hangLimitMilliseconds, binding.server.isAlive else { continue }
            for slot in 0..<binding.geometry.slotCount where binding.slotInUse(slot) {
                let call = HangWatch.Call(binding: binding.bindingObject.index, slot: slot, sequence: binding.linkages[slot].issued)
                inFlight.append((call, UInt64(limit) * 1_000_000, binding.server.id))
            }
        }
        for id in hangWatch.sample(inFlight, now: now) {
            guard let server = domains[id], server.pidfd != nil, server.lastEvent.isEmpty else { continue }
            let limit = server.entry?.supervision.hangLimitMilliseconds ?? 0
            server.lastEvent = "hung: a call ran past its hang limit of \(limit) ms"
            log.warning("kernel: \(server.name) \(server.lastEvent); killing it")
            domains.kill(server)
        }
    }
}
