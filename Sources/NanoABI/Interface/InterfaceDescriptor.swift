// The procedure descriptor list (PDL) a server exports: what the kernel validates a
// procedure id against and sizes A-stacks from. Travels in control messages.

public struct ProcedureDescriptor: Sendable, Equatable {
    public let id: UInt32
    public let name: String
    /// Bytes of A-stack one call needs: the larger of arguments and results.
    public let astackSize: Int
    public let simultaneousCalls: Int
    public let arguments: FieldLayout
    public let results: FieldLayout

    public init(id: UInt32, name: String, astackSize: Int, simultaneousCalls: Int,
                arguments: FieldLayout, results: FieldLayout) {
        self.id = id
        self.name = name
        self.astackSize = astackSize
        self.simultaneousCalls = simultaneousCalls
        self.arguments = arguments
        self.results = results
    }

    /// "add(a:i32,b:i32) -> (value:i32)"
    public var signature: String { "\(name)(\(arguments.signature)) -> (\(results.signature))" }
}

/// An interface: a name and its procedure descriptor list (PDL).
public struct InterfaceDescriptor: Sendable, Equatable {
    public let name: String
    public let procedures: [ProcedureDescriptor]

    public init(name: String, procedures: [ProcedureDescriptor]) {
        self.name = name
        self.procedures = procedures
    }

    @inlinable
    public func procedure(named name: String) -> ProcedureDescriptor? {
        procedures.first { $0.name == name }
    }

    /// On every call (the client stub sizes the A-stack by it): inlined into callers.
    @inlinable
    public func procedure(id: UInt32) -> ProcedureDescriptor? {
        procedures.first { $0.id == id }
    }

    /// A-stack geometry for a binding: one slot per simultaneous call the interface
    /// accepts, each big enough for its largest procedure.
    public var astackGeometry: AStackGeometry {
        AStackGeometry(
            slotCount: min(32, max(1, procedures.map(\.simultaneousCalls).max() ?? 1)),
            payloadCapacity: max(64, procedures.map(\.astackSize).max() ?? 0))
    }
}
