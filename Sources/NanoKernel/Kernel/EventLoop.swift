// The kernel's control thread: one poll() over the control socket, every domain's
// control channel, pidfd and seccomp notification fd. Bindings, exports, deaths and
// operator requests are all handled here, one at a time, so the kernel's tables need
// no locks except the per-domain import table the trap handlers share.
import CNanoKernel
import Glibc
import LRPC

/// Written by SIGINT/SIGTERM handlers; the loop turns it into a shutdown.
nonisolated(unsafe) private var signalPipe: (read: Int32, write: Int32) = (-1, -1)

extension Kernel {
    private enum Source {
        case listener, signal
        case connection(Int32)
        case control(UInt32), writable(UInt32), death(UInt32), violation(UInt32), output(UInt32)
    }

    /// Run until shutdown completes. Returns when every domain is gone.
    public func run() {
        installSignalHandlers()
        while true {
            var sources: [Source] = [.listener]
            var fds = [pollfd(fd: socket.fd.rawValue, events: Int16(POLLIN), revents: 0)]
            func add(_ fd: Int32, _ source: Source, events: Int32 = POLLIN) {
                fds.append(pollfd(fd: fd, events: Int16(events), revents: 0))
                sources.append(source)
            }
            if signalPipe.read >= 0 { add(signalPipe.read, .signal) }
            for fd in connections.keys { add(fd, .connection(fd)) }
            for domain in domains.all {
                if domain.channelOpen, let channel = domain.channel {
                    add(channel.fd.rawValue, .control(domain.id))
                    if domain.hasQueuedMessages { add(channel.fd.rawValue, .writable(domain.id), events: POLLOUT) }
                }
                if let pidfd = domain.pidfd { add(pidfd.rawValue, .death(domain.id)) }
                if let notify = domain.notifyFD { add(notify.rawValue, .violation(domain.id)) }
                if let output = domain.output { add(output.readEnd.rawValue, .output(domain.id)) }
            }
            let ready = poll(&fds, nfds_t(fds.count), nextTimerMilliseconds())
            if ready > 0 {
                for (entry, source) in zip(fds, sources) where entry.revents != 0 {
                    dispatch(source, revents: entry.revents)
                }
            }
            bindings.expireWaitingImports(why: { [domains, image] in domains.unavailability(of: $0, image: image) })
            bindings.expireOffers()
            cutOffStalledDomains()
            dropSilentConnections()
            if !shutdownRequested {
                domains.runTimers()
                checkHangs()
            }
            checkBootProgress()
            if shutdownRequested && finishShutdown() { return }
        }
    }

    private func dispatch(_ source: Source, revents: Int16) {
        switch source {
        case .listener:
            acceptConnection()
        case .signal:
            var byte: UInt8 = 0
            _ = read(signalPipe.read, &byte, 1)
            log.info("kernel: signal received")
            requestShutdown()
        case .connection(let fd):
            guard let connection = connections.removeValue(forKey: fd) else { return }
            acceptOperator(connection.channel)
        case .control(let id):
            guard let domain = domains[id] else { return }
            receiveControl(from: domain)
        case .writable(let id):
            guard let domain = domains[id], revents & Int16(POLLOUT) != 0 else { return }
            domain.flushOutbox(log: log)
        case .death(let id):
            guard let domain = domains[id] else { return }
            serviceDied(domain)
        case .violation(let id):
            guard let domain = domains[id] else { return }
            domains.receiveViolation(from: domain)
        case .output(let id):
            guard let domain = domains[id], let output = domain.output else { return }
            if !output.drain(into: log, domain: domain.name) { domain.output = nil }
        }
    }

    /// Poll at most 100 ms, less when a back-off, a stop's grace period or a waiting
    /// import ends sooner.
    private func nextTimerMilliseconds() -> Int32 {
        let now = monotonicNanoseconds()
        guard let next = [domains.nextTimer, bindings.nextImportDeadline].compactMap({ $0 }).min() else { return 100 }
        return next <= now ? 0 : Int32(min((next - now + 999_999) / 1_000_000, 100))
    }

    /// After shutdown: wait for every service to exit, then kill what is left.
    private func finishShutdown() -> Bool {
        let running = domains.all.filter { $0.pidfd != nil }
        if running.isEmpty { return true }
        if let deadline = shutdownDeadline, monotonicNanoseconds() > deadline {
            for domain in running {
                log.warning("kernel: \(domain.name) did not exit; killing it")
                _ = nk_pidfd_send_signal(domain.pidfd!.rawValue, SIGKILL)
            }
            shutdownDeadline = monotonicNanoseconds() + 2_000_000_000
        }
        return false
    }

    private func installSignalHandlers() {
        guard signalPipe.read < 0 else { return }
        var p: [Int32] = [0, 0]
        guard pipe(&p) == 0 else { return }
        p.forEach { _ = nk_set_cloexec($0); _ = nk_set_nonblocking($0, 1) }
        signalPipe = (p[0], p[1])
        let handler: @convention(c) (Int32) -> Void = { _ in
            var byte: UInt8 = 1
            _ = write(signalPipe.write, &byte, 1)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        signal(SIGPIPE, SIG_IGN)
    }
}
