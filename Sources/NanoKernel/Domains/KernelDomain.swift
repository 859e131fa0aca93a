// KernelDomain: the kernel's record of one protection domain: a service process it
// spawned, or an operator's client (nkctl) that connected to the control socket.
//
// The record owns the domain's descriptors (control channel, trap page, pidfd, seccomp
// notifications, output pipe) until the DomainTable retires it; it holds no reference to
// its trap handler or its bindings' objects beyond its own import table, so nothing
// keeps a retired domain alive.
import BootImage
import CNanoKernel
import Glibc
import LRPC
import Synchronization
import SystemPackage

public enum DomainState: String, Sendable {
    case starting
    case ready
    case exited
    case crashed
    case stoppedBySandbox = "stopped-by-sandbox"
    case failed
    case stopped
    /// Asked to stop; SIGKILL follows the grace period.
    case stopping
    /// Dead, and restarting once its back-off ends (`restartAt`).
    case backingOff = "backing-off"
}

final class KernelDomain: @unchecked Sendable {
    enum Kind { case service, `operator` }

    let id: UInt32
    let name: String
    let kind: Kind
    /// The image entry a service domain was spawned from.
    let entry: ServiceEntry?
    /// The control channel; nil once retired.
    private(set) var channel: ControlChannel?
    /// The trap page shared with the domain; nil once retired.
    private(set) var trapPage: TrapPage?
    var pid: Int32
    var pidfd: FileDescriptor?
    var notifyFD: FileDescriptor?
    /// Learning mode: the syscalls and paths it needed beyond its image (bounded).
    var learned: LearnedSandbox?
    var learning: Bool { learned != nil }
    /// Its stdout and stderr, read by the kernel.
    var output: DomainOutput?
    /// The kernel's own lines about this domain (refusals, refused requests), per second
    /// at most (the image's log_lines_per_second); the rest are counted.
    let logLimit: Mutex<LogRateLimit>
    var state: DomainState = .starting
    /// "clock: stopped by sandbox: socket(AF_INET, SOCK_STREAM, 0)", or an exit status.
    var lastEvent: String = ""
    var restarts = 0
    /// When this run began (monotonic), for uptime and the stable-run reset.
    var startedAt = monotonicNanoseconds()
    /// Backing off: when the supervisor restarts it.
    var restartAt: UInt64?
    /// The operator asked it to stop (stop, restart): its exit is not a failure.
    var stopRequested = false
    /// The operator's restart: spawn again as soon as it is down.
    var restartWhenDown = false
    /// Stopping: SIGKILL after this instant.
    var stopDeadline: UInt64?
    /// How the previous run of this service ended (one level: never nested).
    var lastExit = ""
    /// Reaped after exiting with status 0.
    var exitedCleanly = false
    var exports: [InterfaceDescriptor] = []
    var sandboxSummary: [String: String] = [:]

    /// The bindings this domain may trap on, keyed by binding index. Locked by the
    /// domain's trap handler on every call and by the control thread when it adds or
    /// revokes a binding: never shared between two client domains.
    let imports = Mutex<[UInt32: KernelBinding]>([:])
    /// Calls served on bindings that were since revoked.
    var retiredCallsServed: UInt64 = 0
    /// Trap refusals (forged, stale, foreign objects, bad procedures or slots).
    let refusals = SharedWord64.allocate()
    /// Doorbells its trap handler slowed down for (a doorbell storm).
    let doorbellStorms = SharedWord64.allocate()
    /// False once the channel reached end-of-file or was cut for garbage.
    var channelOpen = true
    /// Sent the welcome (the domain said hello).
    var welcomed = false
    /// What the kernel could not send yet (the channel is non-blocking).
    private(set) var outbox = Outbox()
    /// Set when the domain must be cut off (its outbox overflowed, its channel failed);
    /// the control loop disconnects it.
    private(set) var cutOffReason: String?

    init(id: UInt32, name: String, kind: Kind, entry: ServiceEntry?, channel: ControlChannel,
         trapPage: TrapPage, pid: Int32, logLinesPerSecond: Int = Quotas().logLinesPerSecond) {
        logLimit = Mutex(LogRateLimit(perSecond: logLinesPerSecond))
        self.id = id
        self.name = name
        self.kind = kind
        self.entry = entry
        self.channel = channel
        self.trapPage = trapPage
        self.pid = pid
        // The control thread never waits on a domain (see Outbox).
        _ = nk_set_nonblocking(channel.fd.rawValue, 1)
    }

    deinit {
        refusals.deallocate()
        doorbellStorms.deallocate()
    }

    var isAlive: Bool { state == .starting || state == .ready }

    /// Send a control message without waiting: what the channel does not take now waits
    /// in the domain's bounded outbox. A domain that overflows it is marked to be cut off.
    func send(_ message: ControlMessage, descriptors: [FileDescriptor] = [], log: KernelLog) {
        guard channelOpen, cutOffReason == nil, let channel else { return }
        switch outbox.send(message, descriptors: descriptors, on: channel) {
        case .sent, .queued: break
        case .overflow:
            cutOffReason = "stopped reading its control channel (more than \(Outbox.capacity) messages or \(Outbox.byteCapacity) bytes waiting)"
        case .failed(let error):
            warn("kernel: cannot reach domain '\(name)': \(error)", log: log)
        }
    }

    var hasQueuedMessages: Bool { !outbox.isEmpty }

    /// The channel became writable: send what waits.
    func flushOutbox(log: KernelLog) {
        guard let channel else { return }
        do { try outbox.flush(on: channel) } catch {
            warn("kernel: cannot reach domain '\(name)': \(error)", log: log)
            outbox.discard()
        }
    }

    /// A kernel line about this domain, within the domain's log rate (the rest are
    /// counted and reported in one line).
    func warn(_ text: String, log: KernelLog) {
        if admitLine(log) { log.warning(text) }
    }

    /// An ordinary kernel line caused by this domain (an export, a binding), within the
    /// same rate.
    func note(_ text: String, log: KernelLog) {
        if admitLine(log) { log.info(text) }
    }

    private func admitLine(_ log: KernelLog) -> Bool {
        let (allowed, dropped) = logLimit.withLock { $0.admit() }
        if dropped > 0 { log.warning("kernel: \(dropped) more lines about domain '\(name)' not logged (rate limit)") }
        return allowed
    }

    /// Why the control loop must cut this domain off now, if it must.
    func cutOffDue(now: UInt64 = monotonicNanoseconds()) -> String? {
        if let cutOffReason { return cutOffReason }
        if outbox.overdue(now: now) {
            return "stopped reading its control channel (messages unread for more than \(Outbox.drainDeadline / 1_000_000_000) s)"
        }
        return nil
    }

    /// Stop talking to the domain: both directions of its channel shut down (a service
    /// exits when it sees the channel close).
    func cutChannel() {
        channelOpen = false
        outbox.discard()
        cutOffReason = nil
        if let channel { _ = Glibc.shutdown(channel.fd.rawValue, Int32(SHUT_RDWR)) }
    }

    /// Release every descriptor and mapping the domain caused. Called once, by the
    /// DomainTable, after its bindings are revoked and its trap handler stopped.
    func releaseResources() {
        channelOpen = false
        outbox.discard()
        channel = nil
        trapPage = nil
        if let pidfd { try? pidfd.close() }
        pidfd = nil
        try? notifyFD?.close()
        notifyFD = nil
        output = nil
    }

    /// May this domain import `interface` under the image's policy?
    func mayImport(_ interface: String, image: BootImage) -> Bool {
        switch kind {
        case .service: entry?.imports.contains(interface) ?? false
        case .operator: image.operatorImports.contains(interface)
        }
    }

    func allowedImports(image: BootImage) -> [String] {
        kind == .service ? entry?.imports ?? [] : image.operatorImports
    }
}
