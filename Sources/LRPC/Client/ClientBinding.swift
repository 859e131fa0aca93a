// ClientBinding: the client stub of one binding. A call follows the LRPC client steps:
//   1. dequeue a free A-stack slot
//   2. copy the arguments, by value, onto it
//   3. write (binding object, procedure id, slot) into a trap cell
//   4. trap: ring the kernel's doorbell, then wait for the server's return
// The results are copied out of the A-stack before the slot is released. A binding made
// with the message transport goes through its MessageStub instead.
import CNanoKernel
import Glibc
import Synchronization

public final class ClientBinding: @unchecked Sendable {
    public let bindingObject: BindingObject
    public let interface: InterfaceDescriptor
    /// The binding's A-stacks; nil for a message binding.
    public let astacks: AStackRegion?
    public let transport: Transport
    let messages: MessageStub?
    let runtime: DomainRuntime
    /// Process-local: bit i set = A-stack slot i is free.
    private let freeSlots: SharedWord
    /// A private word that never changes: what a trap on a slot outside the binding waits
    /// on besides its cell (only a refusal can end such a trap).
    private let neverWord = SharedWord.allocate()
    /// Process-local: bit i set = slot i's call timed out and the server still holds it.
    /// The slot goes back to the free queue only once the server returns, so the next
    /// call never traps on a slot the kernel still counts as in use.
    private let abandonedSlots = SharedWord.allocate()
    /// Why the kernel revoked this binding (its server died or was stopped); nil while live.
    private let revocation = Mutex<String?>(nil)
    /// 1 once revoked: what every call checks, without taking the lock.
    private let revokedFlag = SharedWord.allocate()
    /// The deadline of a call that sets none of its own: the image's default for the
    /// interface, carried with the binding. A call past it returns `timedOut`.
    public var callTimeoutSeconds: Double

    init(runtime: DomainRuntime, bindingObject: BindingObject, astacks: AStackRegion?, messages: MessageStub?,
         interface: InterfaceDescriptor, callTimeoutSeconds: Double) {
        self.callTimeoutSeconds = callTimeoutSeconds
        self.runtime = runtime
        self.bindingObject = bindingObject
        self.astacks = astacks
        self.messages = messages
        transport = messages == nil ? .lrpc : .message
        self.interface = interface
        let n = astacks?.geometry.slotCount ?? 0
        freeSlots = .allocate(initial: n >= 32 ? UInt32.max : (1 << UInt32(n)) - 1)
    }

    deinit {
        if !isRevoked { runtime.release(bindingObject) }
        runtime.forget(self)
        freeSlots.deallocate()
        neverWord.deallocate()
        abandonedSlots.deallocate()
        revokedFlag.deallocate()
    }

    // MARK: revocation (the kernel's death notice)

    /// The kernel revoked the binding; nil while it is live.
    public var revokedReason: String? { revocation.withLock { $0 } }
    @inline(__always) var isRevoked: Bool { revokedFlag.loadAcquire() != 0 }

    /// Called by the runtime's control thread when the kernel says the binding is gone.
    /// Calls from now on fail at once (stale binding object) without trapping.
    func markRevoked(_ reason: String) {
        revocation.withLock { $0 = $0 ?? reason }
        revokedFlag.store(1)
        wakeCallersOnReplyWords()
    }

    /// A caller asleep on its slot's reply word alone (see `sleep`) does not see the
    /// kernel end its trap: the kernel writes and wakes only the trap cell. On a trap of
    /// this binding's own object, procedure and slot, the kernel ends it itself (a stale
    /// refusal, or a failure when the server died) only after revoking the binding, and
    /// the revocation notice lands here: each reply word still `pending` becomes
    /// `revoked` and is woken, so its caller looks at its cell again and from then on
    /// sleeps on both words. The flag is stored first (sequentially consistent, as is
    /// the caller's `pending` store and its read of the flag before it sleeps on one
    /// word): either the caller sees the flag, or this exchange sees its `pending`.
    private func wakeCallersOnReplyWords() {
        guard let astacks else { return }
        for i in 0..<astacks.geometry.slotCount {
            let reply = astacks.slot(i).reply
            if reply.compareExchange(ReplyState.pending.rawValue, ReplyState.revoked.rawValue) {
                reply.wake(count: Int32.max)
            }
        }
    }

    /// Call a typed procedure. `timeoutSeconds` overrides the binding's deadline for this call.
    @inline(__always)
    public func call<A, R>(_ procedure: Procedure<A, R>, _ arguments: A, timeoutSeconds: Double? = nil) throws(CallError) -> R {
        try call(procedureID: procedure.id, name: procedure.name, timeoutSeconds: timeoutSeconds,
                 write: { (w: inout AStackWriter) throws(CallError) in try arguments.write(to: &w) },
                 read: { (r: inout AStackReader) throws(CallError) in try R(from: &r) })
    }

    /// Call a procedure that declares its error type: a failure of that type is rethrown
    /// as itself (`catch KVError.emptyKey`); transport failures stay `CallError`s.
    public func call<A, R, E: ServiceError>(_ procedure: Procedure<A, R>, _ arguments: A, throwing: E.Type) throws -> R {
        do throws(CallError) {
            return try call(procedure, arguments)
        } catch {
            throw Self.declared(error, as: E.self)
        }
    }

    /// `error` as the declared type when it carries one of its codes.
    static func declared<E: ServiceError>(_ error: CallError, as: E.Type) -> any Error {
        guard case .serviceError(let code, let message) = error, let typed = E(code: code, message: message) else {
            return error
        }
        return typed
    }

    /// Call by procedure id with explicit copy-in and copy-out; the typed call and
    /// nkctl's generic call both end here.
    public func call<R>(procedureID: UInt32, name: String, timeoutSeconds: Double? = nil,
                        write: (inout AStackWriter) throws(CallError) -> Void,
                        read: (inout AStackReader) throws(CallError) -> R) throws(CallError) -> R {
        if isRevoked { throw .refused(.staleBindingObject) }
        let deadline = CallDeadline(seconds: timeoutSeconds ?? callTimeoutSeconds)
        guard let astacks else {
            return try callByMessage(procedureID: procedureID, name: name, deadline: deadline, write: write, read: read)
        }
        var stamps = CallStamps.begin(runtime.trapPage)
        let slotIndex = try acquireSlot(deadline)
        var serverHoldsSlot = false
        defer { serverHoldsSlot ? abandonSlot(slotIndex) : releaseSlot(slotIndex) }
        let slot = astacks.slot(slotIndex)
        try copyArguments(into: slot, procedureID: procedureID, name: name, write: write)
        if stamps != nil { stamps!.argumentsCopied = monotonicNanoseconds() }
        do {
            try trap(procedureID: procedureID, slot: slotIndex, bindingObject: bindingObject, deadline: deadline,
                     stamps: &stamps, slotFromQueue: true)
        } catch {
            stamps?.report(binding: bindingObject.index, into: runtime.trapPage)
            if case .timedOut = error { serverHoldsSlot = true }
            throw error
        }
        guard stamps != nil else { return try copyResults(from: slot, name: name, read: read) }
        defer {
            stamps!.resultsCopied = monotonicNanoseconds()
            stamps!.report(binding: bindingObject.index, into: runtime.trapPage)
        }
        return try copyResults(from: slot, name: name, read: read)
    }

    private func callByMessage<R>(procedureID: UInt32, name: String, deadline: CallDeadline,
                                  write: (inout AStackWriter) throws(CallError) -> Void,
                                  read: (inout AStackReader) throws(CallError) -> R) throws(CallError) -> R {
        let limit = interface.procedure(id: procedureID)?.astackSize ?? interface.astackGeometry.payloadCapacity
        var stamps = CallStamps.begin(runtime.trapPage)
        if stamps != nil { stamps!.key = runtime.nextMessageKey() }
        defer { stamps?.report(binding: bindingObject.index, into: runtime.trapPage) }
        do {
            return try messages!.call(bindingObject, procedureID: procedureID, limit: limit,
                                      deadline: deadline, stamps: &stamps, write: write, read: read)
        } catch {
            throw named(error, procedure: name)
        }
    }

    // MARK: the steps

    private func copyArguments(into slot: AStackSlot, procedureID: UInt32, name: String,
                               write: (inout AStackWriter) throws(CallError) -> Void) throws(CallError) {
        let limit = min(slot.capacity, interface.procedure(id: procedureID)?.astackSize ?? slot.capacity)
        var writer = AStackWriter(UnsafeMutableRawBufferPointer(rebasing: slot.payload[0..<limit]))
        do {
            try write(&writer)
        } catch {
            throw named(error, procedure: name)
        }
        slot.argumentLength.storeRelaxed(UInt32(writer.offset))
        slot.status.storeRelaxed(0)
        slot.reply.store(ReplyState.pending.rawValue)
    }

    /// A size error from the copy-in, naming the procedure (and the field, whose
    /// capacity is the limit) or the procedure's A-stack (whose size is the limit).
    private func named(_ error: CallError, procedure name: String) -> CallError {
        switch error {
        case .fieldTooLarge(let field, let size, let capacity):
            return .fieldTooLarge(field: "\(interface.name).\(name): \(field)", size: size, limit: capacity)
        case .listTooLong(let field, let count, let capacity):
            return .listTooLong(field: "\(interface.name).\(name): \(field)", count: count, capacity: capacity)
        case .argumentsTooLarge(_, let size, let limit):
            return .argumentsTooLarge(procedure: "\(interface.name).\(name)", size: size, limit: limit)
        default:
            return error
        }
    }

    private func copyResults<R>(from slot: AStackSlot, name: String,
                                read: (inout AStackReader) throws(CallError) -> R) throws(CallError) -> R {
        let length = min(Int(slot.resultLength.loadAcquire()), slot.capacity)
        let status = ReplyStatus(rawValue: slot.status.loadRelaxed())
        let bytes = UnsafeRawBufferPointer(rebasing: slot.payload[0..<length])
        slot.reply.storeRelaxed(ReplyState.idle.rawValue)
        switch status {
        case .ok:
            var reader = AStackReader(bytes)
            return try read(&reader)
        case .procedureFailed:
            throw CallError.failure(bytes)
        case .badArguments:
            throw .malformed("server rejected the arguments of \(interface.name).\(name): \(String(decoding: bytes, as: UTF8.self))")
        case .notImplemented, nil:
            throw .notImplemented("\(interface.name).\(name)")
        }
    }

    /// Steps 3 and 4: post the trap, ring the kernel, wait for the return or a refusal.
    /// Public so tests can trap with a forged binding object or a bad slot.
    /// On a message binding the same call sends a message with no arguments.
    public func trap(procedureID: UInt32, slot: Int, bindingObject bo: BindingObject,
                     deadline: CallDeadline? = nil) throws(CallError) {
        var stamps = CallStamps.begin(runtime.trapPage)
        if stamps != nil {
            stamps!.argumentsCopied = stamps!.started
            if messages != nil { stamps!.key = runtime.nextMessageKey() }
        }
        defer {
            if stamps != nil { stamps!.resultsCopied = stamps!.woke }
            stamps?.report(binding: bo.index, into: runtime.trapPage)
        }
        try trap(procedureID: procedureID, slot: slot, bindingObject: bo, deadline: deadline, stamps: &stamps)
    }

    /// The trap, with the client's own times taken while a trace is on. `slotFromQueue`:
    /// the stub took the slot from its own free queue (so the kernel counts it free).
    func trap(procedureID: UInt32, slot: Int, bindingObject bo: BindingObject, deadline: CallDeadline?,
              stamps: inout CallStamps?, slotFromQueue: Bool = false) throws(CallError) {
        let deadline = deadline ?? CallDeadline(seconds: callTimeoutSeconds)
        if let messages {
            return try messages.call(bo, procedureID: procedureID, limit: 0, deadline: deadline, stamps: &stamps,
                                     write: { (_: inout AStackWriter) throws(CallError) in },
                                     read: { (_: inout AStackReader) throws(CallError) in })
        }
        let page = runtime.trapPage
        let cellIndex = runtime.acquireCell()
        defer { runtime.releaseCell(cellIndex) }
        let cell = page.cell(cellIndex)
        let sequence = (TrapCell.sequence(of: cell.state.loadRelaxed()) &+ 1) & 0xff_ffff
        cell.procedure.storeRelaxed(procedureID)
        cell.bindingIndex.storeRelaxed(bo.index)
        cell.bindingGeneration.storeRelaxed(bo.generation)
        cell.bindingSecret.storeRelaxed(bo.secret)
        cell.slot.storeRelaxed(UInt32(truncatingIfNeeded: slot))
        if Tuning.shared.followsClient { cell.cpu.storeRelaxed(UInt32(bitPattern: nk_current_cpu())) }
        if stamps != nil {
            stamps!.key = TrapCell.traceKey(cell: cellIndex, sequence: sequence)
            stamps!.posted = monotonicNanoseconds()
        }
        cell.state.storeRelease(TrapCell.word(sequence: sequence, .posted))
        _ = page.pending.fetchOr(1 << UInt32(cellIndex))
        page.pending.wakeIfWaiting(flag: page.kernelWaiting)
        defer { cell.state.storeRelease(TrapCell.word(sequence: sequence, .free)) }
        let slotIndex = slot >= 0 && slot < (astacks?.geometry.slotCount ?? 0) ? slot : nil
        defer { if stamps != nil { stamps!.woke = monotonicNanoseconds() } }
        // Only a trap the kernel can end by itself just after revoking the binding may
        // sleep on the reply word alone: the binding's own object, a procedure of its
        // interface (the kernel's copy of it), a slot from the free queue (one the server
        // reported done: it writes the kernel's done word before the reply word). Any
        // other trap may be refused at once.
        let ownTrap = slotFromQueue && bo == bindingObject && interface.procedure(id: procedureID) != nil
        do {
            try awaitReturn(slot: slotIndex.map { astacks!.slot($0) }, cell: cell, ownTrap: ownTrap, deadline: deadline)
        } catch .timedOut(let text) {
            // Still posted: the kernel never took the trap, so the slot never left us.
            if cell.state.compareExchange(TrapCell.word(sequence: sequence, .posted), TrapCell.word(sequence: sequence, .free)) {
                if let slotIndex { astacks!.slot(slotIndex).reply.storeRelaxed(ReplyState.idle.rawValue) }
                throw .timedOut(text + " (the kernel had not taken the trap)")
            }
            throw .timedOut(text)
        }
    }

    private func awaitReturn(slot: AStackSlot?, cell: TrapCell, ownTrap: Bool, deadline: CallDeadline) throws(CallError) {
        // A trap on a slot outside the binding can only end in a refusal: wait on the
        // cell alone by watching a private word that never changes.
        do {
            let reply = slot?.reply ?? neverWord
            let waiting = slot?.clientWaiting ?? neverWord
            // Done when the kernel ended the trap, or accepted it and the server returned.
            func finished(_ c: UInt32, _ r: UInt32) -> Bool {
                cellEnded(c) || (c & 0xff == CellState.accepted.rawValue && r == ReplyState.done.rawValue)
            }
            if !Tuning.shared.spin.spin(until: { finished(cell.state.loadAcquire(), reply.loadAcquire()) }) {
                // The clock as last read: the call's start until a wait times out. Each
                // sleep ends by the deadline and at most 200 ms after `now` (to notice a
                // dead kernel), both absolute, so a call that sleeps once reads no clock here.
                var now = deadline.start
                while true {
                    waiting.store(1)
                    let r = reply.load(), c = cell.state.load()
                    if finished(c, r) { break }
                    if now >= deadline.instant {
                        waiting.storeRelaxed(0)
                        throw .timedOut("\(interface.name): no return within \(deadline.describe())")
                    }
                    let wakeAt = min(deadline.instant, now &+ kernelCheckNanoseconds)
                    if sleep(reply: reply, r, cell: cell, c, oneWord: ownTrap, until: wakeAt) < 0 && errno == ETIMEDOUT {
                        if !runtime.isKernelAlive { waiting.storeRelaxed(0); throw .kernelGone }
                        now = monotonicNanoseconds()
                    }
                }
                waiting.storeRelaxed(0)
            }
            let c = cell.state.loadAcquire()
            switch TrapCell.state(of: c) {
            case .refused:
                if let slot { slot.reply.storeRelaxed(ReplyState.idle.rawValue) }
                throw .refused(Refusal(rawValue: cell.refusal.loadRelaxed()) ?? .malformedTrap)
            case .failed:
                if let slot { slot.reply.storeRelaxed(ReplyState.idle.rawValue) }
                throw .serverDied("\(interface.name) went away before returning")
            default:
                break
            }
        }
    }

    /// Sleep until the reply word moves off `r` or, unless `oneWord`, the cell off `c`.
    /// The common case, an own trap on a live binding awaiting the server's return, sleeps
    /// on the reply word alone with a plain futex wait: the server's return wakes it, and
    /// so does the revocation notice that comes with every refusal or failure the kernel
    /// can give such a trap (`markRevoked`). Every other trap (a forged or foreign binding
    /// object, an unknown procedure, a slot outside the binding or not from the queue,
    /// a binding already revoked) may be refused without notice, so it sleeps on both
    /// words (futex_waitv).
    /// Should the kernel end a one-word trap without a notice all the same, the caller
    /// finds it at its next kernel check, within `kernelCheckNanoseconds`.
    @inline(__always)
    private func sleep(reply: SharedWord, _ r: UInt32, cell: TrapCell, _ c: UInt32, oneWord: Bool,
                       until wakeAt: UInt64) -> Int32 {
        if oneWord && r == ReplyState.pending.rawValue && revokedFlag.load() == 0 {
            return reply.wait(expected: r, untilNanoseconds: wakeAt)
        }
        return SharedWord.waitEither(reply, r, cell.state, c, untilNanoseconds: wakeAt)
    }

    /// How often a waiting caller checks that the kernel is still alive (tests lengthen
    /// it, so a call that ends sooner shows it was woken, not found at a check).
    var kernelCheckNanoseconds: UInt64 = 200_000_000

    @inline(__always)
    private func cellEnded(_ word: UInt32) -> Bool {
        let s = word & 0xff
        return s == CellState.refused.rawValue || s == CellState.failed.rawValue
    }

    // MARK: A-stack slots (process-local queue)

    /// Wait for a free slot until the call's deadline. Slots whose timed-out call the
    /// server has since returned are reclaimed first.
    @inline(__always)
    func acquireSlot(_ deadline: CallDeadline) throws(CallError) -> Int {
        if abandonedSlots.loadRelaxed() != 0 { _ = reclaimAbandonedSlots() }
        while true {
            let free = freeSlots.loadAcquire()
            if free == 0 {
                if reclaimAbandonedSlots() { continue }
                if deadline.remainingNanoseconds == 0 {
                    throw .timedOut("\(interface.name): every A-stack stayed busy for \(deadline.describe())")
                }
                sched_yield()
                continue
            }
            let bit = free.trailingZeroBitCount
            if freeSlots.compareExchange(free, free & ~(1 << UInt32(bit))) { return bit }
        }
    }

    @inline(__always)
    func releaseSlot(_ i: Int) { _ = freeSlots.fetchOr(1 << UInt32(i)) }

    private func abandonSlot(_ i: Int) { _ = abandonedSlots.fetchOr(1 << UInt32(i)) }

    /// A slot whose server finally returned (reply `done`) is ours again.
    private func reclaimAbandonedSlots() -> Bool {
        guard let astacks else { return false }
        var bits = abandonedSlots.loadAcquire()
        var reclaimed = false
        while bits != 0 {
            let i = bits.trailingZeroBitCount
            bits &= bits - 1
            let slot = astacks.slot(i)
            guard slot.reply.loadAcquire() == ReplyState.done.rawValue else { continue }
            slot.reply.storeRelaxed(ReplyState.idle.rawValue)
            _ = abandonedSlots.fetchAnd(~(1 << UInt32(i)))
            releaseSlot(i)
            reclaimed = true
        }
        return reclaimed
    }

    /// Slots held by the server for calls that timed out (tests and status use it).
    public var slotsHeldAfterTimeout: Int { abandonedSlots.loadAcquire().nonzeroBitCount }
}
