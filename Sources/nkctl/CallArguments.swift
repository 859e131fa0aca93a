// `nkctl call TARGET ARGS...`: ArgumentParser passes everything after the target through
// (so `bench.add -5 7` keeps its negative number), and `call`'s own options may still
// follow the target, as they may follow any other command's arguments. They are taken out
// here. `--` ends them: every word after it is a procedure argument, even one that looks
// like an option (`nkctl call file.write notes -- --socket`).
import LRPC

struct CallArguments: Equatable {
    var socket: String?
    var json = false
    var transport: Transport?
    var timeout: Double?
    /// The procedure's arguments, in order.
    var values: [String] = []

    /// `call`'s options that take a value.
    static let valueOptions = ["--socket", "--transport", "--timeout"]

    init(_ words: [String]) throws(UsageFailure) {
        var rest = words[...]
        while let word = rest.popFirst() {
            if word == "--" {
                values += rest
                return
            }
            if word == "--json" {
                json = true
                continue
            }
            let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            guard Self.valueOptions.contains(name) else {
                values.append(word)
                continue
            }
            let value: String
            if word.count > name.count {
                value = String(word.dropFirst(name.count + 1))
            } else if let next = rest.popFirst() {
                value = next
            } else {
                throw UsageFailure("\(name) needs a value (to pass '\(name)' to the procedure, put it after --)")
            }
            try set(name, value)
        }
    }

    private mutating func set(_ name: String, _ value: String) throws(UsageFailure) {
        switch name {
        case "--socket":
            socket = value
        case "--transport":
            guard let t = Transport(rawValue: value) else {
                throw UsageFailure("--transport must be \(Transport.allCases.map(\.rawValue).joined(separator: " or ")), got '\(TerminalText.line(value))'")
            }
            transport = t
        default:
            guard let seconds = Double(value) else {
                throw UsageFailure("--timeout must be a number of seconds, got '\(TerminalText.line(value))'")
            }
            timeout = seconds
        }
    }

    /// An option given both before and after the target must agree.
    static func merged<T: Equatable>(_ before: T?, _ after: T?, option: String) throws(UsageFailure) -> T? {
        if let before, let after, before != after { throw UsageFailure("\(option) is given twice, with different values") }
        return after ?? before
    }
}
