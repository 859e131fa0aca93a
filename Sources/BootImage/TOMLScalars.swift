// TOMLScalars: the single-token pieces of TOML — keys, strings, integers, booleans.
//
// Images only need a subset of TOML. Anything outside it (floats, dates,
// multi-line strings, non-decimal integers) is recognised and refused with
// "unsupported TOML: ...", rather than misread as something else.

extension TOMLCursor {
    /// One key segment: bare (`imports`), "basic" or 'literal'.
    mutating func parseSimpleKey() throws(TOMLError) -> String {
        switch current {
        case UInt8(ascii: "\""):
            if isLooking(at: "\"\"\"") { throw unsupported("multi-line strings") }
            return try parseBasicString()
        case UInt8(ascii: "'"):
            if isLooking(at: "'''") { throw unsupported("multi-line strings") }
            return try parseLiteralString()
        default:
            let key = consume(while: Self.isBareKeyByte)
            guard !key.isEmpty else { throw error("expected a key, found \(describeCurrent())") }
            return key
        }
    }

    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    // MARK: Strings

    /// A "basic string" with escapes; the cursor is on the opening quote.
    mutating func parseBasicString() throws(TOMLError) -> String {
        let openLine = line
        advance()
        var utf8: [UInt8] = []
        while true {
            guard let byte = current, !isAtNewline else {
                throw error("unterminated string (missing closing \")", line: openLine)
            }
            switch byte {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                advance()
                try appendEscape(to: &utf8)
            default:
                try rejectControlCharacter(byte)
                utf8.append(byte)
                advance()
            }
        }
    }

    /// A 'literal string': no escapes at all, which is why paths use it.
    mutating func parseLiteralString() throws(TOMLError) -> String {
        let openLine = line
        advance()
        var utf8: [UInt8] = []
        while true {
            guard let byte = current, !isAtNewline else {
                throw error("unterminated string (missing closing ')", line: openLine)
            }
            advance()
            if byte == UInt8(ascii: "'") { return String(decoding: utf8, as: UTF8.self) }
            try rejectControlCharacter(byte)
            utf8.append(byte)
        }
    }

    private func rejectControlCharacter(_ byte: UInt8) throws(TOMLError) {
        // TOML forbids raw control characters (except tab) in strings: they are invisible in an editor.
        guard byte < 0x20 && byte != UInt8(ascii: "\t") || byte == 0x7F else { return }
        let code = String(byte, radix: 16, uppercase: true)
        throw error("control character U+\(String(repeating: "0", count: 4 - code.count) + code) must be escaped")
    }

    /// The part of an escape after the backslash.
    private mutating func appendEscape(to utf8: inout [UInt8]) throws(TOMLError) {
        guard let letter = current, !isAtNewline else { throw error("unterminated escape at end of line") }
        advance()
        switch letter {
        case UInt8(ascii: "\""): utf8.append(letter)
        case UInt8(ascii: "\\"): utf8.append(letter)
        case UInt8(ascii: "n"): utf8.append(UInt8(ascii: "\n"))
        case UInt8(ascii: "t"): utf8.append(UInt8(ascii: "\t"))
        case UInt8(ascii: "r"): utf8.append(UInt8(ascii: "\r"))
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "u"): utf8.append(contentsOf: try parseUnicodeEscape(digits: 4).utf8)
        case UInt8(ascii: "U"): utf8.append(contentsOf: try parseUnicodeEscape(digits: 8).utf8)
        default:
            throw error("invalid escape '\\\(Unicode.Scalar(letter))' in string")
        }
    }

    /// `\uXXXX` or `\UXXXXXXXX`: hex digits naming a Unicode scalar (not a surrogate).
    private mutating func parseUnicodeEscape(digits: Int) throws(TOMLError) -> String {
        let escapeLetter = digits == 4 ? "u" : "U"
        var hex = ""
        for _ in 0..<digits {
            guard let byte = current, Character(Unicode.Scalar(byte)).isHexDigit else {
                throw error("\\\(escapeLetter) needs exactly \(digits) hex digits")
            }
            hex.append(Character(Unicode.Scalar(byte)))
            advance()
        }
        guard let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
            throw error("\\\(escapeLetter)\(hex.uppercased()) is not a Unicode scalar value")
        }
        return String(Character(scalar))
    }

    // MARK: Numbers and words

    /// A token starting with a digit or sign: a decimal integer, or a refused float or date.
    mutating func parseNumber() throws(TOMLError) -> TOMLValue.Kind {
        let token = consume(while: Self.isNumberTokenByte)
        try rejectUnsupportedNumber(token)
        return .integer(try decimalInteger(token))
    }

    private static func isNumberTokenByte(_ byte: UInt8) -> Bool {
        // Wide on purpose: take in whatever a float or date would contain, then classify it.
        isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    private func rejectUnsupportedNumber(_ token: String) throws(TOMLError) {
        let unsigned = token.drop { $0 == "+" || $0 == "-" }
        if token.contains(":") || Self.startsLikeDate(token) {
            throw unsupported("dates and times (\(token))")
        }
        if ["0x", "0o", "0b"].contains(where: { unsigned.hasPrefix($0) }) {
            throw unsupported("hexadecimal, octal and binary integers (\(token))")
        }
        if unsigned == "inf" || unsigned == "nan" || unsigned.contains(where: { ".eE".contains($0) }) {
            throw unsupported("floats (\(token))")
        }
    }

    /// `1979-05-27`: four digits and a dash can only be the start of a date.
    private static func startsLikeDate(_ token: String) -> Bool {
        let head = Array(token.prefix(5))
        return head.count == 5 && head[..<4].allSatisfy(\.isWholeNumber) && head[4] == "-"
    }

    /// Decimal with optional sign and `_` between digits, as TOML spells it.
    private func decimalInteger(_ token: String) throws(TOMLError) -> Int {
        let sign = token.first == "-" || token.first == "+" ? String(token.first!) : ""
        let unsigned = token.dropFirst(sign.count)
        guard !unsigned.isEmpty, unsigned.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }) else {
            throw error("invalid value '\(token)'")
        }
        guard unsigned.first != "_", unsigned.last != "_", !unsigned.contains("__") else {
            throw error("invalid integer '\(token)': '_' must sit between two digits")
        }
        guard unsigned.count == 1 || unsigned.first != "0" else {
            throw error("invalid integer '\(token)': leading zeros are not allowed")
        }
        guard let value = Int(sign + unsigned.filter { $0 != "_" }) else {
            throw error("integer '\(token)' does not fit in 64 bits")
        }
        return value
    }

    /// An unquoted word in value position: `true`, `false`, or a mistake worth explaining.
    mutating func parseWord() throws(TOMLError) -> TOMLValue.Kind {
        let start = line
        let word = consume(while: Self.isBareKeyByte)
        switch word {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "nan": throw unsupported("floats (\(word))")
        case "": throw error("expected a value, found \(describeCurrent())")
        default: throw error("expected a value, found '\(word)' (strings need quotes)", line: start)
        }
    }

    func unsupported(_ what: String) -> TOMLError {
        error("unsupported TOML: \(what)")
    }
}
