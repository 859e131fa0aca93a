// Errors of the ABI itself: a failed system call, a malformed or refused control message.
import Glibc
import SystemPackage

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
