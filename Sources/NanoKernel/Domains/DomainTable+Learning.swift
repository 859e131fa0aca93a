// Learning mode (`nkctl boot --learn SERVICE`): the domain's filter sends the kernel
// every call it would refuse and every call that names a path; the kernel records what
// the image would have to grant, lets the call run, and prints the image lines to paste,
// each with the reason it would have been stopped. Runs on the control thread, one
// notification per pass of the event loop, so a learning domain that floods it slows
// only itself: its threads wait for their answers while every other source is served.
import Glibc
import SystemPackage

extension DomainTable {
    /// Refused even while learning: a call that could make the kernel's own reads of the
    /// domain's memory wait (a userfaultfd range stalls whoever touches it).
    static let refusedWhileLearning: Set<String> = ["userfaultfd"]

    /// At spawn: what the image's read_write grants need of the host's permissions.
    func learnGrants(of domain: KernelDomain) {
        guard var learned = domain.learned else { return }
        var fresh: [PathFinding] = []
        for finding in learned.classifier.grantFindings() where learned.record(finding) == .recorded {
            fresh.append(finding)
        }
        domain.learned = learned
        report(fresh, call: "its read_write grant", of: domain)
    }

    /// One notification: classify what the call would need (before it runs, while the
    /// host still looks as the call will find it), then let it run.
    func learn(_ violation: SandboxViolation, on notify: FileDescriptor, of domain: KernelDomain) {
        guard var learned = domain.learned else { return }
        var fresh: [PathFinding] = []
        for access in violation.paths(on: notify.rawValue) ?? [] {
            fresh += learned.record(access, ownPids: [domain.pid, violation.pid])
        }
        let allowed = violation.baseFilterAllows || learned.filterExtras.contains(violation.syscallName)
        let newSyscall = !allowed && learned.record(syscall: violation.syscallName)
        if Self.refusedWhileLearning.contains(violation.syscallName) {
            _ = violation.refuse(on: notify.rawValue, error: EPERM)
        } else {
            _ = violation.allow(on: notify.rawValue)
        }
        domain.learned = learned
        if newSyscall {
            let refused = Self.refusedWhileLearning.contains(violation.syscallName)
                ? " (refused with EPERM even while learning: it could stall the kernel's reads of the domain's memory)" : ""
            log.warning("kernel: \(domain.name): learn: \(violation.description) would have stopped it: \(violation.syscallName) is not in its syscall allow-list\(refused)")
            log.warning("kernel: \(domain.name): learn: [service.sandbox] \(learned.syscallLine)")
        }
        report(fresh, call: violation.description, of: domain)
        if newSyscall || !fresh.isEmpty { describeLearning(of: domain) }
    }

    private func report(_ findings: [PathFinding], call: String, of domain: KernelDomain) {
        guard let learned = domain.learned else { return }
        for finding in findings {
            switch finding {
            case .need(let field, _, let reason):
                log.warning("kernel: \(domain.name): learn: \(call) would have been refused: \(reason)")
                log.warning("kernel: \(domain.name): learn: [service.sandbox] \(learned.line(field))")
            case .fix(_, let command, let reason):
                log.warning("kernel: \(domain.name): learn: \(call) would fail: \(reason); fix: \(command)")
            case .note(let path, let reason):
                let subject = path.isEmpty ? "" : "\(HostPath.quoted(path)): "
                log.warning("kernel: \(domain.name): learn: \(call): \(subject)\(reason) (no image line)")
            }
        }
        if !findings.isEmpty { describeLearning(of: domain) }
    }

    /// When a learning domain ends (or the kernel shuts down): everything it needed, as
    /// one block to paste into its entry.
    func summariseLearning(of domain: KernelDomain) {
        guard let learned = domain.learned else { return }
        let prefix = "kernel: \(domain.name): learn:"
        guard !learned.syscalls.isEmpty || !learned.readOnly.isEmpty || !learned.readWrite.isEmpty || !learned.fixes.isEmpty else {
            return log.info("\(prefix) it needed nothing beyond its image")
        }
        log.warning("\(prefix) what it needed, to paste into its [[service]] entry:")
        log.warning("\(prefix)   [service.sandbox]")
        if !learned.readOnly.isEmpty || !learned.image.readOnlyPaths.isEmpty { log.warning("\(prefix)   \(learned.line(.readOnly))") }
        if !learned.readWrite.isEmpty || !learned.image.readWritePaths.isEmpty { log.warning("\(prefix)   \(learned.line(.readWrite))") }
        if !learned.syscalls.isEmpty || !learned.image.extraSyscalls.isEmpty { log.warning("\(prefix)   \(learned.syscallLine)") }
        for fix in learned.fixes { log.warning("\(prefix)   # on the host: \(fix.command)") }
    }

    /// The domain's last event and status sandbox say what it has learned so far.
    private func describeLearning(of domain: KernelDomain) {
        guard let learned = domain.learned else { return }
        var parts: [String] = []
        if !learned.syscalls.isEmpty {
            let shown = learned.syscalls.prefix(16).joined(separator: ", ")
            let more = learned.syscalls.count > 16 ? " and \(learned.syscalls.count - 16) more" : ""
            parts.append("its filter would have stopped \(shown)\(more)")
        }
        let paths = learned.readOnly.count + learned.readWrite.count
        if paths > 0 { parts.append("\(paths) path\(paths == 1 ? "" : "s") outside its grants") }
        if !learned.fixes.isEmpty { parts.append("\(learned.fixes.count) host permission fix\(learned.fixes.count == 1 ? "" : "es")") }
        domain.lastEvent = "learning: " + parts.joined(separator: "; ")
        domain.sandboxSummary = domain.sandboxSummary.filter { !$0.key.hasPrefix("learned_") }
            .merging(learned.summary) { $1 }
    }
}
