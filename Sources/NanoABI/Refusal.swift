// Refusal and ReplyStatus: the codes the kernel and a server stub write into shared
// memory (a trap cell, an A-stack slot header) and into reply messages.

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
        case .forgedBindingObject: "binding object is forged (no binding the kernel issued has this index, generation and secret)"
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

