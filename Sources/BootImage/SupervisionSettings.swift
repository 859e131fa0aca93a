// SupervisionSettings: how the kernel restarts one service, as the image sets it in
// [service.supervision]. Plain data; RestartSupervisor (Supervision/) decides with it.

public struct SupervisionSettings: Sendable, Equatable {
    /// The first back-off after a failure; each further failure doubles it.
    public var backoffMilliseconds: Int = 50
    /// The back-off never grows past this.
    public var backoffCapMilliseconds: Int = 5_000
    /// At most this many restarts within `windowSeconds`; one more and the service is `failed`.
    public var budget: Int = 5
    public var windowSeconds: Int = 30
    /// A run at least this long resets the back-off to its first step (Hubris's jefe does the same).
    public var stableAfterSeconds: Int = 10
    /// Restart a server one of whose calls has run longer than this; nil: never.
    public var hangLimitMilliseconds: Int?
    /// How long a service asked to stop (`nkctl stop`, `restart`) has to exit before SIGKILL.
    public var stopGraceMilliseconds: Int = 2_000
    public init() {}

    /// What each field may hold; the decoder reports anything outside with file, line and field.
    static let backoffRange = 1...60_000
    static let backoffCapRange = 1...600_000
    static let budgetRange = 1...1_000
    static let windowRange = 1...3_600
    static let stableAfterRange = 1...3_600
    static let hangLimitRange = 10...3_600_000
    static let stopGraceRange = 1...600_000
}

/// What a call may wait for its return when the caller sets no deadline of its own.
public enum DefaultCallDeadline {
    public static let defaultMilliseconds = 10_000
    static let range = 1...3_600_000
}
