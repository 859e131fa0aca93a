// ClientBinding: the client stub of one binding. A call follows the LRPC client steps:
//   1. dequeue a free A-stack slot
//   2. copy the arguments, by value, onto it
//   3. write (binding object, procedure id, slot) into a trap cell
//   4. trap: ring the kernel's doorbell, then wait for the server's return
// The results are copied out of the A-stack before the slot is released. A binding made
// with the message transport goes through its MessageStub instead.
import CNanoKernel
import Glibc

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
    /// Give up on a call after this long (nil: wait while the kernel lives). A call that
    /// times out leaves its A-stack slot to the server; tests use this so a hung peer
    /// fails instead of hanging.
    public var callTimeoutSeconds: Double?

    init(runtime: DomainRuntime, bindingObject: BindingObject, astacks: AStackRegion?, messages: MessageStub?,
         interface: InterfaceDescriptor) {
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
        runtime.release(bindingObject.index)
        freeSlots.deallocate()
        neverWord.deallocate()
    }

    /// Call a typed procedure.
    @inline(__always)
    public func call<A, R>(_ procedure: Procedure<A, R>, _ arguments: A) throws(CallError) -> R {
        try call(procedureID: procedure.id, name: procedure.name,
                 write: { (w: inout AStackWriter) throws(CallError) in try arguments.write(to: &w) },
                 read: { (r: inout AStackReader) throws(CallError) in try R(from: &r) })
    }

    /// Call by procedure id with explicit copy-in and copy-out; the typed call and
    /// nkctl's generic call both end here.
    public func call<R>(procedureID: UInt32, name: String,
                        write: (inout AStackWriter) throws(CallError) -> Void,
                        read: (inout AStackReader) throws(CallError) -> R) throws(CallError) -> R {
        guard let astacks else { return try callByMessage(procedureID: procedureID, name: name, write: write, read: read) }
        let slotIndex = acquireSlot()
        defer { releaseSlot(slotIndex) }
        let slot = astacks.slot(slotIndex)
        try copyArguments(into: slot, procedureID: procedureID, name: name, write: write)
        try trap(procedureID: procedureID, slot: slotIndex, bindingObject: bindingObject)
        return try copyResults(from: slot, name: name, read: read)
    }

    private func callByMessage<R>(procedureID: UInt32, name: String,
                                  write: (inout AStackWriter) throws(CallError) -> Void,
                                  read: (inout AStackReader) throws(CallError) -> R) throws(CallError) -> R {
        let limit = interface.procedure(id: procedureID)?.astackSize ?? interface.astackGeometry.payloadCapacity
        do {
            return try messages!.call(bindingObject, procedureID: procedureID, limit: limit,
                                      timeoutSeconds: callTimeoutSeconds, write: write, read: read)
        } catch .fieldTooLarge(let field, let size, let cap) {
            throw .argumentsTooLarge(procedure: "\(interface.name).\(name) (\(field))", size: size, limit: cap)
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
            if case .fieldTooLarge(let field, let size, let cap) = error {
                throw .argumentsTooLarge(procedure: "\(interface.name).\(name) (\(field))", size: size, limit: cap)
            }
            throw error
        }
        slot.argumentLength.storeRelaxed(UInt32(writer.offset))
        slot.status.storeRelaxed(0)
        slot.reply.store(ReplyState.pending.rawValue)
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
            throw .procedureFailed(String(decoding: bytes, as: UTF8.self))
        case .badArguments:
            throw .malformed("server rejected the arguments of \(interface.name).\(name): \(String(decoding: bytes, as: UTF8.self))")
        case .notImplemented, nil:
            throw .notImplemented("\(interface.name).\(name)")
        }
    }

    /// Steps 3 and 4: post the trap, ring the kernel, wait for the return or a refusal.
    /// Public so tests can trap with a forged binding object or a bad slot.
    /// On a message binding the same call sends a message with no arguments.
    public func trap(procedureID: UInt32, slot: Int, bindingObject bo: BindingObject) throws(CallError) {
        if let messages {
            return try messages.call(bo, procedureID: procedureID, limit: 0, timeoutSeconds: callTimeoutSeconds,
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
        cell.state.storeRelease(TrapCell.word(sequence: sequence, .posted))
        _ = page.pending.fetchOr(1 << UInt32(cellIndex))
        page.pending.wakeIfWaiting(flag: page.kernelWaiting)
        defer { cell.state.storeRelease(TrapCell.word(sequence: sequence, .free)) }
        let slotIndex = slot >= 0 && slot < (astacks?.geometry.slotCount ?? 0) ? slot : nil
        try awaitReturn(slot: slotIndex.map { astacks!.slot($0) }, cell: cell)
    }

    private func awaitReturn(slot: AStackSlot?, cell: TrapCell) throws(CallError) {
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
                let deadline = callTimeoutSeconds.map { monotonicNanoseconds() + UInt64($0 * 1e9) }
                while true {
                    waiting.store(1)
                    let r = reply.load(), c = cell.state.load()
                    if finished(c, r) { break }
                    let woke = SharedWord.waitEither(reply, r, cell.state, c, timeoutNanoseconds: 200_000_000)
                    if woke < 0 && errno == ETIMEDOUT && !runtime.isKernelAlive { waiting.storeRelaxed(0); throw .kernelGone }
                    if let deadline, monotonicNanoseconds() > deadline {
                        waiting.storeRelaxed(0)
                        throw .timedOut("\(interface.name): no return within \(callTimeoutSeconds!) s")
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

    @inline(__always)
    private func cellEnded(_ word: UInt32) -> Bool {
        let s = word & 0xff
        return s == CellState.refused.rawValue || s == CellState.failed.rawValue
    }

    // MARK: A-stack slots (process-local queue)

    @inline(__always)
    func acquireSlot() -> Int {
        while true {
            let free = freeSlots.loadAcquire()
            if free == 0 { sched_yield(); continue }
            let bit = free.trailingZeroBitCount
            if freeSlots.compareExchange(free, free & ~(1 << UInt32(bit))) { return bit }
        }
    }

    @inline(__always)
    func releaseSlot(_ i: Int) { _ = freeSlots.fetchOr(1 << UInt32(i)) }
}
