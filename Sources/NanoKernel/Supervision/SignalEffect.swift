// Will a signal the operator sends (`nkctl kill SERVICE --signal S`) take effect? A service
// is the init of its pid namespace, and Linux drops a signal sent from outside to an init
// unless it is SIGKILL or SIGSTOP or the init has a handler for it (SIGCONT still continues
// it). The kernel reads what the process handles and ignores (/proc/PID/status) and refuses
// a signal that would be dropped, with the reason, instead of saying it was sent.
import Foundation
import Glibc

enum SignalEffect {
    /// Why `signal` (named `label`) sent to `pid` would do nothing, or nil if it takes
    /// effect (or the process cannot be read: then it is sent and the kernel says so).
    static func ineffective(_ signal: Int32, label: String, service: String, pid: pid_t) -> String? {
        guard signal != SIGKILL, signal != SIGSTOP, signal != SIGCONT,
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let fields = parse(status)
        let bit = UInt64(1) << UInt64(signal - 1)
        if let ignored = fields["SigIgn"].flatMap({ UInt64($0, radix: 16) }), ignored & bit != 0 {
            return "\(label) would have no effect: \(service) ignores it"
        }
        let handled = fields["SigCgt"].flatMap { UInt64($0, radix: 16) } ?? 0
        let isInit = fields["NSpid"]?.split(whereSeparator: \.isWhitespace).last == "1"
        if isInit && handled & bit == 0 {
            return "\(label) would have no effect: \(service) is the init of its pid namespace and has no handler for it, "
                + "so Linux drops it (KILL, STOP, CONT and the signals a service handles take effect)"
        }
        return nil
    }

    /// "Name:\tvalue" lines.
    static func parse(_ status: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in status.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }
}
