// The teaching image's demonstration: `demo` tries, on request, what a hostile client
// would try against the kernel's call-trap validation, from inside its own protection
// domain, and says what the kernel answered; `accomplice` is a careless domain that gives
// its binding object away and holds A-stack slots on request (so the demonstrations do
// not depend on timing). Both run the nk-demo executable.
import LRPC

public enum DemoInterface {
    public static let name = "demo"
    public static let reportCapacity = 300

    /// Trap with its own clock binding object, secret changed.
    public static let forge = Procedure<Empty, DemoOutcome>(id: 0, name: "forge")
    /// Release a binding, then trap with its binding object.
    public static let replay = Procedure<Empty, DemoOutcome>(id: 1, name: "replay")
    /// Trap with the accomplice's (leaked) binding object.
    public static let swap = Procedure<Empty, DemoOutcome>(id: 2, name: "swap")
    /// Trap on an A-stack slot a call of its own is using (held until the trap is answered).
    public static let busy = Procedure<Empty, DemoOutcome>(id: 3, name: "busy")
    /// Trap naming a procedure the interface does not have.
    public static let badProcedure = Procedure<Empty, DemoOutcome>(id: 4, name: "badProcedure")
    /// Trap naming an A-stack slot the binding does not have.
    public static let badSlot = Procedure<Empty, DemoOutcome>(id: 5, name: "badSlot")
    /// Hold an A-stack slot of its accomplice binding for this many seconds (at most 60),
    /// in the background: `nkctl bindings` shows it in use meanwhile.
    public static let hold = Procedure<UInt32, DemoOutcome>(id: 6, name: "hold")

    public static let all: [ProcedureDescriptor] = [forge, replay, swap, busy, badProcedure, badSlot].map(\.descriptor)
        + [hold.descriptor]
}

public enum AccompliceInterface {
    public static let name = "accomplice"

    /// Its clock binding object: what a careless domain might leak.
    public static let leak = Procedure<Empty, LeakedBindingObject>(id: 0, name: "leak")
    /// Hold the caller's A-stack slot until `release(token)` or the time runs out.
    public static let wait = Procedure<HoldOrder, Empty>(id: 1, name: "wait")
    public static let release = Procedure<UInt32, Empty>(id: 2, name: "release")
    /// 1 while a wait with this token is running.
    public static let holding = Procedure<UInt32, UInt32>(id: 3, name: "holding")

    public static let all: [ProcedureDescriptor] = [leak.descriptor, wait.descriptor, release.descriptor, holding.descriptor]
}

/// What the kernel answered: refusal 0 means the trap was accepted.
public struct DemoOutcome: AStackValue, Sendable, Equatable {
    public var refusal: UInt32
    public var report: String

    public init(refusal: UInt32, report: String) {
        self.refusal = refusal
        self.report = report
    }

    public static let layout = FieldLayout([
        Field("refusal", .uint32), Field("report", .text, capacity: DemoInterface.reportCapacity),
    ])

    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(refusal, field: "refusal")
        try w.put(bytes: report.utf8.prefix(DemoInterface.reportCapacity), capacity: DemoInterface.reportCapacity, field: "report")
    }

    public init(from r: inout AStackReader) throws(CallError) {
        refusal = try r.get(field: "refusal")
        report = try r.getText(capacity: DemoInterface.reportCapacity, field: "report")
    }
}

public struct LeakedBindingObject: AStackValue, Sendable, Equatable {
    public var bindingObject: BindingObject
    public init(_ bindingObject: BindingObject) { self.bindingObject = bindingObject }

    public static let layout = FieldLayout([Field("index", .uint32), Field("generation", .uint32), Field("secret", .uint64)])

    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(bindingObject.index, field: "index")
        try w.put(bindingObject.generation, field: "generation")
        try w.put(bindingObject.secret, field: "secret")
    }

    public init(from r: inout AStackReader) throws(CallError) {
        let index: UInt32 = try r.get(field: "index")
        let generation: UInt32 = try r.get(field: "generation")
        let secret: UInt64 = try r.get(field: "secret")
        bindingObject = BindingObject(index: index, generation: generation, secret: secret)
    }
}

@AStackValue
public struct HoldOrder: Sendable, Equatable {
    public var token: UInt32
    public var milliseconds: UInt32
    public init(token: UInt32, milliseconds: UInt32) {
        self.token = token
        self.milliseconds = milliseconds
    }
}
