// The kernel's log: one line per event, to stderr (a log file once detached). Domains'
// own stderr goes to the same place.
import Glibc
import LRPC

public final class KernelLog: @unchecked Sendable {
    private let monitor = Monitor()
    private let start = monotonicNanoseconds()
    /// The most recent lines, for `nkctl status` and tests.
    private var recent: [String] = []

    public init() {}

    public func info(_ text: String) { emit(text) }

    public func warning(_ text: String) { emit("warning: " + text) }

    /// A line a domain wrote to its stdout or stderr, marked as the domain's.
    func output(of domain: String, _ text: String) { emit("\(domain)| \(text)") }

    private func emit(_ text: String) {
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let stamp = String(format6(seconds))
        var line = "[\(stamp)] \(text)\n"
        monitor.locked {
            recent.append(text)
            if recent.count > 200 { recent.removeFirst(recent.count - 200) }
            line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
    }

    public var recentLines: [String] { monitor.locked { recent } }
}

/// "12.345678" without Foundation.
func format6(_ value: Double) -> String {
    let micros = Int((value * 1e6).rounded())
    let fraction = String(micros % 1_000_000)
    return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
}
