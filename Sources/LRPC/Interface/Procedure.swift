// Procedures and interfaces as a service author declares them.
//
//     enum Clock {
//         static let now = Procedure<Empty, Timestamp>(id: 0, name: "now")
//     }
//
// A procedure's descriptor (PD) is what the server exports to the kernel: id, name,
// A-stack size, how many calls the server accepts at once, and the field layouts.

public struct Procedure<Arguments: AStackValue, Result: AStackValue>: Sendable {
    public let id: UInt32
    public let name: String
    public let simultaneousCalls: Int

    public init(id: UInt32, name: String, simultaneousCalls: Int = 4) {
        self.id = id
        self.name = name
        self.simultaneousCalls = simultaneousCalls
    }

    public var descriptor: ProcedureDescriptor {
        ProcedureDescriptor(
            id: id, name: name,
            astackSize: max(Arguments.layout.size, Result.layout.size),
            simultaneousCalls: simultaneousCalls,
            arguments: Arguments.layout, results: Result.layout)
    }
}

