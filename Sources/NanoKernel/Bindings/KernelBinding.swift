// KernelBinding: the kernel's record of one binding. The client holds only its binding
// object; everything the kernel checks on a call trap lives here, in kernel memory
// (except the call records, which the server shares to report completion).
import CNanoKernel
import LRPC

/// Per A-stack slot: the linkage of the call in flight, if any.
struct Linkage {
    /// Call sequence the kernel last issued on this slot; the slot is in use until the
    /// server's `done` word catches up (that word only ever refuses the client's own
    /// next trap on the slot; it never decides anything about another domain).
    var issued: UInt32 = 0
    /// Trap cell and cell sequence of the caller, to fail the call if the server dies:
    /// the kernel's own record, whatever the server wrote.
    var cell: Int32 = -1
    var cellSequence: UInt32 = 0
}

final class KernelBinding: @unchecked Sendable {
    let bindingObject: BindingObject
    let client: KernelDomain
    let server: KernelDomain
    let interface: InterfaceDescriptor
    let geometry: AStackGeometry
    /// The call records shared with the server (LRPC bindings only).
    let records: CallRecords?
    let transport: Transport
    /// The kernel's relay thread (message bindings only).
    var relay: MessageRelay?
    /// Procedure ids < 64 as a bitmask: the common case is one AND per trap.
    private let procedureMask: UInt64
    private let otherProcedures: Set<UInt32>
    /// Owned by the client's trap handler thread (under the client's binding lock).
    let linkages: UnsafeMutablePointer<Linkage>
    /// Calls the kernel upcalled on this binding (written by one trap thread only).
    let callsAccepted = SharedWord64.allocate()

    init(bindingObject: BindingObject, client: KernelDomain, server: KernelDomain, interface: InterfaceDescriptor,
         geometry: AStackGeometry, records: CallRecords?, transport: Transport) {
        self.bindingObject = bindingObject
        self.client = client
        self.server = server
        self.interface = interface
        self.geometry = geometry
        self.records = records
        self.transport = transport
        var mask: UInt64 = 0
        var others = Set<UInt32>()
        for p in interface.procedures {
            if p.id < 64 { mask |= 1 << UInt64(p.id) } else { others.insert(p.id) }
        }
        procedureMask = mask
        otherProcedures = others
        linkages = .allocate(capacity: geometry.slotCount)
        linkages.initialize(repeating: Linkage(), count: geometry.slotCount)
    }

    deinit {
        linkages.deallocate()
        callsAccepted.deallocate()
    }

    @inline(__always)
    func hasProcedure(_ id: UInt32) -> Bool {
        id < 64 ? procedureMask & (1 << UInt64(id)) != 0 : otherProcedures.contains(id)
    }

    /// A slot is in use while the server has not reported the last issued call done.
    @inline(__always)
    func slotInUse(_ slot: Int) -> Bool {
        records!.record(slot).done.loadAcquire() != linkages[slot].issued
    }

    var slotsInUse: Int { records == nil ? 0 : (0..<geometry.slotCount).filter(slotInUse).count }

    var calls: UInt64 { callsAccepted.loadRelaxed() }
}
