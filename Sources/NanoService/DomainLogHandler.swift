// DomainLogHandler: swift-log for a service domain. Each log call becomes one line on
// stderr, written with one write(2); the kernel reads the domain's stderr, prefixes each
// line with the domain's name, strips control characters and rate-limits it (see
// DomainOutput). Newlines inside a message are escaped here so one call stays one line.
import Glibc
import Logging

public struct DomainLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String) { self.label = label }

    /// Route every Logger in this process here. Call once, first thing in main.
    public static func bootstrap() {
        LoggingSystem.bootstrap(DomainLogHandler.init)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let fields = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        var line = "\(event.level) \(label): \(event.message)\(fields)"
        line = line.replacingOccurrences(of: "\n", with: "\\n") + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

private extension String {
    func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
