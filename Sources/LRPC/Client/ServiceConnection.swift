// ServiceConnection: a client's lasting use of one interface across server restarts.
// Every generated `XClient` stub calls through one (`XBindingClient` is the stub over a
// single binding).
//
// A ClientBinding is one binding object: when its server dies the kernel revokes it and
// says so (`revoked`). A connection imports on first use and, after a revocation, the
// next call imports again (a new binding object, from the restarted server) within that
// call's deadline, then makes the call once. A call that was in flight when the server
// died is not repeated: the server may have run it; the caller gets `serverDied` and
// decides. A service that has failed for good is refused by the kernel at once:
// `unavailable("service 'x' failed: ...")`. Concurrent callers that find the binding
// revoked import once between them.
//
// The call path takes one uncontended lock (to read the live binding and the deadline)
// and one clock read (the start of the deadline a rebinding must keep) on top of the
// binding's own call: see docs/performance.md for what that costs.
import Synchronization

public final class ServiceConnection: Sendable {
    public let interfaceName: String
    public let transport: Transport?
    let runtime: DomainRuntime

    private struct State {
        var binding: ClientBinding?
        /// Imports made: the first binding and every rebinding.
        var binds = 0
        var callTimeoutSeconds: Double?
        var onBind: (@Sendable (BindingObject) -> Void)?
    }

    private let state: Mutex<State>
    /// Serialises imports, so concurrent callers after a revocation rebind once.
    private let rebinding = Mutex(())

    /// `callTimeoutSeconds` nil: each call's deadline is the image's default for the
    /// interface (carried by the binding), or the import wait before the first binding.
    public init(runtime: DomainRuntime, interface: String, transport: Transport? = nil,
                callTimeoutSeconds: Double? = nil) {
        self.runtime = runtime
        interfaceName = interface
        self.transport = transport
        state = Mutex(State(callTimeoutSeconds: callTimeoutSeconds))
    }

    /// How many times the connection bound again after a revocation.
    public var rebinds: Int { state.withLock { max($0.binds - 1, 0) } }

    /// The deadline of a call that sets none of its own; nil: the binding's default.
    public var callTimeoutSeconds: Double? {
        get { state.withLock { $0.callTimeoutSeconds } }
        set { state.withLock { $0.callTimeoutSeconds = newValue } }
    }

    /// Run after each new binding (the first import and every rebinding), with its object.
    public var onBind: (@Sendable (BindingObject) -> Void)? {
        get { state.withLock { $0.onBind } }
        set { state.withLock { $0.onBind = newValue } }
    }

    /// The binding calls use now (importing if there is none); nil deadline: the import default.
    public func binding(timeoutSeconds: Double? = nil) throws(CallError) -> ClientBinding {
        try currentBinding(CallDeadline(seconds: timeoutSeconds ?? DomainRuntime.defaultImportWaitSeconds))
    }

    // MARK: calls

    @inline(__always)
    public func call<A, R>(_ procedure: Procedure<A, R>, _ arguments: A, timeoutSeconds: Double? = nil) throws(CallError) -> R {
        try call(timeoutSeconds: timeoutSeconds) { (binding, seconds) throws(CallError) in
            try binding.call(procedure, arguments, timeoutSeconds: seconds)
        }
    }

    /// Call a procedure that declares its error type: a failure of that type is rethrown
    /// as itself; transport failures stay `CallError`s.
    public func call<A, R, E: ServiceError>(_ procedure: Procedure<A, R>, _ arguments: A, throwing: E.Type,
                                            timeoutSeconds: Double? = nil) throws -> R {
        do throws(CallError) {
            return try call(procedure, arguments, timeoutSeconds: timeoutSeconds)
        } catch {
            throw ClientBinding.declared(error, as: E.self)
        }
    }

    /// Run `body` on the live binding, with the seconds left of the call's deadline (nil:
    /// the binding's own default). A binding found revoked before the call reached its
    /// server (stale object) is replaced and `body` run once more.
    @inline(__always)
    public func call<R>(timeoutSeconds: Double? = nil,
                        _ body: (ClientBinding, Double?) throws(CallError) -> R) throws(CallError) -> R {
        let start = monotonicNanoseconds()
        let (live, seconds) = state.withLock { ($0.binding, timeoutSeconds ?? $0.callTimeoutSeconds) }
        guard let live, !live.isRevoked else {
            return try rebindAndCall(since: start, seconds: seconds, stale: live, body)
        }
        do {
            return try body(live, seconds)
        } catch .refused(.staleBindingObject) {
            return try rebindAndCall(since: start, seconds: seconds, stale: live, body)
        } catch .serverDied(let text) {
            drop(live)
            throw .serverDied(text)
        }
    }

    /// The slow path: no live binding. Import (within what is left of the deadline that
    /// began at `start`) and call once.
    private func rebindAndCall<R>(since start: UInt64, seconds: Double?, stale: ClientBinding?,
                                  _ body: (ClientBinding, Double?) throws(CallError) -> R) throws(CallError) -> R {
        if let stale { drop(stale) }
        let total = seconds ?? stale?.callTimeoutSeconds ?? DomainRuntime.defaultImportWaitSeconds
        let elapsed = Double(monotonicNanoseconds() &- start) / 1e9
        let deadline = CallDeadline(seconds: max(total - elapsed, 0.000_001))
        let binding = try currentBinding(deadline)
        // A first binding with no deadline given: the import had the import wait; the
        // call itself gets the deadline the image set for the interface.
        let left = seconds == nil && stale == nil ? nil : max(deadline.remainingSeconds, 0.000_001)
        do {
            return try body(binding, left)
        } catch .serverDied(let text) {
            drop(binding)
            throw .serverDied(text)
        }
    }

    private func drop(_ binding: ClientBinding) {
        state.withLock { if $0.binding === binding { $0.binding = nil } }
    }

    private func liveBinding() -> ClientBinding? {
        state.withLock { $0.binding.flatMap { $0.isRevoked ? nil : $0 } }
    }

    private func currentBinding(_ deadline: CallDeadline) throws(CallError) -> ClientBinding {
        if let live = liveBinding() { return live }
        return try rebinding.withLock { _ throws(CallError) -> ClientBinding in
            if let live = liveBinding() { return live }
            let fresh: ClientBinding
            do {
                fresh = try runtime.importInterface(interfaceName, transport: transport,
                                                    timeoutSeconds: max(deadline.remainingSeconds, 0.001))
            } catch let error as CallError {
                throw error
            } catch {
                throw .unavailable("\(error)")
            }
            let onBind = state.withLock { s in
                s.binding = fresh
                s.binds += 1
                return s.onBind
            }
            onBind?(fresh.bindingObject)
            return fresh
        }
    }
}

// MARK: async

extension ServiceConnection {
    /// The async form of `call`: the task suspends while a BlockingCallPool thread makes
    /// the synchronous call, rebinding included (an import waits on the kernel's answer,
    /// which must not happen on Swift's cooperative pool either).
    public func callAsync<A: Sendable, R: Sendable>(_ procedure: Procedure<A, R>, _ arguments: A,
                                                    timeoutSeconds: Double? = nil) async throws(CallError) -> R {
        try await BlockingCallPool.shared.call { [self] () throws(CallError) -> R in
            try call(procedure, arguments, timeoutSeconds: timeoutSeconds)
        }
    }

    /// The async form of `call(_:_:throwing:)`.
    public func callAsync<A: Sendable, R: Sendable, E: ServiceError>(_ procedure: Procedure<A, R>, _ arguments: A,
                                                                     throwing: E.Type,
                                                                     timeoutSeconds: Double? = nil) async throws -> R {
        do throws(CallError) {
            return try await callAsync(procedure, arguments, timeoutSeconds: timeoutSeconds)
        } catch {
            throw ClientBinding.declared(error, as: E.self)
        }
    }
}
