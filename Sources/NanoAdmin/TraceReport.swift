// What `nkctl trace` receives: every binding step and call step the kernel traced, with
// the client's and server's own reports joined in. Times are CLOCK_MONOTONIC
// nanoseconds, one clock for every process on the machine.

public struct TraceStep: Codable, Sendable, Equatable {
    /// CLOCK_MONOTONIC nanoseconds.
    public let at: UInt64
    /// Where the step sits in the seed's numbering: "client 2", "kernel 1", "binding 5", "" (none).
    public let seed: String
    /// Who took the step: client, kernel or server.
    public let actor: String
    public let what: String
    /// "kernel" when the kernel measured it; "client" or "server" when that domain reported it (untrusted).
    public let reportedBy: String

    public init(at: UInt64, seed: String, actor: String, what: String, reportedBy: String) {
        self.at = at
        self.seed = seed
        self.actor = actor
        self.what = what
        self.reportedBy = reportedBy
    }
}

public struct TraceEntry: Codable, Sendable, Equatable {
    /// Unique and increasing for the kernel's life (never reused, unlike binding indexes).
    public let id: UInt64
    /// "call", "binding" or "export".
    public let kind: String
    public var client: String
    public var server: String
    /// Empty when the kernel could not tell (a refused binding object names no interface it trusts).
    public var interface: String
    public var procedure: String
    public var transport: String
    public var binding: UInt32?
    public var generation: UInt32?
    public var slot: UInt32?
    /// "upcalled", "relayed", "refused: <reason>", "bound", "released", "revoked", ...
    public var outcome: String
    public var steps: [TraceStep]
    /// Every report this entry waits for has arrived (or it stopped waiting).
    public var complete: Bool
    /// What the entry still lacks, e.g. "client report" (empty when complete).
    public var missing: [String]

    public init(id: UInt64, kind: String, client: String, server: String, interface: String, procedure: String,
                transport: String, binding: UInt32?, generation: UInt32?, slot: UInt32?, outcome: String,
                steps: [TraceStep], complete: Bool, missing: [String]) {
        self.id = id
        self.kind = kind
        self.client = client
        self.server = server
        self.interface = interface
        self.procedure = procedure
        self.transport = transport
        self.binding = binding
        self.generation = generation
        self.slot = slot
        self.outcome = outcome
        self.steps = steps
        self.complete = complete
        self.missing = missing
    }
}

/// The answer to an operator's `trace` request.
public struct TraceReply: Codable, Sendable, Equatable {
    public let on: Bool
    public let entries: [TraceEntry]
    /// The id the next request should start from.
    public let next: UInt64

    public init(on: Bool, entries: [TraceEntry], next: UInt64) {
        self.on = on
        self.entries = entries
        self.next = next
    }
}
