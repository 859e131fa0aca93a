// Operator connections before they are domains, and domains the kernel must cut off.
// A connection must say hello within a deadline; at most `operator_connections` exist at
// once (waiting or admitted); beyond that new ones are closed at once, so a flood of
// silent connections can neither hold descriptors nor spin the accept loop.
import Glibc
import LRPC

/// A connection accepted on the control socket, waiting for its hello.
struct NewConnection {
    let channel: ControlChannel
    let deadline: UInt64
}

extension Kernel {
    static let helloDeadline: UInt64 = 2_000_000_000

    func acceptConnection() {
        guard let channel = socket.accept(log: log) else { return }
        let operators = domains.all.filter { $0.kind == .operator }.count
        guard connections.count + operators < image.quotas.operatorConnections else {
            let (allowed, dropped) = connectionLog.admit()
            if allowed {
                log.warning("kernel: refused a control connection: quota operator_connections (\(image.quotas.operatorConnections)) reached"
                            + (dropped > 0 ? " (\(dropped) more refused)" : ""))
            }
            return  // the channel closes as it goes
        }
        connections[channel.fd.rawValue] = NewConnection(channel: channel, deadline: monotonicNanoseconds() + Self.helloDeadline)
    }

    /// Connections that did not say hello in time are closed.
    func dropSilentConnections(now: UInt64 = monotonicNanoseconds()) {
        let silent = connections.filter { $0.value.deadline < now }
        for fd in silent.keys { connections[fd] = nil }
        if !silent.isEmpty {
            let (allowed, _) = connectionLog.admit()
            if allowed { log.warning("kernel: closed \(silent.count) control connection(s) that did not say hello within 2 s") }
        }
    }

    /// Domains that overflowed their outbox or left it undrained past its deadline.
    func cutOffStalledDomains(now: UInt64 = monotonicNanoseconds()) {
        for domain in Array(domains.all) where domain.channelOpen {
            if let reason = domain.cutOffDue(now: now) { disconnect(domain, because: reason) }
        }
    }
}
