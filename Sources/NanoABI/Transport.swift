// The two ways a call can travel between domains.
public enum Transport: String, Sendable, Equatable, CaseIterable {
    /// Lightweight RPC: the client stub copies the arguments onto an A-stack shared by the
    /// client and the server; the kernel only validates the trap and hands control over.
    case lrpc
    /// Conventional message RPC, kept so the difference can be measured and taught: the
    /// client stub marshals a message that travels client → kernel → server and back over
    /// Unix sockets, and the kernel validates it on the way through.
    case message

    /// Copies of the argument bytes one call makes, counted as the LRPC paper and the
    /// lecture in the seeds count them: every copy a stub or the kernel makes, and one
    /// per move between address spaces (a socket send + recv counts once, though Linux
    /// copies into and out of its socket buffer).
    ///
    /// lrpc (2): client stub → A-stack; server stub A-stack → the values its procedure
    ///   gets (`AStackReader`, on the slot thread's stack: the E-stack).
    /// message (4): client stub → message; client → kernel (recv into the relay's
    ///   buffer); kernel → server (one sendmsg gathers the kernel's own header and the
    ///   body where it arrived; recv); server stub message → values. The paper's four.
    public var argumentCopies: Int {
        switch self {
        case .lrpc: 2
        case .message: 4
        }
    }
}
