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
    let launcher: DomainLauncher
    let bindingTable = BindingTable()
    let trace = CallTrace()

    // Owned by the control thread.
    var domains: [UInt32: KernelDomain] = [:]
    var nextDomainID: UInt32 = 1
    var connections: [Int32: ControlChannel] = [:]
    var exporters: [String: KernelDomain] = [:]
    var liveBindings: [UInt32: KernelBinding] = [:]
    var pendingBinds: [UInt32: PendingBind] = [:]
    var pendingImports: [PendingImport] = []
    var shutdownRequested = false
    var shutdownDeadline: UInt64?
    let bootStarted = monotonicNanoseconds()
    var bootFinished = false
    /// Called once: every service ready (.success with a summary) or boot failed.
    let onBoot: (Result<String, ControlError>) -> Void

    struct PendingBind {
        let binding: KernelBinding
        let request: UInt32
        /// What the client gets: its A-stack memfd, or its end of the message socket.
        let clientFD: FileDescriptor
        /// The kernel's ends of a message binding's sockets (client side, server side).
        let relayEnds: (FileDescriptor, FileDescriptor)?

        func closeDescriptors() {
            try? clientFD.close()
            if let (a, b) = relayEnds { try? a.close(); try? b.close() }
        }
    }

    struct PendingImport {
        let client: KernelDomain
        let request: UInt32
        let interface: String
        let transport: Transport
        let deadline: UInt64
    }

    /// Boot `image`: listen on `socketPath`, spawn every service. Run the event loop
    /// with `run()`.
    public init(image: BootImage, socketPath: String, log: KernelLog = KernelLog(),
                onBoot: @escaping (Result<String, ControlError>) -> Void = { _ in }) throws {
        self.image = image
        self.log = log
        self.onBoot = onBoot
        launcher = try DomainLauncher(image: image, log: log)
        socket = try ControlSocket(path: socketPath)
        log.info("kernel: booting image '\(image.name)' from \(image.path); control socket \(socketPath)")
        for entry in image.services { spawnService(entry) }
    }

    func allocateDomainID() -> UInt32 {
        defer { nextDomainID += 1 }
        return nextDomainID
    }

    /// Live service domain for each image entry (the newest, after restarts).
    func currentDomain(for entry: ServiceEntry) -> KernelDomain? {
        domains.values.filter { $0.entry?.name == entry.name }.max { $0.id < $1.id }
    }

    // MARK: boot progress

    func checkBootProgress() {
        guard !bootFinished else { return }
        let current = image.services.map { currentDomain(for: $0) }
        if current.allSatisfy({ $0?.state == .ready }) {
            bootFinished = true
            let ms = Double(monotonicNanoseconds() - bootStarted) / 1e6
            let summary = "kernel: all \(image.services.count) services ready in \(format6(ms / 1000).prefix(5)) s"
            log.info(summary)
            onBoot(.success(summary))
            return
        }
        if let dead = current.first(where: { $0.map { !$0.isAlive && $0.state != .starting } ?? true }) {
            let message = dead.map { "service '\($0.name)' failed during boot: \($0.lastEvent)" } ?? "a service did not start"
            failBoot(message)
        } else if monotonicNanoseconds() - bootStarted > 20_000_000_000 {
            let waiting = zip(image.services, current).filter { $1?.state != .ready }.map(\.0.name)
            failBoot("services not ready after 20 s: \(waiting.joined(separator: ", "))")
        }
    }

    private func failBoot(_ message: String) {
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
        for domain in domains.values where domain.isAlive {
            domain.state = .stopped
            domain.trapHandler?.stop()
            // Services exit when their control channel closes.
            _ = Glibc.shutdown(domain.channel.fd.rawValue, Int32(SHUT_RDWR))
        }
    }
}
