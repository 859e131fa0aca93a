// ImageSection: reads one TOML table as one section of the boot-image schema.
//
// Each getter returns a typed value or throws an ImageError naming the field and
// its line, so the decoders read like the schema they implement.

/// A value and the line it was written on, kept past parsing for cross-checks.
struct Located<Value: Sendable & Equatable>: Sendable, Equatable {
    var value: Value
    var line: Int
}

struct ImageSection {
    /// Every string becomes a C string, a path or a process argument: bounded, no NUL
    /// (which would silently cut it short), and lists bounded too.
    static let maximumStringBytes = 4096
    static let maximumListLength = 64

    let path: String
    let table: TOMLTable
    /// How messages name this section: "image", "service 'clock'", "service[2].sandbox".
    let label: String

    func field(_ key: String) -> String { "\(label).\(key)" }

    /// An error about `key` (or about the whole section when `key` is nil).
    func failure(_ key: String?, line: Int, _ message: String) -> ImageError {
        ImageError(path: path, line: line, field: key.map(field) ?? label, message: message)
    }

    /// Checked before anything else, so `nmae = "x"` reads as a typo, not a missing name.
    func rejectUnknownKeys(allowed: [String]) throws(ImageError) {
        for key in table.keys where !allowed.contains(key) {
            let hint = SpellingSuggestion.hint(for: key, in: allowed)
            throw failure(nil, line: table[key]!.line, "unknown field '\(key)'\(hint)")
        }
    }

    /// A missing required field is reported at the header of its table: that is where it belongs.
    func required(_ key: String) throws(ImageError) -> TOMLValue {
        guard let value = table[key] else { throw failure(key, line: table.line, "required field is missing") }
        return value
    }

    // MARK: Typed fields

    func string(_ key: String) throws(ImageError) -> Located<String>? {
        try table[key].map { value throws(ImageError) in try string(value, key) }
    }

    func requiredString(_ key: String) throws(ImageError) -> Located<String> {
        let value = try string(try required(key), key)
        guard !value.value.isEmpty else { throw failure(key, line: value.line, "must not be empty") }
        return value
    }

    /// An array of strings; absent means empty.
    func strings(_ key: String) throws(ImageError) -> [Located<String>] {
        guard let value = table[key] else { return [] }
        guard case .array(let elements) = value.kind else {
            throw failure(key, line: value.line, "expected an array of strings, got \(Self.describe(value))")
        }
        guard elements.count <= Self.maximumListLength else {
            throw failure(key, line: value.line, "lists \(elements.count) entries; at most \(Self.maximumListLength)")
        }
        var strings: [Located<String>] = []
        for (position, element) in elements.enumerated() {
            guard case .string(let text) = element.kind else {
                throw failure(key, line: element.line,
                              "expected an array of strings, but element \(position + 1) is \(Self.describe(element))")
            }
            strings.append(try checked(Located(value: text, line: element.line), key))
        }
        return strings
    }

    /// A positive integer up to `maximum`: a value past what the field can mean is an
    /// error, never quietly something else (2^44 MiB is no limit once counted in bytes).
    func positiveInteger(_ key: String, atMost maximum: Int) throws(ImageError) -> Int? {
        guard let value = table[key] else { return nil }
        guard case .integer(let number) = value.kind, number > 0 else {
            throw failure(key, line: value.line, "expected a positive integer, got \(Self.describe(value))")
        }
        guard number <= maximum else {
            throw failure(key, line: value.line, "expected at most \(maximum), got \(number)")
        }
        return number
    }

    /// An integer that must lie in `range`: supervision and deadline fields.
    func integer(_ key: String, in range: ClosedRange<Int>) throws(ImageError) -> Int? {
        guard let value = table[key] else { return nil }
        return try integer(value, key, in: range)
    }

    func integer(_ value: TOMLValue, _ key: String, in range: ClosedRange<Int>) throws(ImageError) -> Int {
        guard case .integer(let number) = value.kind, range.contains(number) else {
            throw failure(key, line: value.line,
                          "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(Self.describe(value))")
        }
        return number
    }

    func boolean(_ key: String) throws(ImageError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard case .boolean(let flag) = value.kind else {
            throw failure(key, line: value.line, "expected true or false, got \(Self.describe(value))")
        }
        return flag
    }

    /// A string naming one of `cases`, such as a restart policy.
    func choice<Choice>(_ key: String, among cases: [Choice]) throws(ImageError) -> Choice?
    where Choice: RawRepresentable, Choice.RawValue == String {
        try table[key].map { value throws(ImageError) in try choice(value, key, among: cases) }
    }

    /// A sub-table such as a service's [service.sandbox].
    func subsection(_ key: String, label: String) throws(ImageError) -> ImageSection? {
        guard let value = table[key] else { return nil }
        guard case .table(let subtable) = value.kind else {
            throw failure(key, line: value.line, "expected a table, got \(Self.describe(value))")
        }
        return ImageSection(path: path, table: subtable, label: label)
    }

    // MARK: Single values, also used for array elements

    func string(_ value: TOMLValue, _ key: String) throws(ImageError) -> Located<String> {
        guard case .string(let text) = value.kind else {
            throw failure(key, line: value.line, "expected a string, got \(Self.describe(value))")
        }
        return try checked(Located(value: text, line: value.line), key)
    }

    private func checked(_ text: Located<String>, _ key: String) throws(ImageError) -> Located<String> {
        if text.value.utf8.contains(0) {
            throw failure(key, line: text.line, "contains a NUL character, which would cut it short")
        }
        guard text.value.utf8.count <= Self.maximumStringBytes else {
            throw failure(key, line: text.line, "is \(text.value.utf8.count) bytes long; at most \(Self.maximumStringBytes)")
        }
        return text
    }

    /// The cases are passed in, in the order messages list them, because not every
    /// model enum is CaseIterable.
    func choice<Choice>(_ value: TOMLValue, _ key: String, among cases: [Choice]) throws(ImageError) -> Choice
    where Choice: RawRepresentable, Choice.RawValue == String {
        guard case .string(let text) = value.kind else {
            throw failure(key, line: value.line, "expected one of \(Self.names(cases)), got \(Self.describe(value))")
        }
        return try choice(Located(value: text, line: value.line), key, among: cases)
    }

    func choice<Choice>(_ text: Located<String>, _ key: String, among cases: [Choice]) throws(ImageError) -> Choice
    where Choice: RawRepresentable, Choice.RawValue == String {
        if let chosen = cases.first(where: { $0.rawValue == text.value }) { return chosen }
        let hint = SpellingSuggestion.hint(for: text.value, in: cases.map(\.rawValue))
        throw failure(key, line: text.line,
                      "expected one of \(Self.names(cases)), got \(String(reflecting: text.value))\(hint)")
    }

    private static func names<Choice>(_ cases: [Choice]) -> String
    where Choice: RawRepresentable, Choice.RawValue == String {
        cases.map(\.rawValue).joined(separator: ", ")
    }

    /// Each list entry once: a repeated interface or mechanism is almost always a slip.
    func rejectDuplicates(_ entries: [Located<String>], _ key: String) throws(ImageError) {
        var firstLines: [String: Int] = [:]
        for entry in entries {
            if let firstLine = firstLines[entry.value] {
                throw failure(key, line: entry.line, "'\(entry.value)' is listed twice (first on line \(firstLine))")
            }
            firstLines[entry.value] = entry.line
        }
    }

    /// A value as a message shows it: strings quoted, other types named.
    static func describe(_ value: TOMLValue) -> String {
        switch value.kind {
        case .string(let text): String(reflecting: text)
        case .integer(let number): "integer \(number)"
        case .boolean(let flag): "boolean \(flag)"
        case .array: "an array"
        case .table: "a table"
        }
    }
}
