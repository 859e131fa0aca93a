// Tuning: where the threads of a call run (placement) and how long they spin before
// sleeping (WaitPolicy). Both can change while the system runs (`nkctl bench` sweeps
// them), so every waiting thread keeps a local copy and refreshes it with one relaxed
// load of a generation counter per wake-up: nothing is locked on the call path.
import CNanoKernel
import Glibc

/// Which CPU each party of a call runs on.
public enum Placement: String, Sendable, CaseIterable {
    /// No pinning: the scheduler decides.
    case scheduler
    /// Client, kernel trap handler and server on CPU 0: every wake-up is local.
    case sameCPU = "same-cpu"
    /// The server's domain kept warm on CPU 1; client and kernel on CPU 0.
    case serverCPU = "server-cpu"
    /// Client alone on CPU 0; the kernel's trap handler and the server on CPU 1.
    case clientCPU = "client-cpu"
    /// Each call runs where its client runs: the client stub names its CPU in the trap,
    /// the kernel's trap handler and the server thread move there. One client behaves
    /// like same-cpu; independent clients on different CPUs never share one.
    case followClient = "follow-client"

    public enum Role: Sendable { case client, kernel, server }

    /// The CPU a role is pinned to, or nil for no pinning. CPUs beyond the machine's
    /// count fold back onto CPU 0.
    public func cpu(for role: Role) -> Int32? {
        let wanted: Int32? = switch (self, role) {
        case (.scheduler, _), (.followClient, _): nil
        case (.sameCPU, _): 0
        case (.serverCPU, .server): 1
        case (.serverCPU, _): 0
        case (.clientCPU, .client): 0
        case (.clientCPU, _): 1
        }
        guard let wanted else { return nil }
        return wanted < Int32(sysconf(Int32(_SC_NPROCESSORS_ONLN))) ? wanted : 0
    }
}

public final class Tuning: @unchecked Sendable {
    /// Bumped on every change; the spin iterations; the placement's index.
    private let generation = SharedWord.allocate()
    private let spinWord = SharedWord.allocate()
    private let placementWord = SharedWord.allocate()

    public static let shared = Tuning()

    /// The measured default (docs/performance.md): each call follows its client's CPU,
    /// and nobody spins.
    public static let defaultSpin = 0
    /// The longest spin a policy may ask for, in pause iterations (a few milliseconds):
    /// every waiting thread of the kernel and of every domain spins this long before it
    /// sleeps, so an unbounded one (up to 2^32) would keep every CPU busy for minutes.
    public static let maximumSpin = 100_000
    public static let defaultPlacement = Placement.followClient

    private init() {
        let spin = min(getenv("NK_SPIN").flatMap { Int(String(cString: $0)) } ?? Self.defaultSpin, Self.maximumSpin)
        let placement = getenv("NK_PLACEMENT").flatMap { Placement(rawValue: String(cString: $0)) } ?? Self.defaultPlacement
        apply(placement: placement, spin: spin)
    }

    public var spin: WaitPolicy { WaitPolicy(spinIterations: Int(spinWord.loadRelaxed())) }

    public var placement: Placement {
        let i = Int(placementWord.loadRelaxed())
        return Placement.allCases[min(i, Placement.allCases.count - 1)]
    }

    /// Change the policy; waiting threads pick it up on their next wake-up.
    public func apply(placement: Placement, spin: Int) {
        spinWord.storeRelaxed(UInt32(clamping: max(0, spin)))
        placementWord.storeRelaxed(UInt32(Placement.allCases.firstIndex(of: placement)!))
        _ = generation.fetchAdd(1)
    }

    /// "placement=same-cpu,spin=200" as `nkctl bench` and the kernel's tune request use it.
    public static func parse(_ text: String) -> (Placement, Int)? {
        var placement = Placement.scheduler, spin = 0
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { return nil }
            switch kv[0] {
            case "placement": guard let p = Placement(rawValue: kv[1]) else { return nil }; placement = p
            case "spin": guard let n = Int(kv[1]), (0...maximumSpin).contains(n) else { return nil }; spin = n
            default: return nil
            }
        }
        return (placement, spin)
    }

    public static func describe(_ placement: Placement, _ spin: Int) -> String { "placement=\(placement.rawValue),spin=\(spin)" }

    /// A waiting thread's copy of the policy.
    public struct Local {
        let role: Placement.Role
        var generation: UInt32 = .max
        public var wait = WaitPolicy.pureFutex
        public var followsClient = false
        /// The CPU this thread last pinned itself to (-1: none).
        var pinned: Int32 = -1

        public init(role: Placement.Role) { self.role = role }

        /// Under follow-client: move to `cpu` if not there already. One syscall when the
        /// client moved; nothing otherwise. An out-of-range CPU (from a client) is ignored.
        @inline(__always)
        public mutating func follow(_ cpu: UInt32) {
            guard followsClient, Int32(bitPattern: cpu) != pinned, cpu < Tuning.onlineCPUs else { return }
            if nk_pin_thread(Int32(cpu)) == 0 { pinned = Int32(cpu) }
        }
    }

    static let onlineCPUs = UInt32(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Cheap enough for every call: a relaxed load.
    @inline(__always)
    public var followsClient: Bool { placementWord.loadRelaxed() == UInt32(Placement.allCases.firstIndex(of: .followClient)!) }

    /// Bring `local` up to date; re-pin the calling thread if the placement changed.
    @inline(__always)
    public func refresh(_ local: inout Local) {
        let generation = self.generation.loadAcquire()
        guard generation != local.generation else { return }
        local.generation = generation
        local.wait = spin
        local.followsClient = placement == .followClient
        local.pinned = placement.cpu(for: local.role) ?? -1
        _ = nk_pin_thread(local.pinned)
    }
}
