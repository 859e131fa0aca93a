// The DomainTable acting on its supervisors' decisions: a dead service restarts after
// its back-off, stays down, or is marked failed; the operator's stop is a clean request
// with SIGKILL after a grace period. RestartSupervisor (Supervision/) decides; this acts.
import BootImage
import CNanoKernel
import Glibc
import LRPC

extension DomainTable {
    enum Supervised: Equatable { case restarting, backingOff, down, failed }

    /// Boot order follows imports: a service starts after the services it imports from
    /// (a cycle keeps the image's order). Imports wait for their server anyway; the order
    /// only spares the first import a wait.
    static func bootOrder(_ services: [ServiceEntry]) -> [ServiceEntry] {
        var ordered: [ServiceEntry] = []
        var remaining = services
        while !remaining.isEmpty {
            let provided = Set(remaining.flatMap(\.provides))
            let ready = remaining.firstIndex { entry in
                entry.imports.allSatisfy { !provided.contains($0) || entry.provides.contains($0) }
            }
            ordered.append(remaining.remove(at: ready ?? 0))
        }
        return ordered
    }

    /// Every exit the operator did not ask for is a failure, whatever its status: a
    /// service `completed` only when it exited 0 on its own with nothing else wrong
    /// (`hadEvent`: the kernel had already cut it off or stopped it by its sandbox).
    func classifyExit(_ domain: KernelDomain, hadEvent: Bool, shuttingDown: Bool) -> ServiceExit {
        if domain.stopRequested || shuttingDown { return .requested }
        if domain.exitedCleanly && !hadEvent { return .completed }
        return .failure(domain.lastEvent)
    }

    /// A reaped, retired service: what its supervisor says happens next.
    func supervise(_ dead: KernelDomain, after exit: ServiceExit) -> Supervised {
        guard let entry = dead.entry, var supervisor = supervisors[entry.name] else { return .down }
        dead.stopDeadline = nil
        if dead.restartWhenDown {
            log.info("kernel: restarting \(entry.name) (operator)")
            return replace(dead) == nil ? .down : .restarting
        }
        let now = monotonicNanoseconds()
        let decision = supervisor.exited(exit, at: now)
        supervisors[entry.name] = supervisor
        switch decision {
        case .stayDown:
            if case .requested = exit { dead.state = .stopped }
            return .down
        case .failed(let reason):
            dead.state = .failed
            dead.lastEvent = reason
            log.warning("kernel: \(entry.name) failed: \(reason); not restarting it (nkctl restart \(entry.name) resets it)")
            return .failed
        case .restart(let delay):
            dead.state = .backingOff
            dead.restartAt = now + delay
            log.info("kernel: restarting \(entry.name) in \(delay / 1_000_000) ms (\(supervisor.restartsInWindow(at: now)) restarts in its window)")
            return .backingOff
        }
    }

    /// A new run of `dead`'s service; the replacement keeps one level of story.
    @discardableResult
    func replace(_ dead: KernelDomain) -> KernelDomain? {
        guard let entry = dead.entry else { return nil }
        dead.restartAt = nil
        do {
            let replacement = try spawn(entry, restarts: dead.restarts + 1)
            replacement.lastExit = dead.lastEvent
            forget(dead)
            return replacement
        } catch {
            // No descriptors, say: try again after a back-off, within the budget.
            log.warning("kernel: cannot restart \(entry.name): \(error)")
            dead.lastEvent = "could not be spawned: \(error)"
            _ = supervise(dead, after: .failure(dead.lastEvent))
            return nil
        }
    }

    /// Each turn of the event loop: restarts whose back-off ended, stops whose grace
    /// period ended.
    func runTimers(now: UInt64 = monotonicNanoseconds()) {
        for domain in Array(all) {
            if domain.state == .backingOff, let at = domain.restartAt, at <= now {
                replace(domain)
            } else if let deadline = domain.stopDeadline, deadline <= now, domain.pidfd != nil {
                log.warning("kernel: \(domain.name) did not stop within the grace period; killing it")
                kill(domain)
                domain.stopDeadline = nil
            }
        }
    }

    /// The next instant `runTimers` has something to do.
    var nextTimer: UInt64? { all.compactMap { $0.restartAt ?? $0.stopDeadline }.min() }

    /// A clean request over the control channel (a pid namespace's init ignores SIGTERM
    /// it has no handler for), then SIGKILL once the grace period is over. A stopped
    /// (SIGSTOP) process is continued so it can hear the request.
    func requestStop(_ domain: KernelDomain) {
        domain.stopRequested = true
        domain.state = .stopping
        domain.stopDeadline = monotonicNanoseconds() + Self.stopGraceNanoseconds(of: domain)
        if let pidfd = domain.pidfd { _ = nk_pidfd_send_signal(pidfd.rawValue, SIGCONT) }
        domain.send(.stop, log: log)
    }

    /// A stop request's grace period before SIGKILL: the image's `stop_grace_ms`.
    static func stopGraceNanoseconds(of domain: KernelDomain) -> UInt64 {
        UInt64(domain.entry?.supervision.stopGraceMilliseconds ?? SupervisionSettings().stopGraceMilliseconds) * 1_000_000
    }

    // MARK: imports while a service is down

    /// The service that provides `interface` in the image, and its newest run.
    func provider(of interface: String, image: BootImage) -> (ServiceEntry, KernelDomain?)? {
        guard let entry = image.services.first(where: { $0.provides.contains(interface) }) else { return nil }
        return (entry, current(for: entry))
    }

    /// Why an import is refused at once: its service has failed for good (or is down and
    /// its policy does not bring it back). nil: the import may wait.
    func importRefusal(for interface: String, image: BootImage) -> String? {
        guard let (entry, domain) = provider(of: interface, image: image), let domain else { return nil }
        switch domain.state {
        case .failed: return "service '\(entry.name)' failed: \(domain.lastEvent)"
        case .exited, .crashed, .stoppedBySandbox:
            return "service '\(entry.name)' is down and its restart policy (\(entry.restart.rawValue)) does not bring it back: \(domain.lastEvent)"
        default: return nil
        }
    }

    /// Why an import that waited found no server, for the client's message.
    func unavailability(of interface: String, image: BootImage) -> String {
        guard let (entry, domain) = provider(of: interface, image: image), let domain else { return "its service is not running" }
        let now = monotonicNanoseconds()
        switch domain.state {
        case .backingOff:
            let ms = (domain.restartAt ?? now) > now ? ((domain.restartAt ?? now) - now) / 1_000_000 : 0
            return "service '\(entry.name)' is backing off after: \(domain.lastEvent) (restart in \(ms) ms)"
        case .stopped, .stopping: return "service '\(entry.name)' was stopped by the operator"
        case .starting: return "service '\(entry.name)' is still starting"
        default: return importRefusal(for: interface, image: image) ?? "service '\(entry.name)' is \(domain.state.rawValue)"
        }
    }
}
