// Summary statistics for `nkctl bench`. They are defined exactly as nkfloor defines them
// (Sources/nkfloor/stats.c), so an LRPC result and a floor can be divided by each other.

/// Latency of one series of calls. Field names match nkfloor's JSON, so the same type
/// decodes a floor line and encodes an LRPC result.
struct LatencySummary: Codable, Equatable {
    var medianNs: UInt64
    var p99Ns: UInt64
    var meanNs: Double
    var callsPerSec: Double

    enum CodingKeys: String, CodingKey {
        case medianNs = "median_ns", p99Ns = "p99_ns", meanNs = "mean_ns", callsPerSec = "calls_per_sec"
    }

    /// `samples` are per-call latencies in nanoseconds; at least one.
    init(samples: [UInt64]) {
        precondition(!samples.isEmpty, "a latency summary needs at least one sample")
        let sorted = samples.sorted()
        medianNs = Self.percentile(50, ofSorted: sorted)
        p99Ns = Self.percentile(99, ofSorted: sorted)
        meanNs = Double(sorted.reduce(0, +)) / Double(sorted.count)
        // Calls run one after another on one thread, so throughput is the inverse of the mean.
        callsPerSec = meanNs > 0 ? 1e9 / meanNs : 0
    }

    /// Nearest rank: always a latency some call really had, never an interpolation.
    static func percentile(_ pct: Int, ofSorted sorted: [UInt64]) -> UInt64 {
        let rank = (sorted.count * pct + 99) / 100  // ceil(n * pct / 100), 1-based
        return sorted[max(rank, 1) - 1]
    }

    var medianMicroseconds: Double { Double(medianNs) / 1000 }
    var p99Microseconds: Double { Double(p99Ns) / 1000 }
    var meanMicroseconds: Double { meanNs / 1000 }
}
