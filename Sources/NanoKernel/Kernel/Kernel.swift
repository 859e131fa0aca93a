// Kernel: the supervisor. It alone spawns domains, creates bindings and shared memory,
// and validates every call trap (CallTrapHandler). Everything else happens on one
// control thread: the event loop in EventLoop.swift.
import BootImage
import CNanoKernel
import Glibc
import LRPC
import SystemPackage

public final class Kernel: @unchecked Sendable {
    public let image: BootImage
    public let log: KernelLog
    let socket: ControlSocket
    let trace = CallTrace()
    /// Every domain: spawn, admit, reap, restart, retire.
    let domains: DomainTable
    /// Every binding: export, import, bind, revoke.
    let bindings: BindingManager

    // Owned by the control thread.
    /// Connections to the control socket that have not said hello yet.
    var connections: [Int32: NewConnection] = [:]
    /// Refused connections are logged at this rate; the rest are counted.
    var connectionLog = LogRateLimit(perSecond: 5)
    var shutdownRequested = false
    /// Calls in flight on servers with a hang limit (Supervision/HangWatch).
    var hangWatch = HangWatch()
    var shutdownDeadline: UInt64?
    let bootStarted = monotonicNanoseconds()
    var bootFinished = false
    /// Called once: every service ready (.success with a summary) or boot failed.
    let onBoot: (Result<String, ControlError>) -> Void

    /// Boot `image`: listen on `socketPath`, spawn every service. Run the event loop
    /// with `run()`.
    public init(image: BootImage, socketPath: String, log: KernelLog = KernelLog(),
                onBoot: @escaping (Result<String, ControlError>) -> Void = { _ in }) throws {
        self.image = image
        self.log = log
        self.onBoot = onBoot
        bindings = BindingManager(image: image, log: log, trace: trace)
        domains = DomainTable(launcher: try DomainLauncher(image: image, log: log), bindingTable: bindings.table,
                              log: log, trace: trace)
        socket = try ControlSocket(path: socketPath)
        log.info("kernel: booting image '\(image.name)' from \(image.path); control socket \(socketPath)")
        for entry in DomainTable.bootOrder(image.services) { spawnService(entry) }
    }

    /// Spawn a service from its image entry; a failure during boot fails the boot.
    func spawnService(_ entry: ServiceEntry) {
        do { _ = try domains.spawn(entry) } catch {
            log.warning("kernel: \(error)")
            if !bootFinished { failBoot("\(error)") }
        }
    }

    // MARK: boot progress

    func checkBootProgress() {
        guard !bootFinished else { return }
        let current = image.services.map { domains.current(for: $0) }
        if current.allSatisfy({ $0?.state == .ready }) {
            bootFinished = true
            let ms = Double(monotonicNanoseconds() - bootStarted) / 1e6
            let summary = "kernel: all \(image.services.count) services ready in \(format6(ms / 1000).prefix(5)) s"
            log.info(summary)
            onBoot(.success(summary))
            return
        }
        if let dead = current.first(where: { $0.map { !$0.isAlive && $0.state != .backingOff } ?? true }) {
            let message = dead.map { "service '\($0.name)' failed during boot: \($0.lastEvent)" } ?? "a service did not start"
            failBoot(message)
        } else if monotonicNanoseconds() - bootStarted > 20_000_000_000 {
            let waiting = zip(image.services, current).filter { $1?.state != .ready }.map(\.0.name)
            failBoot("services not ready after 20 s: \(waiting.joined(separator: ", "))")
        }
    }

    func failBoot(_ message: String) {
        bootFinished = true
        log.warning("kernel: boot failed: \(message)")
        onBoot(.failure(ControlError(message)))
        requestShutdown()
    }

    public func requestShutdown() {
        guard !shutdownRequested else { return }
        shutdownRequested = true
        shutdownDeadline = monotonicNanoseconds() + 3_000_000_000
        log.info("kernel: shutting down")
        for domain in domains.all where domain.isAlive {
            domain.state = .stopped
            // Services exit when their control channel closes.
            domain.cutChannel()
        }
    }
}
