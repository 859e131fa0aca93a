// TOMLTableBuilder: the mutable table tree behind a parse, enforcing TOML's rule
// that every table is defined exactly once.
//
// A table can come into being four ways — its own [header], an [[array]] element,
// a dotted key (a.b = 1), or an inline { } — and TOML forbids most mixtures of
// them. Remembering how each table was created is what lets those rules be checked.

final class TOMLTableBuilder {
    enum Origin {
        /// Named only as a parent in a header, like `a` in [a.b]; a later [a] may still define it.
        case implicit
        /// Defined by its own [header] (the root counts as one).
        case header
        /// One element of an [[array of tables]].
        case arrayElement
        /// Created by a dotted key such as `a.b = 1`.
        case dotted
        /// Written as { ... }: complete as it stands.
        case inline
    }

    enum Slot {
        case value(TOMLValue)
        case table(TOMLTableBuilder)
        case tableArray([TOMLTableBuilder], line: Int)

        var line: Int {
            switch self {
            case .value(let value): value.line
            case .table(let table): table.line
            case .tableArray(_, let line): line
            }
        }
    }

    /// Why a header or key is not allowed where it stands; the parser adds file and line.
    struct RuleViolation: Error {
        var message: String
    }

    private(set) var origin: Origin
    private(set) var line: Int
    /// Full key path from the root, for messages; an inline table's starts at itself.
    let path: [String]
    private var order: [String] = []
    private var slots: [String: Slot] = [:]

    init(origin: Origin, line: Int, path: [String] = []) {
        self.origin = origin
        self.line = line
        self.path = path
    }

    private func set(_ key: String, _ slot: Slot) {
        if slots[key] == nil { order.append(key) }
        slots[key] = slot
    }

    /// The finished, immutable table.
    func build() -> TOMLTable {
        TOMLTable(line: line, entries: order.map { key in (key, Self.value(of: slots[key]!)) })
    }

    private static func value(of slot: Slot) -> TOMLValue {
        switch slot {
        case .value(let value):
            value
        case .table(let table):
            TOMLValue(.table(table.build()), line: table.line)
        case .tableArray(let elements, let line):
            TOMLValue(.array(elements.map { TOMLValue(.table($0.build()), line: $0.line) }), line: line)
        }
    }
}

// MARK: - The rules

extension TOMLTableBuilder {
    /// `[a.b.c]`: defines the table, once.
    func defineTable(_ path: [String], line: Int) throws(RuleViolation) -> TOMLTableBuilder {
        let parent = try parentForHeader(path, line: line)
        let key = path[path.count - 1]
        let name = TOMLKey.display(path)
        switch parent.slots[key] {
        case nil:
            let table = TOMLTableBuilder(origin: .header, line: line, path: path)
            parent.set(key, .table(table))
            return table
        case .table(let table) where table.origin == .implicit:
            // Until now only a parent in another header; this header is its definition.
            table.origin = .header
            table.line = line
            return table
        case .table(let table) where table.origin == .dotted:
            throw RuleViolation(message: "table [\(name)] is already defined by dotted keys on line \(table.line)")
        case .table(let table):
            throw RuleViolation(message: "table [\(name)] is already defined on line \(table.line)")
        case .tableArray(_, let firstLine):
            throw RuleViolation(message: "[\(name)] is already an array of tables ([[\(name)]] on line \(firstLine))")
        case .value(let value):
            throw Self.notATable(name, value)
        }
    }

    /// `[[a.b]]`: starts a new element of the array of tables.
    func appendArrayElement(_ path: [String], line: Int) throws(RuleViolation) -> TOMLTableBuilder {
        let parent = try parentForHeader(path, line: line)
        let key = path[path.count - 1]
        let name = TOMLKey.display(path)
        let element = TOMLTableBuilder(origin: .arrayElement, line: line, path: path)
        switch parent.slots[key] {
        case nil:
            parent.set(key, .tableArray([element], line: line))
        case .tableArray(let elements, let firstLine):
            parent.set(key, .tableArray(elements + [element], line: firstLine))
        case .table(let table):
            throw RuleViolation(message: "[[\(name)]] cannot add to [\(name)], a table defined on line \(table.line)")
        case .value(let value):
            throw Self.notATable(name, value)
        }
        return element
    }

    /// Walks a header's parents, creating the missing ones. Per TOML, a parent that is
    /// an array of tables means its last element: [x.y] after [[x]] belongs to that element.
    private func parentForHeader(_ path: [String], line: Int) throws(RuleViolation) -> TOMLTableBuilder {
        var table = self
        for depth in 0..<(path.count - 1) {
            let key = path[depth]
            switch table.slots[key] {
            case nil:
                let child = TOMLTableBuilder(origin: .implicit, line: line, path: Array(path[...depth]))
                table.set(key, .table(child))
                table = child
            case .table(let child):
                table = child
            case .tableArray(let elements, _):
                table = elements[elements.count - 1]
            case .value(let value):
                throw Self.notATable(TOMLKey.display(path[...depth]), value)
            }
        }
        return table
    }

    /// `a.b.c = value`, relative to this table (the current section or an inline table).
    func assign(_ path: [String], _ value: TOMLValue) throws(RuleViolation) {
        var table = self
        for key in path.dropLast() {
            table = try table.childForDottedKey(key, line: value.line)
        }
        let key = path[path.count - 1]
        if let existing = table.slots[key] {
            let name = TOMLKey.display(table.path + [key])
            throw RuleViolation(message: "duplicate key '\(name)' (first defined on line \(existing.line))")
        }
        table.set(key, .value(value))
    }

    /// A dotted key may create tables and add to ones it created, but not reopen a
    /// table that a [header] or [[header]] already defined.
    private func childForDottedKey(_ key: String, line: Int) throws(RuleViolation) -> TOMLTableBuilder {
        let name = TOMLKey.display(path + [key])
        switch slots[key] {
        case nil:
            let child = TOMLTableBuilder(origin: .dotted, line: line, path: path + [key])
            set(key, .table(child))
            return child
        case .table(let child) where child.origin == .dotted || child.origin == .implicit:
            // Once a dotted key adds to it, a later [header] may no longer define it.
            child.origin = .dotted
            return child
        case .table(let child):
            throw RuleViolation(message: "a dotted key cannot add to table [\(name)], defined on line \(child.line)")
        case .tableArray(_, let firstLine):
            throw RuleViolation(message: "a dotted key cannot add to [[\(name)]], an array of tables (line \(firstLine))")
        case .value(let value):
            throw Self.notATable(name, value)
        }
    }

    private static func notATable(_ name: String, _ value: TOMLValue) -> RuleViolation {
        if case .table = value.kind {
            return RuleViolation(message: "'\(name)' is an inline table (line \(value.line)) and cannot be extended")
        }
        return RuleViolation(message: "'\(name)' is already \(value.typeNameWithArticle) (line \(value.line)), not a table")
    }
}

/// How keys are written back in messages: bare when possible, quoted otherwise.
enum TOMLKey {
    static func display(_ path: some Sequence<String>) -> String {
        path.map { key in
            let isBare = !key.isEmpty && key.utf8.allSatisfy(TOMLCursor.isBareKeyByte)
            return isBare ? key : String(reflecting: key)
        }.joined(separator: ".")
    }
}
