// TOMLCursor: walks the UTF-8 bytes of a document and counts lines.
//
// All of TOML's syntax is ASCII, so the parser works on bytes and decodes UTF-8
// only inside strings and for error messages.

struct TOMLCursor {
    let file: String
    private let bytes: [UInt8]
    private(set) var index = 0
    /// The 1-based line of the byte at `index`.
    private(set) var line = 1

    init(text: String, file: String) {
        self.file = file
        self.bytes = Array(text.utf8)
        // Editors on some systems still write a byte-order mark; it is not content.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    var current: UInt8? { byte(ahead: 0) }

    func byte(ahead offset: Int) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    func isLooking(at text: String) -> Bool {
        bytes[index...].starts(with: text.utf8)
    }

    mutating func advance() {
        if bytes[index] == UInt8(ascii: "\n") { line += 1 }
        index += 1
    }

    /// Consumes `byte` if it is next; says whether it did.
    mutating func consume(_ byte: Unicode.Scalar) -> Bool {
        guard current == UInt8(ascii: byte) else { return false }
        advance()
        return true
    }

    /// Consumes bytes while `predicate` holds and returns them as text.
    mutating func consume(while predicate: (UInt8) -> Bool) -> String {
        let start = index
        while let byte = current, predicate(byte) { advance() }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Spaces and tabs: the only whitespace allowed inside a line.
    mutating func skipSpaces() {
        while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { advance() }
    }

    /// A `#` comment runs to the end of the line; the newline itself stays.
    mutating func skipComment() {
        guard current == UInt8(ascii: "#") else { return }
        while let byte = current, byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") { advance() }
    }

    /// Consumes one LF or CRLF newline; says whether there was one.
    mutating func consumeNewline() -> Bool {
        if current == UInt8(ascii: "\r"), byte(ahead: 1) == UInt8(ascii: "\n") { advance() }
        return consume("\n")
    }

    var isAtNewline: Bool { current == UInt8(ascii: "\n") || current == UInt8(ascii: "\r") }

    /// Skips spaces, comments and whole lines: between statements and inside arrays.
    mutating func skipBlankLines() throws(TOMLError) {
        while true {
            skipSpaces()
            skipComment()
            if consumeNewline() { continue }
            if current == UInt8(ascii: "\r") { throw error("a carriage return must be followed by a newline") }
            return
        }
    }

    /// After a statement only a comment may follow on the same line.
    mutating func expectEndOfLine() throws(TOMLError) {
        skipSpaces()
        skipComment()
        guard current == nil || consumeNewline() else {
            throw error("expected end of line, found \(describeCurrent())")
        }
    }

    /// What is at the cursor, in words: "'x'", "end of line", "end of file".
    func describeCurrent() -> String {
        guard let first = current else { return "end of file" }
        if isAtNewline { return "end of line" }
        // Show a whole UTF-8 character, not its first byte.
        let length = first < 0x80 ? 1 : first < 0xE0 ? 2 : first < 0xF0 ? 3 : 4
        let end = min(bytes.count, index + length)
        return "'" + String(decoding: bytes[index..<end], as: UTF8.self) + "'"
    }

    func error(_ message: String, line: Int? = nil) -> TOMLError {
        TOMLError(file: file, line: line ?? self.line, message: message)
    }
}
