// The message transport's headers (conventional RPC through the kernel), little-endian,
// shared by the client stub, the kernel's relay and the server's receiver. Each header
// is a typed value that writes itself into, and reads itself out of, a message buffer:
// the offsets live here and nowhere else.

public enum CallMessage {
    public static let requestHeader = Request.size
    public static let upcallHeader = Upcall.size
    public static let replyHeader = Reply.size
    /// While a trace is on (`nkctl trace`): the client stub's trace key in the request (0
    /// when it is not tracing); the kernel's flag in the upcall that the call is traced;
    /// and the server's own times in the reply (CLOCK_MONOTONIC ns, the server's word),
    /// written only when the upcall asked for them.
    public static let requestTraceKey = 28
    public static let upcallTraced = 16
    public static let replyServerWoke = 8
    public static let replyProcedureStarted = 16
    public static let replyProcedureEnded = 24
    public static let replyServerReturned = 32
    /// Reply status for a call the kernel refused: this plus the `Refusal` code.
    public static let refusedStatus: UInt32 = 0x100
    /// Reply status when the server went away mid-call.
    public static let serverDiedStatus: UInt32 = 0x200

    /// Client → kernel: the binding object, procedure, argument length, and the client's
    /// CPU (a placement hint, as in a trap cell). Arguments follow.
    public struct Request: Equatable, Sendable {
        public var bindingIndex: UInt32
        public var bindingGeneration: UInt32
        public var bindingSecret: UInt64
        public var procedure: UInt32
        public var argumentLength: UInt32
        public var cpu: UInt32
        public static let size = 32

        @inlinable
        public init(binding: BindingObject, procedure: UInt32, argumentLength: UInt32, cpu: UInt32) {
            bindingIndex = binding.index
            bindingGeneration = binding.generation
            bindingSecret = binding.secret
            self.procedure = procedure
            self.argumentLength = argumentLength
            self.cpu = cpu
        }

        /// Read the fields `received` bytes hold; a field cut off reads as `missing` (so a
        /// truncated request can still be described in the kernel's refusal).
        @inlinable
        public init(reading raw: UnsafeRawBufferPointer, received: Int, missing: UInt32 = 0) {
            func u32(_ at: Int) -> UInt32 { received >= at + 4 ? UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)) : missing }
            bindingIndex = u32(0)
            bindingGeneration = u32(4)
            bindingSecret = received >= 16 ? UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) : 0
            procedure = u32(16)
            argumentLength = u32(20)
            cpu = u32(24)
        }

        @inlinable
        public func write(to raw: UnsafeMutableRawBufferPointer) {
            raw.storeBytes(of: bindingIndex.littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: bindingGeneration.littleEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: bindingSecret.littleEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: procedure.littleEndian, toByteOffset: 16, as: UInt32.self)
            raw.storeBytes(of: argumentLength.littleEndian, toByteOffset: 20, as: UInt32.self)
            raw.storeBytes(of: cpu.littleEndian, toByteOffset: 24, as: UInt32.self)
        }
    }

    /// Kernel → server: procedure, caller domain (named by the kernel), argument length,
    /// the client's CPU, then the traced flag (`upcallTraced`). Arguments follow.
    public struct Upcall: Equatable, Sendable {
        public var procedure: UInt32
        public var callerDomain: UInt32
        public var argumentLength: UInt32
        public var cpu: UInt32
        public static let size = 24

        @inlinable
        public init(procedure: UInt32, callerDomain: UInt32, argumentLength: UInt32, cpu: UInt32) {
            self.procedure = procedure
            self.callerDomain = callerDomain
            self.argumentLength = argumentLength
            self.cpu = cpu
        }

        /// `raw` holds at least `size` bytes.
        @inlinable
        public init(reading raw: UnsafeRawBufferPointer) {
            procedure = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            callerDomain = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            argumentLength = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            cpu = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        }

        @inlinable
        public func write(to raw: UnsafeMutableRawBufferPointer) {
            raw.storeBytes(of: procedure.littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: callerDomain.littleEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: argumentLength.littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: cpu.littleEndian, toByteOffset: 12, as: UInt32.self)
        }
    }

    /// Server → kernel → client: status (a `ReplyStatus`, or `refusedStatus` + a
    /// `Refusal`, or `serverDiedStatus`) and result length, then the server's times while
    /// traced (`replyServerWoke` ...). Results follow.
    public struct Reply: Equatable, Sendable {
        public var status: UInt32
        public var resultLength: UInt32
        public static let size = 40

        @inlinable
        public init(status: UInt32, resultLength: UInt32) {
            self.status = status
            self.resultLength = resultLength
        }

        /// `raw` holds at least `size` bytes.
        @inlinable
        public init(reading raw: UnsafeRawBufferPointer) {
            status = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            resultLength = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        }

        @inlinable
        public func write(to raw: UnsafeMutableRawBufferPointer) {
            raw.storeBytes(of: status.littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: resultLength.littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }
}
