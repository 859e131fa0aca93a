// DomainRuntime: this domain's side of the kernel. It owns the control channel, the
// trap page, and a control thread that answers the kernel (bind, unbind) and routes
// replies to the threads waiting for them.
import CNanoKernel
import Glibc
import SystemPackage

public final class DomainRuntime: @unchecked Sendable {
    public let domainID: UInt32
    public let domainName: String
    let channel: ControlChannel
    let trapPage: TrapPage
    /// Process-local: bit i set = trap cell i is free.
    private let freeCells: SharedWord
    /// Process-local: numbers this domain's traced message calls (their trace key).
    private let messageCalls: SharedWord

    private let monitor = Monitor()
    private var replies: [UInt32: (ControlMessage, [FileDescriptor])] = [:]
    /// Requests whose caller stopped waiting; their late replies are dropped (and a late
    /// binding released). Bounded: a kernel that never answers cannot grow it.
    private var abandonedRequests: Set<UInt32> = []
    static let abandonedRequestMemory = 256
    private var nextRequest: UInt32 = 1
    private var exportedInterfaces: Set<String> = []
    private var services: [String: Service] = [:]
    private var kernelGone = false
    /// Set by `run()`: what to do when the kernel closes the channel.
    private var exitWhenKernelGone = false
    /// Run (on a thread of its own) when the name service asks for registrations again.
    public var onRegisterAgain: (@Sendable () -> Void)?
    /// Live client bindings by binding index, so the kernel's revocation notice reaches
    /// the right one (checked against the whole binding object). Weak: the application owns them.
    private var clientBindings: [UInt32: WeakClientBinding] = [:]
    /// Revocation notices that arrived before their binding was registered (the import's
    /// answer and the notice can cross): the import marks its binding revoked at once.
    /// One entry per binding index, removed when that index is registered again.
    private var unclaimedRevocations: [UInt32: (BindingObject, String)] = [:]
    /// Run on the control thread when the kernel revokes one of this domain's bindings.
    public var onRevoked: (@Sendable (BindingObject, String) -> Void)?
    /// The registry's part: run on the control thread when the kernel says a domain ended
    /// (id, name, whether its service restarts). It must not block: it holds up this
    /// domain's control messages.
    public var onDomainEnded: (@Sendable (UInt32, String, Bool) -> Void)?
    /// Run when the operator asks this service to stop; the default exits cleanly.
    public var onStop: @Sendable () -> Void = { exit(0) }
    /// How long an import waits for a server that is down or restarting (seconds).
    public static let defaultImportWaitSeconds: Double = 10

    /// How long joining a kernel may take.
    public static let joinTimeoutSeconds: Double = 10

    /// The descriptor a kernel-spawned domain finds its control channel on.
    public static let controlDescriptor: Int32 = 3

    /// Join the kernel that spawned this process (control channel on fd 3).
    public static func spawnedByKernel(name: String) throws -> DomainRuntime {
        exitOnTerminationSignals()
        return try DomainRuntime(channel: ControlChannel(fd: FileDescriptor(rawValue: controlDescriptor)), name: name)
    }

    /// Signals that end a process by default but are never faults. A service is the init
    /// of its pid namespace, and Linux drops such a signal sent to an init that has no
    /// handler for it (kill(2) of SIGTERM, abort()'s SIGABRT): with this handler the
    /// domain ends as a process would, with status 128 + the signal, and the kernel sees
    /// a failure.
    static let terminationSignals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGABRT, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE]

    /// Fault signals. A real fault (the CPU's, si_code > 0) is forced on the process and
    /// kills even an init; but the same signals sent by kill(2) (`nkctl kill --signal
    /// SEGV`) would be dropped. The handler tells them apart: a sent one ends the domain
    /// with status 128 + the signal; for a real fault it only runs once (SA_RESETHAND) and
    /// returns, the instruction faults again, and the default action ends the process by
    /// the signal, as before.
    static let faultSignals: [Int32] = [SIGSEGV, SIGILL, SIGBUS, SIGFPE]

    private static func exitOnTerminationSignals() {
        for signal in terminationSignals { Glibc.signal(signal) { _exit(128 + $0) } }
        for signal in faultSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signal, info, _ in
                // SI_USER, SI_QUEUE, SI_TKILL...: sent by a process, not raised by the CPU.
                if let info, info.pointee.si_code <= 0 { _exit(128 + signal) }
            }
            action.sa_flags = SA_SIGINFO | Int32(bitPattern: UInt32(SA_RESETHAND))
            sigaction(signal, &action, nil)
        }
    }

    /// Join a running kernel through its control socket (nkctl, tests).
    public static func connect(socketPath: String, name: String,
                               joinTimeoutSeconds: Double = DomainRuntime.joinTimeoutSeconds) throws -> DomainRuntime {
        let channel = try ControlChannel.connect(path: socketPath)
        try channel.checkPeerIsTrustedKernel(socketPath)
        return try DomainRuntime(channel: channel, name: name, joinTimeoutSeconds: joinTimeoutSeconds)
    }

    init(channel: ControlChannel, name: String, joinTimeoutSeconds: Double = DomainRuntime.joinTimeoutSeconds) throws {
        self.channel = channel
        try channel.send(.hello(domainName: name))
        // Joining waits for the welcome at most `joinTimeout`: a kernel that does not
        // answer is an error, never a hang.
        var ready = pollfd(fd: channel.fd.rawValue, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, Int32(joinTimeoutSeconds * 1000)) == 1 else {
            throw CallError.timedOut("the kernel did not welcome this domain within \(joinTimeoutSeconds) s")
        }
        guard let (message, fds) = try channel.receive() else { throw CallError.kernelGone }
        guard case .welcome(let id, let assignedName) = message else {
            fds.forEach { try? $0.close() }
            if case .failed(_, let text) = message { throw ControlError(text) }
            throw ControlError("expected welcome from the kernel, got \(message)")
        }
        domainID = id
        domainName = assignedName
        trapPage = TrapPage(region: try SharedRegion(mapping: fds[0], size: TrapPage.size))
        freeCells = .allocate(initial: UInt32.max)
        messageCalls = .allocate()
        try OSThread.spawn(name: "nk-control") { [self] in controlLoop() }
    }

    // MARK: requests to the kernel

    /// Export an interface and start accepting bindings to it.
    public func export(_ service: Service) throws {
        monitor.locked { services[service.interface.name] = service }
        let (reply, _) = try request { _ in .export(service.interface) }
        guard case .exported = reply else { throw unexpected(reply) }
    }

    /// Import an interface through the kernel: binding steps 3-6.
    /// `transport` nil takes the image's choice for the interface (LRPC by default).
    /// While the interface's server is down or backing off the kernel holds the import
    /// up to `timeoutSeconds`; a service that has failed for good is refused at once.
    public func importInterface(_ name: String, transport: Transport? = nil,
                                timeoutSeconds: Double = defaultImportWaitSeconds) throws -> ClientBinding {
        let wait = UInt32(min(max(timeoutSeconds, 0.001), 3600) * 1000)
        // The kernel answers by the wait it was given; the margin covers a busy kernel
        // (an answer later still is dropped, its binding released).
        let (reply, fds) = try request(timeoutSeconds: timeoutSeconds + 1, describe: "the import of '\(name)'") {
            .importInterface(request: $0, name: name, transport: transport, waitMilliseconds: wait)
        }
        guard case .imported(_, let bo, let geometry, let interface, let transport, let deadline) = reply else { throw unexpected(reply) }
        let seconds = Double(max(deadline, 1)) / 1000
        let binding: ClientBinding
        switch transport {
        case .lrpc:
            let region = try SharedRegion(mapping: fds[0], size: geometry.regionSize, keepingDescriptor: true)
            binding = ClientBinding(runtime: self, bindingObject: bo, astacks: AStackRegion(region: region, geometry: geometry),
                                    messages: nil, interface: interface, callTimeoutSeconds: seconds)
        case .message:
            binding = ClientBinding(runtime: self, bindingObject: bo, astacks: nil,
                                    messages: MessageStub(socket: fds[0], payloadCapacity: geometry.payloadCapacity),
                                    interface: interface, callTimeoutSeconds: seconds)
        }
        let revoked = monitor.locked { () -> String? in
            clientBindings[bo.index] = WeakClientBinding(binding)
            guard let (revokedObject, reason) = unclaimedRevocations.removeValue(forKey: bo.index),
                  revokedObject == bo else { return nil }
            return reason
        }
        // Before the first call: a caller asleep on its reply word relies on the notice.
        if let revoked { bindingRevoked(bo, reason: revoked) }
        return binding
    }

    /// Tell the kernel a binding is no longer needed (ClientBinding does this when it goes).
    /// The trace key of a traced message call: high bit set, so it never equals a trap's.
    func nextMessageKey() -> UInt32 { 0x8000_0000 | ((messageCalls.fetchAdd(1) &+ 1) & 0x7fff_ffff) }

    /// The whole binding object: the kernel ignores a release that does not match it.
    func release(_ binding: BindingObject) { try? channel.send(.release(binding: binding)) }

    /// A client binding is going away: stop routing notices to it.
    func forget(_ binding: ClientBinding) {
        monitor.locked {
            if clientBindings[binding.bindingObject.index]?.binding == nil
                || clientBindings[binding.bindingObject.index]?.binding === binding {
                clientBindings[binding.bindingObject.index] = nil
            }
        }
    }

    /// The kernel revoked a binding of ours: mark it, so the next call rebinds or fails clearly.
    private func bindingRevoked(_ bo: BindingObject, reason: String) {
        let (binding, callback) = monitor.locked { () -> (ClientBinding?, (@Sendable (BindingObject, String) -> Void)?) in
            guard let binding = clientBindings[bo.index]?.binding, binding.bindingObject == bo else {
                if clientBindings[bo.index]?.binding == nil { unclaimedRevocations[bo.index] = (bo, reason) }
                return (nil, nil)
            }
            clientBindings[bo.index] = nil
            return (binding, onRevoked)
        }
        guard let binding else { return }
        binding.markRevoked(reason)
        callback?(bo, reason)
    }

    /// Tell the kernel this domain is up (exported and registered).
    public func ready() throws { try channel.send(.ready) }

    /// An operator request (status, bindings, shutdown); the reply is JSON text.
    public func admin(_ command: String, argument: String = "", timeoutSeconds: Double = 10) throws -> String {
        let (reply, _) = try request(timeoutSeconds: timeoutSeconds) {
            .admin(request: $0, command: command, argument: argument)
        }
        guard case .adminReply(_, let body) = reply else { throw unexpected(reply) }
        return body
    }

    /// Serve until the kernel goes away, then exit the process.
    public func run() -> Never {
        monitor.locked { exitWhenKernelGone = true }
        _ = monitor.wait(seconds: .infinity) { kernelGone ? true : nil }
        exit(0)
    }

    public var isKernelAlive: Bool { monitor.locked { !kernelGone } }

    /// Leave the kernel: it revokes this domain's bindings.
    public func close() {
        _ = Glibc.shutdown(channel.fd.rawValue, Int32(SHUT_RDWR))
    }

    // MARK: the control thread

    private func controlLoop() {
        var failures = 0
        while true {
            let received: (ControlMessage, [FileDescriptor])?
            do {
                received = try channel.receive()
                failures = 0
            } catch {
                // A message lost to this domain's own limits (no descriptor left for what
                // it carried) is not the kernel going away: the kernel expires the offer.
                // Only a channel that keeps failing is given up.
                logError("control channel: \(error)")
                failures += 1
                if Self.lostToOwnLimits(error) && failures < 100 { continue }
                channelFailed = true
                received = nil
            }
            guard let (message, fds) = received else { break }
            handle(message, fds)
        }
        let exitNow = monitor.locked { () -> Bool in
            kernelGone = true
            return exitWhenKernelGone
        }
        monitor.broadcast()
        // End-of-file: the kernel let this domain go (exit 0). A failed channel (say, no
        // descriptor left for a message's fds) is a failure the kernel must see as one.
        if exitNow { exit(channelFailed ? Self.channelFailureStatus : 0) }
    }

    /// A message this domain could not take in (too big, or no descriptor left for what it
    /// carried): the domain's own limit, not the kernel going away.
    private static func lostToOwnLimits(_ error: Error) -> Bool {
        guard let error = error as? SystemError else { return false }
        return [.messageTooLong, .tooManyOpenFiles, .noBufferSpace].contains(error.errno)
    }
    /// The exit status of a service whose control channel failed (EX_TEMPFAIL).
    public static let channelFailureStatus: Int32 = 75
    private var channelFailed = false

    private func handle(_ message: ControlMessage, _ fds: [FileDescriptor]) {
        switch message {
        case .bind(let binding, let client, let clientName, let iface, let geometry, let transport):
            acceptBinding(binding, client: client, clientName: clientName, interface: iface,
                          geometry: geometry, transport: transport, fds: fds)
        case .unbind(let binding):
            let all = monitor.locked { Array(services.values) }
            all.forEach { $0.unbind(binding) }
        case .exported:
            deliver(0, message, fds)
        case .registerAgain:
            if let again = monitor.locked({ onRegisterAgain }) {
                // It makes calls, whose replies arrive on this control thread.
                do { try OSThread.spawn(name: "nk-register", again) } catch { logError("cannot register again: \(error)") }
            }
        case .tune(let policy):
            if let (placement, spin) = Tuning.parse(policy) { Tuning.shared.apply(placement: placement, spin: spin) }
        case .revoked(let bo, let reason):
            bindingRevoked(bo, reason: reason)
        case .stop:
            let stop = monitor.locked { onStop }
            stop()
        case .domainEnded(let id, let name, let returning):
            if let ended = monitor.locked({ onDomainEnded }) { ended(id, name, returning) }
        case .imported(let r, _, _, _, _, _), .failed(let r, _), .adminReply(let r, _):
            deliver(r, message, fds)
        default:
            logError("unexpected control message from the kernel: \(message)")
            fds.forEach { try? $0.close() }
        }
    }

    private func acceptBinding(_ binding: UInt32, client: UInt32, clientName: String, interface: String,
                               geometry: AStackGeometry, transport: Transport, fds: [FileDescriptor]) {
        guard let service = monitor.locked({ services[interface] }) else {
            fds.forEach { try? $0.close() }
            try? channel.send(.bindRefused(binding: binding, reason: "interface \(interface) is not exported here"))
            return
        }
        do {
            switch transport {
            case .lrpc:
                try service.accept(binding: binding, client: client, clientName: clientName,
                                   geometry: geometry, astackFD: fds[0], recordsFD: fds[1])
            case .message:
                try service.acceptMessages(binding: binding, clientName: clientName, socket: fds[0],
                                           payloadCapacity: geometry.payloadCapacity)
            }
            try channel.send(.bindAccepted(binding: binding))
        } catch {
            try? channel.send(.bindRefused(binding: binding, reason: "\(error)"))
        }
    }

    private func deliver(_ request: UInt32, _ message: ControlMessage, _ fds: [FileDescriptor]) {
        let late = monitor.locked { () -> Bool in
            if abandonedRequests.remove(request) != nil { return true }
            replies[request] = (message, fds)
            return false
        }
        guard late else { return monitor.broadcast() }
        // Its caller gave up (deadline): a binding made anyway goes straight back.
        fds.forEach { try? $0.close() }
        if case .imported(_, let bo, _, _, _, _) = message { release(bo) }
    }

    /// Send a request and wait for its reply. Requests carry an id; export replies
    /// use id 0 (one export at a time).
    private func request(timeoutSeconds: Double = 10, describe: String? = nil,
                         _ make: (UInt32) -> ControlMessage) throws -> (ControlMessage, [FileDescriptor]) {
        let id: UInt32 = monitor.locked {
            defer { nextRequest &+= 1 }
            return nextRequest
        }
        let message = make(id)
        let key: UInt32 = if case .export = message { 0 } else { id }
        try channel.send(message)
        let reply = monitor.wait(seconds: timeoutSeconds) { () -> (ControlMessage, [FileDescriptor])?? in
            if let r = replies.removeValue(forKey: key) { return .some(r) }
            return kernelGone ? .some(nil) : nil
        }
        guard let reply else {
            // A late answer must not linger (or hold a binding): deliver drops it.
            monitor.locked {
                if abandonedRequests.count >= Self.abandonedRequestMemory { abandonedRequests.removeFirst() }
                abandonedRequests.insert(id)
            }
            throw CallError.timedOut("the kernel did not answer \(describe ?? "the \(message.kind) request") within \((timeoutSeconds * 10).rounded() / 10) s")
        }
        guard let reply else { throw CallError.kernelGone }
        if case .failed(_, let text) = reply.0 { throw ControlError(text) }
        return reply
    }

    private func unexpected(_ reply: ControlMessage) -> ControlError {
        ControlError("unexpected reply from the kernel: \(reply)")
    }

    // MARK: trap cells (process-local allocation of the shared cells)

    @inline(__always)
    func acquireCell() -> Int {
        while true {
            let free = freeCells.loadAcquire()
            if free == 0 { sched_yield(); continue }
            let bit = free.trailingZeroBitCount
            if freeCells.compareExchange(free, free & ~(1 << UInt32(bit))) { return bit }
        }
    }

    @inline(__always)
    func releaseCell(_ i: Int) { _ = freeCells.fetchOr(1 << UInt32(i)) }
}

/// Domains log to stderr; the kernel collects it into its log.
public func logError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// The runtime does not keep a client binding alive: the application owns it.
private struct WeakClientBinding {
    weak var binding: ClientBinding?
    init(_ binding: ClientBinding) { self.binding = binding }
}
