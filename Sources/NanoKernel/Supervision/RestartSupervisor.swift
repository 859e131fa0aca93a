// RestartSupervisor: decides whether, and when, a service that ended comes back.
//
// Pure: it is told when the service started and how it ended, with the time passed in,
// and answers with a decision. The kernel acts on it (spawns after the back-off, or
// marks the service failed). Tests drive it with a made-up clock.
//
// The rules, after Hubris's jefe and systemd:
//   - every exit the operator did not ask for is a failure, whatever the status;
//   - each failure in a row doubles the back-off, up to the cap; a run of at least
//     `stableAfterSeconds` starts the doubling over;
//   - at most `budget` restarts within the sliding `windowSeconds`: one more and the
//     service is failed, with the reason, until the operator restarts it.

import BootImage

/// How a service's process ended, as the kernel classifies it.
public enum ServiceExit: Sendable, Equatable {
    /// The operator asked for it (stop, restart, shutdown).
    case requested
    /// Status 0 on its own, with its kernel channel intact: the service chose to finish.
    case completed
    /// Anything else: a signal, a non-zero status, a sandbox kill, a lost control channel.
    case failure(String)
}

public enum RestartDecision: Sendable, Equatable {
    case restart(afterNanoseconds: UInt64)
    /// The policy does not bring it back (never; a stop; a completed on-failure service).
    case stayDown
    /// The restart budget is spent; the reason is what status shows.
    case failed(reason: String)
}

public struct RestartSupervisor: Sendable {
    public let policy: RestartPolicy
    public let settings: SupervisionSettings
    /// When each restart within the window was decided, oldest first.
    private var restartTimes: [UInt64] = []
    private var failuresInARow = 0
    private var startedAt: UInt64?

    public init(policy: RestartPolicy, settings: SupervisionSettings) {
        self.policy = policy
        self.settings = settings
    }

    private var window: UInt64 { UInt64(settings.windowSeconds) * 1_000_000_000 }

    /// The service's process is running (spawned now).
    public mutating func started(at now: UInt64) { startedAt = now }

    /// The process ended at `now`: restart it, leave it down, or give up on it.
    public mutating func exited(_ exit: ServiceExit, at now: UInt64) -> RestartDecision {
        defer { startedAt = nil }
        guard wantsRestart(after: exit) else { return .stayDown }
        if let startedAt, now &- startedAt >= UInt64(settings.stableAfterSeconds) * 1_000_000_000 {
            failuresInARow = 0
        }
        let window = self.window
        restartTimes.removeAll { now &- $0 >= window }
        guard restartTimes.count < settings.budget else {
            return .failed(reason: "\(restartTimes.count) restarts in \(settings.windowSeconds) s; last: \(Self.describe(exit))")
        }
        restartTimes.append(now)
        failuresInARow += 1
        return .restart(afterNanoseconds: backoff(failuresInARow: failuresInARow))
    }

    /// The operator's `restart`: a fresh budget and the shortest back-off.
    public mutating func reset() {
        restartTimes.removeAll()
        failuresInARow = 0
    }

    /// Restarts decided within the window ending at `now` (status shows it).
    public func restartsInWindow(at now: UInt64) -> Int {
        restartTimes.filter { now &- $0 < window }.count
    }

    /// initial × 2^(n-1), capped; shifts are bounded so no doubling overflows.
    func backoff(failuresInARow n: Int) -> UInt64 {
        let initial = UInt64(settings.backoffMilliseconds), cap = UInt64(settings.backoffCapMilliseconds)
        let doublings = UInt64(min(max(n - 1, 0), 30))
        return min(initial << doublings, cap) * 1_000_000
    }

    private func wantsRestart(after exit: ServiceExit) -> Bool {
        switch (policy, exit) {
        case (.never, _), (_, .requested): false
        case (.onFailure, .completed): false
        case (.always, .completed), (_, .failure): true
        }
    }

    static func describe(_ exit: ServiceExit) -> String {
        switch exit {
        case .requested: "stopped by the operator"
        case .completed: "exited with status 0"
        case .failure(let reason): reason
        }
    }
}
