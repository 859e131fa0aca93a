// The two ways a call can travel between domains.
public enum Transport: String, Sendable, Equatable, CaseIterable {
    /// Lightweight RPC: arguments copied once onto an A-stack shared by the client and
    /// the server; the kernel only validates the trap and hands control over.
    case lrpc
    /// Conventional message RPC, kept so the difference can be measured and taught: the
    /// client stub marshals a message that travels client → kernel → server and back over
    /// Unix sockets, and the kernel validates it on the way through.
    case message

    /// Copies of the argument bytes one call makes, by construction.
    /// lrpc: client stub → A-stack (the server stub reads the fields in place).
    /// message: client stub → message buffer → kernel (recv) → server (recv) → server's
    /// values, the four copies the LRPC paper counts for conventional RPC.
    public var argumentCopies: Int {
        switch self {
        case .lrpc: 1
        case .message: 4
        }
    }
}
