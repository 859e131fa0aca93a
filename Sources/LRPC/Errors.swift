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
    /// A bounded field was given more bytes than its capacity (`limit`); refused in the
    /// client stub, before any trap. The field is named "interface.procedure: field".
    case fieldTooLarge(field: String, size: Int, limit: Int)
    /// A bounded list was given more elements than its capacity; refused in the client
    /// stub (or the server's copy-out), before anything is copied. Named like fieldTooLarge.
    case listTooLong(field: String, count: Int, capacity: Int)
    /// The A-stack held bytes that do not decode as the declared layout.
    case malformed(String)
    /// The procedure ran and failed with an error of no declared type.
    case procedureFailed(String)
    /// The procedure ran and failed with its declared error type (`ServiceError`), whose
    /// code this caller did not map back (a typed stub rethrows the type itself).
    case serviceError(code: UInt32, message: String)
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
            "arguments for \(p) need \(size) bytes; its A-stack holds \(limit) (refused before the trap)"
        case .fieldTooLarge(let f, let size, let limit): "\(f) is \(size) bytes; the field holds at most \(limit)"
        case .listTooLong(let f, let count, let capacity):
            "\(f) has \(count) elements; the list holds at most \(capacity)"
        case .malformed(let s): "malformed A-stack contents: \(s)"
        case .procedureFailed(let s): "procedure failed: \(s)"
        case .serviceError(let code, let s): "procedure failed with error \(code): \(s)"
        case .notImplemented(let s): "server does not implement \(s)"
        case .kernelGone: "the kernel is gone"
        case .timedOut(let s): "timed out: \(s)"
        case .unavailable(let s): s
        }
    }
}

extension CallError {
    /// An error from element `index` of the list `list`, naming the element
    /// ("entries[3].name"). Only on the error path: no string is built per element.
    public func inElement(_ index: Int, of list: String) -> CallError {
        func name(_ inner: String) -> String { "\(list)[\(index)]" + (inner.isEmpty ? "" : ".\(inner)") }
        switch self {
        case .fieldTooLarge(let f, let size, let limit): return .fieldTooLarge(field: name(f), size: size, limit: limit)
        case .listTooLong(let f, let count, let capacity): return .listTooLong(field: name(f), count: count, capacity: capacity)
        // Readers' messages start with the field's name, "" for an element itself.
        case .malformed(let text): return .malformed(name("") + (text.hasPrefix(" ") ? "" : ".") + text)
        default: return self
        }
    }

    /// The failure record a server stub wrote (see `FailureCoding`).
    static func failure(_ bytes: UnsafeRawBufferPointer) -> CallError {
        let (code, message) = FailureCoding.read(bytes)
        return code == 0 ? .procedureFailed(message) : .serviceError(code: code, message: message)
    }
}
