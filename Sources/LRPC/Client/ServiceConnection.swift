// ServiceConnection: a client's lasting use of one interface across server restarts.
//
// A ClientBinding is one binding object: when its server dies the kernel revokes it and
// says so (`revoked`). A connection imports on first use and, after a revocation, the
// next call imports again (a new binding object, from the restarted server) within that
// call's deadline. A call that was in flight when the server died is not repeated: the
// server may have run it; the caller gets `serverDied` and decides. A service that has
// failed for good is refused by the kernel at once: `unavailable("service 'x' failed: ...")`.
import Synchronization

public final class ServiceConnection: @unchecked Sendable {
    public let interfaceName: String
    public let transport: Transport?
    let runtime: DomainRuntime
    private let current = Mutex<ClientBinding?>(nil)
    /// Serialises imports, so concurrent callers after a revocation rebind once.
    private let rebinding = Mutex(())
    /// Imports made: the first binding and every rebinding.
    private let bindCount = Mutex(0)
    /// Run after each new binding (the first import and every rebinding), with its object.
    public var onBind: (@Sendable (BindingObject) -> Void)?

    public init(runtime: DomainRuntime, interface: String, transport: Transport? = nil) {
        self.runtime = runtime
        interfaceName = interface
        self.transport = transport
    }

    /// How many times the connection bound again after a revocation.
    public var rebinds: Int { bindCount.withLock { max($0 - 1, 0) } }

    /// The binding calls use now (importing if there is none); nil deadline: the import default.
    public func binding(timeoutSeconds: Double? = nil) throws(CallError) -> ClientBinding {
        try currentBinding(CallDeadline(seconds: timeoutSeconds ?? DomainRuntime.defaultImportWaitSeconds))
    }

    public func call<A, R>(_ procedure: Procedure<A, R>, _ arguments: A, timeoutSeconds: Double? = nil) throws(CallError) -> R {
        try call(timeoutSeconds: timeoutSeconds) { (binding, remaining) throws(CallError) in
            try binding.call(procedure, arguments, timeoutSeconds: remaining)
        }
    }

    /// Run `body` on the live binding. A binding found revoked before the call reached
    /// its server (stale object) is replaced and the call made once more.
    public func call<R>(timeoutSeconds: Double? = nil,
                        _ body: (ClientBinding, Double) throws(CallError) -> R) throws(CallError) -> R {
        let seconds = timeoutSeconds ?? current.withLock { $0?.callTimeoutSeconds } ?? DomainRuntime.defaultImportWaitSeconds
        let deadline = CallDeadline(seconds: seconds)
        var attempt = 0
        while true {
            let binding = try currentBinding(deadline)
            do {
                return try body(binding, max(deadline.remainingSeconds, 0.000_001))
            } catch .refused(.staleBindingObject) where attempt == 0 {
                drop(binding)
                attempt += 1
            } catch .serverDied(let text) {
                drop(binding)
                throw .serverDied(text)
            }
        }
    }

    private func drop(_ binding: ClientBinding) {
        current.withLock { if $0 === binding { $0 = nil } }
    }

    private func currentBinding(_ deadline: CallDeadline) throws(CallError) -> ClientBinding {
        if let live = current.withLock({ $0.flatMap { $0.isRevoked ? nil : $0 } }) { return live }
        return try rebinding.withLock { _ throws(CallError) -> ClientBinding in
            if let live = current.withLock({ $0.flatMap { $0.isRevoked ? nil : $0 } }) { return live }
            let fresh: ClientBinding
            do {
                fresh = try runtime.importInterface(interfaceName, transport: transport,
                                                    timeoutSeconds: max(deadline.remainingSeconds, 0.001))
            } catch let error as CallError {
                throw error
            } catch {
                throw .unavailable("\(error)")
            }
            current.withLock { $0 = fresh }
            bindCount.withLock { $0 += 1 }
            onBind?(fresh.bindingObject)
            return fresh
        }
    }
}
