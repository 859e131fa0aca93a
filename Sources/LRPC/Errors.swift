// Errors a domain sees from the LRPC runtime.
import Glibc
import SystemPackage

/// Why the kernel refused a call trap. The kernel writes the code into the caller's
/// trap cell; the server never saw the call.
public enum Refusal: UInt32, Error, Sendable, CustomStringConvertible {
    case forgedBindingObject = 1
    case staleBindingObject = 2
    case foreignBindingObject = 3
    case unknownProcedure = 4
    case slotOutOfRange = 5
    case slotInUse = 6
    case malformedTrap = 7

    public var description: String {
        switch self {
        case .forgedBindingObject: "binding object is forged (no such binding)"
        case .staleBindingObject: "binding object is stale (binding was revoked)"
        case .foreignBindingObject: "binding object belongs to another domain"
        case .unknownProcedure: "procedure id is not in the interface's procedure descriptor list"
        case .slotOutOfRange: "A-stack slot does not belong to this binding"
        case .slotInUse: "A-stack slot is already in use by a call in flight"
        case .malformedTrap: "trap record is malformed"
        }
    }
}

/// What the server stub reports in the A-stack slot header.
public enum ReplyStatus: UInt32, Sendable {
    case ok = 0
    case procedureFailed = 1
    case badArguments = 2
    case notImplemented = 3
}

public enum CallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kernel refused the trap (see `Refusal`).
    case refused(Refusal)
    /// The server domain died (or the binding was revoked) while the call was in flight.
    case serverDied(String)
    /// Arguments do not fit the procedure's A-stack; refused in the client stub, before any trap.
    case argumentsTooLarge(procedure: String, size: Int, limit: Int)
    /// A bounded field was given more bytes than it holds.
    case fieldTooLarge(field: String, size: Int, limit: Int)
    /// The A-stack held bytes that do not decode as the declared layout.
    case malformed(String)
    /// The procedure ran and reported a failure.
    case procedureFailed(String)
    case notImplemented(String)
    /// The kernel went away.
    case kernelGone
    case timedOut(String)

    public var description: String {
        switch self {
        case .refused(let r): "kernel refused the call: \(r)"
        case .serverDied(let s): "server died during the call: \(s)"
        case .argumentsTooLarge(let p, let size, let limit):
            "arguments for \(p) are \(size) bytes; its A-stack holds \(limit) (refused before the trap)"
        case .fieldTooLarge(let f, let size, let limit): "\(f) is \(size) bytes; it holds at most \(limit)"
        case .malformed(let s): "malformed A-stack contents: \(s)"
        case .procedureFailed(let s): "procedure failed: \(s)"
        case .notImplemented(let s): "server does not implement \(s)"
        case .kernelGone: "the kernel is gone"
        case .timedOut(let s): "timed out: \(s)"
        }
    }
}

/// A failed system call, with what we were doing.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Errno
    public init(_ operation: String, _ errno: Errno = .last) {
        self.operation = operation
        self.errno = errno
    }
    public var description: String { "\(operation): \(errno)" }
}

/// A control-plane failure: a refused import or export, a protocol error.
public struct ControlError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Errno {
    /// The calling thread's errno, right after a failed call.
    public static var last: Errno { Errno(rawValue: Glibc.errno) }
}
