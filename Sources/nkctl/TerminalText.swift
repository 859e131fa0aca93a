// TerminalText: what nkctl prints that a service wrote (results, errors, names and events
// in the status table) is hostile input. Printed raw, an escape sequence could rewrite
// the operator's screen or title, and a newline could forge a line of nkctl's own. Every
// control character (C0, DEL, C1) and every bidirectional override becomes a visible
// escape instead.
enum TerminalText {
    /// One line: newlines and tabs become visible too ("\n", "\t").
    static func line(_ text: String) -> String { neutralise(text, keepingLineBreaks: false) }

    /// Several lines (nkctl's own messages that quote a service): line breaks stay,
    /// every other control character becomes visible.
    static func lines(_ text: String) -> String { neutralise(text, keepingLineBreaks: true) }

    /// JSON already escapes C0; this escapes DEL, C1 and bidi overrides as \uXXXX too,
    /// which stays valid JSON (they can only occur inside strings).
    static func json(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isHostile(scalar) && scalar.value >= 0x20 {
                out.append(contentsOf: ("\\u" + hex(scalar.value, digits: 4)).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private static func neutralise(_ text: String, keepingLineBreaks: Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if keepingLineBreaks && (scalar == "\n" || scalar == "\t") {
                out.append(scalar)
                continue
            }
            guard isHostile(scalar) else {
                out.append(scalar)
                continue
            }
            let visible: String = switch scalar {
            case "\n": "\\n"
            case "\r": "\\r"
            case "\t": "\\t"
            default: scalar.value <= 0xff ? "\\x" + hex(scalar.value, digits: 2) : "\\u{" + hex(scalar.value, digits: 4) + "}"
            }
            out.append(contentsOf: visible.unicodeScalars)
        }
        return String(out)
    }

    /// C0 controls, DEL, C1 controls, and the characters that reorder displayed text.
    static func isHostile(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7f...0x9f: true
        case 0x061c, 0x200e, 0x200f, 0x202a...0x202e, 0x2066...0x2069: true
        default: false
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
