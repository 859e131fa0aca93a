// Errors a domain sees from the LRPC runtime.
import Glibc
import SystemPackage

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
    /// No server to call: the service failed for good, was stopped, or did not come back
    /// within the call's deadline. The text is the kernel's reason.
    case unavailable(String)

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
        case .unavailable(let s): s
        }
    }
}

