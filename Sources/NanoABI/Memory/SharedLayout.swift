// SharedLayout: every piece of memory two processes share is described by one enum
// whose raw values are the fields' byte offsets. The accessors (TrapCell.procedure, ...)
// compute their addresses from those raw values, and `nkctl layout` and
// docs/layout.md print the same enums, so the diagrams cannot drift from the code
// (LayoutTests checks docs/layout.md against `SharedLayouts.markdown`).

/// One field of a shared layout: its offset is the case's raw value.
public protocol SharedLayoutField: CaseIterable, RawRepresentable, Sendable where RawValue == Int {
    /// What this layout is, e.g. "trap cell".
    static var layoutName: String { get }
    /// Bytes the layout occupies (one record, cell or header).
    static var layoutSize: Int { get }
    /// Where the layout lives and who maps it.
    static var layoutPlacement: String { get }
    var size: Int { get }
    /// Who writes the field (everyone else only reads it).
    var writer: String { get }
    var meaning: String { get }
}

public struct LayoutRow: Codable, Sendable, Equatable {
    public let offset: Int
    public let size: Int
    public let name: String
    public let writer: String
    public let meaning: String
}

public struct LayoutTable: Codable, Sendable, Equatable {
    public let name: String
    public let size: Int
    public let placement: String
    public let rows: [LayoutRow]
}

extension SharedLayoutField {
    public static var table: LayoutTable {
        let rows = allCases.map { LayoutRow(offset: $0.rawValue, size: $0.size, name: "\($0)", writer: $0.writer, meaning: $0.meaning) }
        return LayoutTable(name: layoutName, size: layoutSize, placement: layoutPlacement,
                           rows: rows.sorted { $0.offset < $1.offset })
    }
}

extension LayoutTable {
    /// Fields that overlap, run past the layout's end, or sit at a misaligned offset; empty when the layout is sound.
    public var defects: [String] {
        var found: [String] = []
        for (a, b) in zip(rows, rows.dropFirst()) where a.offset + a.size > b.offset {
            found.append("\(name): \(a.name) overlaps \(b.name)")
        }
        for r in rows where r.offset + r.size > size { found.append("\(name): \(r.name) runs past byte \(size)") }
        for r in rows where r.size > 0 && r.size <= 8 && r.offset % r.size != 0 { found.append("\(name): \(r.name) is misaligned") }
        return found
    }

    /// A byte diagram: one line per field, with the unused gaps shown.
    public var diagram: String {
        var lines = ["\(name) (\(size) bytes; \(placement))",
                     "  offset  size  field                 written by                 meaning"]
        var next = 0
        for r in rows {
            if r.offset > next { lines.append(Self.line(next, r.offset - next, "(unused)", "-", "")) }
            lines.append(Self.line(r.offset, r.size, r.name, r.writer, r.meaning))
            next = r.offset + r.size
        }
        if next < size { lines.append(Self.line(next, size - next, "(unused)", "-", "")) }
        return lines.joined(separator: "\n")
    }

    private static func line(_ offset: Int, _ size: Int, _ name: String, _ writer: String, _ meaning: String) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        let off = String(offset), sz = size == 0 ? "n" : String(size)
        return "  " + String(repeating: " ", count: max(0, 6 - off.count)) + off + "  "
            + String(repeating: " ", count: max(0, 4 - sz.count)) + sz + "  " + pad(name, 22) + pad(writer, 27) + meaning
    }
}

/// Every shared layout of the runtime, in the order a call meets them.
public enum SharedLayouts {
    public static var all: [LayoutTable] {
        [AStackSlotField.table, TrapPageField.table, TrapCellField.table, CallReportField.table,
         CallRecordsField.table, CallRecordField.table]
    }

    /// docs/layout.md, exactly.
    public static func markdown() -> String {
        var text = """
            # Shared memory layouts

            Generated from the layout enums in `Sources/NanoABI/Memory` by `nkctl layout --markdown`;
            a test fails if this file and the code disagree. Every offset is in bytes from the start
            of the record; words are little-endian and accessed atomically. "client", "server" and
            "kernel" say which process writes a field: the others only read it, and the kernel
            copies anything a domain wrote before it trusts it.

            """
        for table in all { text += "\n```\n" + table.diagram + "\n```\n" }
        return text + "\n" + valueLayouts
    }

    /// Every field kind and how a field of it sits in a payload (`nkctl layout` prints it too).
    public static var fieldKinds: String {
        (["kind   placement"] + FieldKind.allCases.map { kind in
            kind.rawValue + String(repeating: " ", count: max(1, 7 - kind.rawValue.count)) + kind.placement
        }).joined(separator: "\n")
    }

    /// How a procedure's arguments and results sit in an A-stack slot's payload: the
    /// field kinds of `FieldLayout` (Sources/NanoABI/Interface), printed from them.
    static var valueLayouts: String {
        return """
            ## A-stack values

            A procedure's arguments and results are copied field by field into the payload, in the
            order of the procedure descriptor's layout (`FieldLayout`, `Sources/NanoABI/Interface`),
            each field at the next offset that is a multiple of its alignment. The layout travels as a
            signature such as `a:i32,entries:list[16]{name:text[64],size:u64}`. A list's element is a
            layout of its own, its fields named relative to the element (a nameless field is an
            element that is a single value: `ids:list[8]{u32}`), padded to its alignment so that
            every element starts aligned. For example `items:list[8]{key:text[8],value:u64}`
            (`bench.sortPairs`): the count at 0, element i at 8 + 24 i (key length, 8 key bytes,
            value at +16), 200 bytes in all.

            A layout read from a peer is refused past \(FieldLayout.maximumFields) fields in all (a list's
            element fields counted once each, with the list), a capacity outside
            1...\(Field.maximumCapacity), or a list larger than \(Field.maximumCapacity) bytes; a count or a
            length read from an A-stack over its field's capacity is malformed.

            ```
            \(fieldKinds)
            ```

            """
    }
}
