// The hostile service (test-only, nk-hostile): told which attack to run, it tries it from
// inside its own protection domain and reports what stopped it. If the sandbox stops
// the domain instead, the caller's call fails with CallError.serverDied and the kernel's
// status names the refused system call.
import LRPC

public enum HostileInterface {
    public static let name = "hostile"
    public static let nameCapacity = 32
    public static let pathCapacity = 200
    public static let detailCapacity = 200

    /// Run the named attack. errno 0 means it got through: a hole in the sandbox.
    public static let attack = Procedure<AttackOrder, AttackOutcome>(id: 0, name: "attack", simultaneousCalls: 4)
    /// The domain's pid as it sees it (1 in its own pid namespace): proof it still serves.
    public static let ping = Procedure<Empty, Int64>(id: 1, name: "ping", simultaneousCalls: 4)

    public static let all: [ProcedureDescriptor] = [attack.descriptor, ping.descriptor]
}

/// attack(name: text[32], target: i64, path: text[200], boIndex: u32, boGeneration: u32, boSecret: u64)
public struct AttackOrder: AStackValue, Sendable, Equatable {
    public var name: String
    /// A host pid (the kernel's, a sibling's), for attacks on another process.
    public var target: Int64
    /// A path (a file in another service's grant, the kernel's control socket).
    public var path: String
    /// A binding object for the trap attacks that need one from outside (stale, foreign).
    public var bindingObject: BindingObject

    public init(_ name: String, target: Int64 = 0, path: String = "",
                bindingObject: BindingObject = BindingObject(index: 0, generation: 0, secret: 0)) {
        self.name = name
        self.target = target
        self.path = path
        self.bindingObject = bindingObject
    }

    public static let layout = FieldLayout([
        Field("name", .text, capacity: HostileInterface.nameCapacity), Field("target", .int64),
        Field("path", .text, capacity: HostileInterface.pathCapacity), Field("boIndex", .uint32),
        Field("boGeneration", .uint32), Field("boSecret", .uint64),
    ])

    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(text: name, capacity: HostileInterface.nameCapacity, field: "name")
        try w.put(target, field: "target")
        try w.put(text: path, capacity: HostileInterface.pathCapacity, field: "path")
        try w.put(bindingObject.index, field: "boIndex")
        try w.put(bindingObject.generation, field: "boGeneration")
        try w.put(bindingObject.secret, field: "boSecret")
    }

    public init(from r: inout AStackReader) throws(CallError) {
        name = try r.getText(capacity: HostileInterface.nameCapacity, field: "name")
        target = try r.get(field: "target")
        path = try r.getText(capacity: HostileInterface.pathCapacity, field: "path")
        let index: UInt32 = try r.get(field: "boIndex")
        let generation: UInt32 = try r.get(field: "boGeneration")
        let secret: UInt64 = try r.get(field: "boSecret")
        bindingObject = BindingObject(index: index, generation: generation, secret: secret)
    }
}

/// -> (errno: i32, detail: text[200])
public struct AttackOutcome: AStackValue, Sendable, Equatable {
    /// What stopped the attack; 0 if nothing did.
    public var errno: Int32
    public var detail: String

    public init(errno: Int32, detail: String) {
        self.errno = errno
        self.detail = detail
    }

    public static let layout = FieldLayout([
        Field("errno", .int32), Field("detail", .text, capacity: HostileInterface.detailCapacity),
    ])

    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(errno, field: "errno")
        // Longer details are cut, not refused: the outcome matters more than its last words.
        try w.put(bytes: detail.utf8.prefix(HostileInterface.detailCapacity), capacity: HostileInterface.detailCapacity,
                  field: "detail")
    }

    public init(from r: inout AStackReader) throws(CallError) {
        errno = try r.get(field: "errno")
        detail = try r.getText(capacity: HostileInterface.detailCapacity, field: "detail")
    }
}
