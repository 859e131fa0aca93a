// Quotas: what one domain may cause the kernel to hold, from the image's [quotas] table
// (every field optional; the defaults are sane for the default image). Hitting one gives
// the requester a clear error naming the quota; nobody else is affected.
public struct Quotas: Sendable, Equatable {
    /// Live bindings one client domain may hold, over all interfaces.
    public var bindingsPerClient = 64
    /// Live bindings one client domain may hold to one interface.
    public var bindingsPerInterface = 8
    /// Offers waiting for their server, per client domain.
    public var pendingBindsPerClient = 8
    /// How long an offer may wait for its server's answer: shorter than a client's import
    /// timeout (10 s), so the client hears why.
    public var pendingBindSeconds = 5
    /// Operator connections at once (admitted, or waiting to say hello).
    public var operatorConnections = 32
    /// Log lines per second from one domain (its output and the kernel's lines about it).
    public var logLinesPerSecond = 50

    public init() {}

    /// Field name in the image, its valid range, and where it lives.
    static var fields: [(name: String, range: ClosedRange<Int>, path: WritableKeyPath<Quotas, Int>)] { [
        ("bindings_per_client", 1...4096, \.bindingsPerClient),
        ("bindings_per_interface", 1...1024, \.bindingsPerInterface),
        ("pending_binds_per_client", 1...256, \.pendingBindsPerClient),
        ("pending_bind_seconds", 1...600, \.pendingBindSeconds),
        ("operator_connections", 1...1024, \.operatorConnections),
        ("log_lines_per_second", 1...10_000, \.logLinesPerSecond),
    ] }

    /// The quota's name in the image, for error messages ("quota bindings_per_client").
    static func name(of path: WritableKeyPath<Quotas, Int>) -> String {
        fields.first { $0.path == path }?.name ?? "?"
    }
}
