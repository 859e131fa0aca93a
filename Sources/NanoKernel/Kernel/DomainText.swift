// DomainText: a string that came from a domain (an interface or procedure name, a
// refusal reason, a requested name), made safe before the kernel logs, stores, shows or
// sends it: control characters (which could forge a log line or drive a terminal) become
// visible escapes, and the whole is cut to a bound so no reply or log line can grow
// with it.
enum DomainText {
    /// Longest text from a domain the kernel repeats anywhere.
    static let limit = 200

    static func safe(_ text: String, limit: Int = limit) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            let piece = mustEscape(scalar) ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
            count += piece.utf8.count
            guard count <= limit else { return out + "…" }
            out += piece
        }
        return out
    }

    /// Control characters (which could forge a log line or drive a terminal) and the
    /// direction overrides (which could make a line read differently from its bytes).
    static func mustEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7f...0x9f, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069: true
        default: false
        }
    }
}
