// The clock service: wall-clock and monotonic time, and the clock's resolution.
import LRPC

public enum ClockInterface {
    public static let name = "clock"

    public static let now = Procedure<Empty, Timestamp>(id: 0, name: "now")
    public static let monotonic = Procedure<Empty, Timestamp>(id: 1, name: "monotonic")
    public static let resolution = Procedure<Empty, Int64>(id: 2, name: "resolution")

    public static let all: [ProcedureDescriptor] = [now.descriptor, monotonic.descriptor, resolution.descriptor]
}

public struct Timestamp: AStackValue, Sendable, Equatable {
    public var seconds: Int64
    public var nanoseconds: Int64
    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
    public static let layout = FieldLayout([Field("seconds", .int64), Field("nanoseconds", .int64)])
    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(seconds, field: "seconds")
        try w.put(nanoseconds, field: "nanoseconds")
    }
    public init(from r: inout AStackReader) throws(CallError) {
        seconds = try r.get(field: "seconds")
        nanoseconds = try r.get(field: "nanoseconds")
    }
}
