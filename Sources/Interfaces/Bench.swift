// The bench service: the four procedures the LRPC paper measured.
import LRPC

public enum BenchInterface {
    public static let name = "bench"
    public static let payloadSize = 200

    public static let null = Procedure<Empty, Empty>(id: 0, name: "null", simultaneousCalls: 8)
    public static let add = Procedure<AddArguments, Int32>(id: 1, name: "add", simultaneousCalls: 8)
    public static let bigIn = Procedure<BoundedBytes<200>, Empty>(id: 2, name: "bigIn", simultaneousCalls: 8)
    public static let bigInOut = Procedure<BoundedBytes<200>, BoundedBytes<200>>(id: 3, name: "bigInOut", simultaneousCalls: 8)

    /// Holds its A-stack slot for the given milliseconds: makes a call in flight
    /// observable (`nkctl bindings` shows the A-stack in use; tests trap on a busy slot).
    public static let hold = Procedure<UInt32, Empty>(id: 4, name: "hold", simultaneousCalls: 8)

    public static let all: [ProcedureDescriptor] = [null.descriptor, add.descriptor, bigIn.descriptor, bigInOut.descriptor, hold.descriptor]
}

/// Two 4-byte integers in.
public struct AddArguments: AStackValue, Sendable, Equatable {
    public var a: Int32
    public var b: Int32
    public init(_ a: Int32, _ b: Int32) { self.a = a; self.b = b }
    public static let layout = FieldLayout([Field("a", .int32), Field("b", .int32)])
    @inline(__always) public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(a, field: "a")
        try w.put(b, field: "b")
    }
    @inline(__always) public init(from r: inout AStackReader) throws(CallError) {
        a = try r.get(field: "a")
        b = try r.get(field: "b")
    }
}
