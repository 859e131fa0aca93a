// TOMLValue: a parsed TOML document as plain data.
//
// Every value keeps the line it was defined on, because the files are edited by
// hand and an error is only useful when it points at the place to fix.

/// One parsed TOML value and the line it was defined on.
struct TOMLValue: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        /// A plain array, or the elements of an array of tables ([[name]]).
        case array([TOMLValue])
        /// A [header] table, a table made by dotted keys, an inline { } table,
        /// or one element of an array of tables.
        case table(TOMLTable)
    }

    var kind: Kind
    /// 1-based line where the value starts; for a table, the line of its header.
    var line: Int

    init(_ kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
    }

    /// The TOML type name, for messages.
    var typeName: String {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }

    /// "a string", "an integer": the type name as a sentence needs it.
    var typeNameWithArticle: String {
        typeName == "integer" || typeName == "array" ? "an \(typeName)" : "a \(typeName)"
    }
}

/// A TOML table: its keys in definition order, and the line that opened it.
struct TOMLTable: Sendable, Equatable {
    /// Line of the table's header (or of the key that created it); line 1 for the root.
    var line: Int
    /// Keys in the order they appear in the file, so errors come out in file order.
    private(set) var keys: [String]
    private var values: [String: TOMLValue]

    init(line: Int, entries: [(key: String, value: TOMLValue)]) {
        self.line = line
        self.keys = entries.map(\.key)
        self.values = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value) })
    }

    subscript(key: String) -> TOMLValue? { values[key] }

    var isEmpty: Bool { keys.isEmpty }
}
