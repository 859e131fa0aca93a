// TOMLDocument: a small TOML parser for the subset boot images use.
//
// Supported: comments, bare/quoted/dotted keys, [table] and [[array-of-tables]]
// headers (dotted too), basic strings with escapes, literal strings, decimal
// integers, booleans, arrays (multi-line, trailing comma, comments) and inline
// tables. Floats, dates and multi-line strings fail with "unsupported TOML: ...".
// Structure follows TOML: duplicate keys and redefined tables are errors.

struct TOMLDocument: Sendable, Equatable {
    var root: TOMLTable

    init(parsing text: String, file: String) throws(TOMLError) {
        var parser = TOMLParser(cursor: TOMLCursor(text: text, file: file))
        root = try parser.parseDocument()
    }
}

/// The line grammar: headers, key/value pairs, and the values that nest.
private struct TOMLParser {
    /// Deep enough for any real file; shallow enough that hostile input cannot blow the stack.
    static let maximumNesting = 64

    var cursor: TOMLCursor
    let root: TOMLTableBuilder
    /// The table that key/value lines currently go into: the last header's.
    var section: TOMLTableBuilder

    init(cursor: TOMLCursor) {
        self.cursor = cursor
        root = TOMLTableBuilder(origin: .header, line: 1)
        section = root
    }

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        while true {
            try cursor.skipBlankLines()
            guard let byte = cursor.current else { return root.build() }
            if byte == UInt8(ascii: "[") {
                try parseHeader()
            } else {
                try parseKeyValue(into: section, depth: 0)
            }
            try cursor.expectEndOfLine()
        }
    }

    /// `[a.b]` or `[[a.b]]`; the cursor is on the first bracket.
    private mutating func parseHeader() throws(TOMLError) {
        let line = cursor.line
        cursor.advance()
        let isArray = cursor.consume("[")
        cursor.skipSpaces()
        let path = try parseKeyPath()
        cursor.skipSpaces()
        guard cursor.consume("]"), !isArray || cursor.consume("]") else {
            throw cursor.error("expected '\(isArray ? "]]" : "]")' to close the table header, found \(cursor.describeCurrent())")
        }
        do throws(TOMLTableBuilder.RuleViolation) {
            section = isArray
                ? try root.appendArrayElement(path, line: line)
                : try root.defineTable(path, line: line)
        } catch {
            throw cursor.error(error.message, line: line)
        }
    }

    /// `key = value`, with the key relative to `table`.
    private mutating func parseKeyValue(into table: TOMLTableBuilder, depth: Int) throws(TOMLError) {
        let line = cursor.line
        let path = try parseKeyPath()
        cursor.skipSpaces()
        guard cursor.consume("=") else {
            throw cursor.error("expected '=' after key '\(TOMLKey.display(path))', found \(cursor.describeCurrent())")
        }
        cursor.skipSpaces()
        let value = try parseValue(depth: depth)
        do throws(TOMLTableBuilder.RuleViolation) {
            try table.assign(path, value)
        } catch {
            throw cursor.error(error.message, line: line)
        }
    }

    /// `a`, `a.b`, `"quoted key".c`; spaces around the dots are allowed.
    private mutating func parseKeyPath() throws(TOMLError) -> [String] {
        var path = [try cursor.parseSimpleKey()]
        while true {
            cursor.skipSpaces()
            guard cursor.consume(".") else { return path }
            cursor.skipSpaces()
            path.append(try cursor.parseSimpleKey())
        }
    }

    private mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLValue {
        guard depth < Self.maximumNesting else {
            throw cursor.error("values nested deeper than \(Self.maximumNesting) levels")
        }
        let line = cursor.line
        return TOMLValue(try parseValueKind(depth: depth), line: line)
    }

    private mutating func parseValueKind(depth: Int) throws(TOMLError) -> TOMLValue.Kind {
        switch cursor.current {
        case UInt8(ascii: "\""):
            if cursor.isLooking(at: "\"\"\"") { throw cursor.unsupported("multi-line strings") }
            return .string(try cursor.parseBasicString())
        case UInt8(ascii: "'"):
            if cursor.isLooking(at: "'''") { throw cursor.unsupported("multi-line strings") }
            return .string(try cursor.parseLiteralString())
        case UInt8(ascii: "["):
            return try parseArray(depth: depth)
        case UInt8(ascii: "{"):
            return try parseInlineTable(depth: depth)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), .some(UInt8(ascii: "0")...UInt8(ascii: "9")):
            return try cursor.parseNumber()
        default:
            return try cursor.parseWord()
        }
    }

    /// `[ v, v, ]`: may span lines, hold comments, and end with a comma.
    private mutating func parseArray(depth: Int) throws(TOMLError) -> TOMLValue.Kind {
        let openLine = cursor.line
        cursor.advance()
        var elements: [TOMLValue] = []
        while true {
            try cursor.skipBlankLines()
            if cursor.consume("]") { return .array(elements) }
            if cursor.current == nil { throw unterminated("array", "]", openLine) }
            elements.append(try parseValue(depth: depth + 1))
            try cursor.skipBlankLines()
            if cursor.consume(",") { continue }
            if cursor.consume("]") { return .array(elements) }
            if cursor.current == nil { throw unterminated("array", "]", openLine) }
            throw cursor.error("expected ',' or ']' after an array element, found \(cursor.describeCurrent())")
        }
    }

    /// `{ a = 1, b.c = "x" }`: on one line and without a trailing comma, as in TOML 1.0.
    private mutating func parseInlineTable(depth: Int) throws(TOMLError) -> TOMLValue.Kind {
        let openLine = cursor.line
        cursor.advance()
        let table = TOMLTableBuilder(origin: .inline, line: openLine)
        cursor.skipSpaces()
        if cursor.consume("}") { return .table(table.build()) }
        while true {
            cursor.skipSpaces()
            try parseKeyValue(into: table, depth: depth + 1)
            cursor.skipSpaces()
            if cursor.consume("}") { return .table(table.build()) }
            guard cursor.consume(",") else {
                if cursor.current == nil || cursor.isAtNewline { throw unterminated("inline table", "}", openLine) }
                throw cursor.error("expected ',' or '}' in an inline table, found \(cursor.describeCurrent())")
            }
            cursor.skipSpaces()
            if cursor.current == UInt8(ascii: "}") {
                throw cursor.error("a trailing comma is not allowed in an inline table")
            }
        }
    }

    private func unterminated(_ what: String, _ closer: String, _ openLine: Int) -> TOMLError {
        let hint = what == "inline table" ? "; inline tables must close on the line they open" : ""
        return cursor.error("unterminated \(what) opened on line \(openLine) (missing '\(closer)'\(hint))", line: openLine)
    }
}
