// What the kernel reports to an operator: `nkctl status`, `nkctl bindings`, `nkctl trace`.
// The kernel encodes these as JSON on the control plane; nkctl decodes and renders
// them. Every string in a report that came from a domain was bounded and sanitised by
// the kernel before it got here. A binding object's secret is never part of a report.

public struct DomainReport: Codable, Sendable, Equatable {
    public let id: UInt32
    public let name: String
    public let kind: String
    public let pid: Int32
    public let state: String
    public let callsServed: UInt64
    public let refusals: UInt64
    public let restarts: Int
    public let exports: [String]
    public let lastEvent: String
    public let sandbox: [String: String]
    /// Restarts the supervisor made within its window (the budget's count).
    public var restartsInWindow: Int = 0
    /// How the previous run ended (one level).
    public var lastExit: String = ""
    /// Seconds this run has been up; 0 when it is not running.
    public var uptimeSeconds: Double = 0
    /// Backing off: seconds until the restart.
    public var restartInSeconds: Double?

    public init(id: UInt32, name: String, kind: String, pid: Int32, state: String, callsServed: UInt64, refusals: UInt64, restarts: Int, exports: [String], lastEvent: String, sandbox: [String: String]) {
        self.id = id
        self.name = name
        self.kind = kind
        self.pid = pid
        self.state = state
        self.callsServed = callsServed
        self.refusals = refusals
        self.restarts = restarts
        self.exports = exports
        self.lastEvent = lastEvent
        self.sandbox = sandbox
    }
}

public struct BindingReport: Codable, Sendable, Equatable {
    /// Rows per `bindings` reply; a full page means there may be more (ask `from=` the
    /// last binding + 1). Every field is bounded, so a page always fits the channel.
    public static let pageSize = 512

    public let binding: UInt32
    public let client: String
    public let server: String
    public let interface: String
    public let transport: String
    /// A-stacks of an LRPC binding; 0 for a message binding (its calls travel in messages).
    public let astacks: Int
    public let astackBytes: Int
    public let astacksInUse: Int
    public let calls: UInt64

    public init(binding: UInt32, client: String, server: String, interface: String, transport: String, astacks: Int, astackBytes: Int, astacksInUse: Int, calls: UInt64) {
        self.binding = binding
        self.client = client
        self.server = server
        self.interface = interface
        self.transport = transport
        self.astacks = astacks
        self.astackBytes = astackBytes
        self.astacksInUse = astacksInUse
        self.calls = calls
    }
}

public struct StatusReport: Codable, Sendable, Equatable {
    public let image: String
    public let uptimeSeconds: Double
    public let domains: [DomainReport]

    public init(image: String, uptimeSeconds: Double, domains: [DomainReport]) {
        self.image = image
        self.uptimeSeconds = uptimeSeconds
        self.domains = domains
    }
}
