// Service: the server side of an interface. The author registers a handler per
// procedure; the runtime exports the procedure descriptor list to the kernel and, for
// every binding the kernel makes, maps its A-stacks and call records and starts one
// server thread per slot (the slot's execution stack).
//
//     let clock = Service(interface: "clock")
//     clock.handle(Clock.now) { _, _ in Timestamp(...) }
//     try runtime.export(clock)
import CNanoKernel
import Glibc
import SystemPackage

/// What the kernel says about a call: trusted, unlike the A-stack. The caller's domain
/// and procedure come from the kernel's call record; the caller's name is the one the
/// kernel sent with the binding (`.bind`), so a client cannot claim another's name.
public struct CallContext: Sendable {
    public let callerDomain: UInt32
    public let procedureID: UInt32
    public let binding: UInt32
    /// The calling service's name in the boot image; an operator client is "<tool>-<pid>".
    public let callerName: String

    public init(callerDomain: UInt32, procedureID: UInt32, binding: UInt32, callerName: String) {
        self.callerDomain = callerDomain
        self.procedureID = procedureID
        self.binding = binding
        self.callerName = callerName
    }
}

/// A procedure failure to report to the caller.
public struct ProcedureFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public final class Service: @unchecked Sendable {
    typealias Handler = (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer, CallContext) -> (ReplyStatus, Int)

    public private(set) var interface: InterfaceDescriptor
    var handlers: [UInt32: Handler] = [:]
    private let monitor = Monitor()
    private var bindings: [UInt32: ServerBinding] = [:]

    public init(interface name: String) {
        interface = InterfaceDescriptor(name: name, procedures: [])
    }

    /// Register the body of a procedure. Declare every procedure before exporting.
    /// Bodies run concurrently, one OS thread per A-stack slot per binding, so they must
    /// be @Sendable: shared state goes behind a lock or in an actor-free Monitor, and a
    /// service that wants one call at a time says `simultaneousCalls: 1`.
    public func handle<A, R>(_ procedure: Procedure<A, R>, _ body: @escaping @Sendable (A, CallContext) throws -> R) {
        interface = InterfaceDescriptor(name: interface.name, procedures: interface.procedures + [procedure.descriptor])
        handlers[procedure.id] = { input, output, context in
            // The server stub: copy the arguments out of the A-stack before use, run
            // the procedure, copy the results in.
            let arguments: A
            do {
                var reader = AStackReader(input)
                arguments = try A(from: &reader)
            } catch {
                return (.badArguments, Self.writeText("\(error)", into: output))
            }
            do {
                let result = try body(arguments, context)
                var writer = AStackWriter(output)
                try result.write(to: &writer)
                return (.ok, writer.offset)
            } catch {
                return (.procedureFailed, Self.writeFailure(error, into: output))
            }
        }
    }

    /// A declared error keeps its code; anything else travels as code 0 and its text.
    static func writeFailure(_ error: any Error, into output: UnsafeMutableRawBufferPointer) -> Int {
        if let declared = error as? any ServiceError {
            return FailureCoding.write(code: declared.wireCode, message: declared.message, into: output)
        }
        return FailureCoding.write(code: 0, message: "\(error)", into: output)
    }

    static func writeText(_ text: String, into output: UnsafeMutableRawBufferPointer) -> Int {
        let bytes = Array(FailureCoding.fitting(text, room: output.count).utf8)
        output.copyBytes(from: bytes)
        return bytes.count
    }

    // MARK: bindings (driven by the kernel through DomainRuntime)

    func accept(binding: UInt32, client: UInt32, clientName: String, geometry: AStackGeometry,
                astackFD: FileDescriptor, recordsFD: FileDescriptor) throws {
        // Mapped, the descriptors close: a binding costs the server no descriptor, so no
        // client can exhaust its descriptor table by importing.
        let astacks: SharedRegion
        do {
            astacks = try SharedRegion(mapping: astackFD, size: geometry.regionSize)
        } catch {
            try? recordsFD.close()
            throw error
        }
        let records = try SharedRegion(mapping: recordsFD, size: CallRecords.size(slots: geometry.slotCount))
        let serverBinding = ServerBinding(
            id: binding, clientName: clientName, astacks: AStackRegion(region: astacks, geometry: geometry),
            records: CallRecords(region: records, slotCount: geometry.slotCount))
        for slot in 0..<geometry.slotCount {
            do {
                try OSThread.spawn(name: "nk-slot-\(binding)-\(slot)") { [self] in serve(serverBinding, slot: slot) }
            } catch {
                // The threads already started see the binding revoked and exit.
                serverBinding.records.revoked.store(1)
                for s in 0..<slot { serverBinding.records.record(s).sequence.wake(count: Int32.max) }
                throw ControlError("cannot start a server thread per A-stack (\(geometry.slotCount) needed): \(error)")
            }
        }
        monitor.locked { bindings[binding] = serverBinding }
    }

    func unbind(_ binding: UInt32) {
        guard let b = monitor.locked({ bindings.removeValue(forKey: binding) }) else { return }
        b.records.revoked.store(1)
        for slot in 0..<b.records.slotCount { b.records.record(slot).sequence.wake(count: Int32.max) }
    }

    /// One server thread per A-stack slot: wait for the kernel's upcall, run the call,
    /// return straight to the client: there is no return trap (the kernel reads `done` later).
    private func serve(_ binding: ServerBinding, slot index: Int) {
        let record = binding.records.record(index)
        let slot = binding.astacks.slot(index)
        var tuning = Tuning.Local(role: .server)
        // Every binding starts at sequence 0. Reading the word here instead would miss
        // a call the kernel upcalled before this thread first ran.
        var last: UInt32 = 0
        while true {
            Tuning.shared.refresh(&tuning)
            guard let sequence = awaitUpcall(record, revoked: binding.records.revoked, after: last, tuning.wait) else { return }
            last = sequence
            // While the kernel traces this call, stamp the server's steps (its word, not the kernel's).
            let traced = record.traced.loadRelaxed() != 0
            if traced { record.time(.serverWoke).storeRelaxed(monotonicNanoseconds()) }
            tuning.follow(record.cpu.loadRelaxed())
            let context = CallContext(callerDomain: record.callerDomain.loadRelaxed(),
                                      procedureID: record.procedure.loadRelaxed(), binding: binding.id,
                                      callerName: binding.clientName)
            if traced { record.time(.procedureStarted).storeRelaxed(monotonicNanoseconds()) }
            let (status, length) = dispatch(context, slot)
            slot.status.storeRelaxed(status.rawValue)
            slot.resultLength.storeRelaxed(UInt32(length))
            if traced {
                let ended = monotonicNanoseconds()
                record.time(.procedureEnded).storeRelaxed(ended)
                record.time(.serverReturned).storeRelaxed(ended)
            }
            // Completion for the kernel's linkage first, then the client's return.
            record.done.storeRelease(sequence)
            slot.reply.store(ReplyState.done.rawValue)
            slot.reply.wakeIfWaiting(flag: slot.clientWaiting)
        }
    }

    @inline(__always)
    private func dispatch(_ context: CallContext, _ slot: AStackSlot) -> (ReplyStatus, Int) {
        guard let handler = handlers[context.procedureID] else { return (.notImplemented, 0) }
        let length = min(Int(slot.argumentLength.loadRelaxed()), slot.capacity)
        return handler(UnsafeRawBufferPointer(rebasing: slot.payload[0..<length]), slot.payload, context)
    }

    /// Wait until the kernel posts a new call sequence; nil once the binding is revoked.
    @inline(__always)
    private func awaitUpcall(_ record: CallRecord, revoked: SharedWord, after last: UInt32,
                             _ policy: WaitPolicy) -> UInt32? {
        let arrived = { () -> Bool in record.sequence.loadAcquire() != last || revoked.loadRelaxed() != 0 }
        if !policy.spin(until: arrived) {
            while true {
                record.serverWaiting.store(1)
                if record.sequence.load() != last || revoked.load() != 0 { break }
                record.sequence.wait(expected: last, timeoutNanoseconds: 1_000_000_000)
            }
            record.serverWaiting.storeRelaxed(0)
        }
        if revoked.loadAcquire() != 0 { return nil }
        return record.sequence.loadAcquire()
    }
}

/// A binding as the server sees it: its A-stacks and the kernel's call records.
final class ServerBinding: @unchecked Sendable {
    let id: UInt32
    /// The client's name as the kernel gave it with the binding.
    let clientName: String
    let astacks: AStackRegion
    let records: CallRecords
    init(id: UInt32, clientName: String, astacks: AStackRegion, records: CallRecords) {
        self.id = id
        self.clientName = clientName
        self.astacks = astacks
        self.records = records
    }
}
