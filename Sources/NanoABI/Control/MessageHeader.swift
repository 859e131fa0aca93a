// The message transport's headers (conventional RPC through the kernel).

/// Message layouts, little-endian, shared by the stub, the kernel's relay and the server.
public enum CallMessage {
    /// Client → kernel: binding index, generation, secret, procedure, argument length,
    /// the client's CPU (a placement hint, as in a trap cell).
    public static let requestHeader = 32
    /// Kernel → server: procedure, caller domain, argument length, the client's CPU.
    public static let upcallHeader = 16
    /// Server → kernel → client: status, result length.
    public static let replyHeader = 8
    /// Reply status for a call the kernel refused: this plus the `Refusal` code.
    public static let refusedStatus: UInt32 = 0x100
    /// Reply status when the server went away mid-call.
    public static let serverDiedStatus: UInt32 = 0x200
}

