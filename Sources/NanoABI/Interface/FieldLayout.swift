// FieldLayout: the fixed layout of a procedure's arguments or results, as a list of
// typed fields. It travels in the procedure descriptor list, so a generic client (nkctl)
// can fill an A-stack for any procedure, and it fixes the A-stack size at export time.
//
// Fields are placed in order at their natural alignment. A `bytes`/`text` field is a
// 32-bit length followed by `capacity` bytes: a bounded payload, never a pointer. A
// `list` field is a 32-bit count followed by `capacity` elements, each laid out by the
// field's `element` layout (its own fields, in order) and padded to that layout's
// alignment: a list of 100 structs is one field and its element's few, never 100 copies.

public enum FieldKind: String, Sendable, Equatable, CaseIterable {
    case int32 = "i32"
    case uint32 = "u32"
    case int64 = "i64"
    case uint64 = "u64"
    case float64 = "f64"
    case bool
    case bytes
    case text
    case list

    /// A list's own alignment also depends on its element: see `Field.alignment`.
    public var alignment: Int {
        switch self {
        case .int64, .uint64, .float64: 8
        case .bool: 1
        default: 4
        }
    }

    /// Kinds whose field has a capacity (bytes, elements).
    public var isBounded: Bool { self == .bytes || self == .text || self == .list }

    /// One line per kind: how a field of the kind sits in an A-stack (docs/layout.md).
    public var placement: String {
        switch self {
        case .int32, .uint32: "4 bytes, little-endian, 4-aligned"
        case .int64, .uint64: "8 bytes, little-endian, 8-aligned"
        case .float64: "8 bytes, IEEE 754 bit pattern, little-endian, 8-aligned"
        case .bool: "1 byte, 0 or 1"
        case .bytes: "u32 length, then capacity bytes (always reserved), 4-aligned"
        case .text: "as bytes; the bytes are UTF-8"
        case .list: "u32 count, then capacity elements of the element layout, each padded to its alignment; aligned to max(4, element alignment)"
        }
    }
}

public struct Field: Sendable, Equatable {
    /// The largest bytes/text field, the longest list and the largest list: no A-stack is
    /// larger (ControlDecoder refuses more). A layout read from a peer is bounded by it,
    /// so its size cannot overflow.
    public static let maximumCapacity = 1 << 20

    public let name: String
    public let kind: FieldKind
    /// Maximum byte count of a bytes/text field, element count of a list; 0 for scalars.
    public let capacity: Int
    /// The layout of one element of a list; nil for every other kind.
    public let element: FieldLayout?
    /// Bytes this field occupies (its alignment padding before it aside).
    public let size: Int
    /// The offset this field starts at is a multiple of it.
    public let alignment: Int

    public init(_ name: String, _ kind: FieldKind, capacity: Int = 0) {
        self.name = name
        self.kind = kind
        self.capacity = capacity
        element = nil
        alignment = kind.alignment
        switch kind {
        case .int64, .uint64, .float64: size = 8
        case .int32, .uint32: size = 4
        case .bool: size = 1
        // Saturating: a hostile capacity is refused where it is parsed, but a layout
        // built in code must not trap before it is checked.
        case .bytes, .text, .list: size = capacity > Int.max - 4 ? Int.max : 4 + max(capacity, 0)
        }
    }

    /// A list of at most `capacity` elements laid out as `element`.
    public init(_ name: String, list element: FieldLayout, capacity: Int) {
        self.name = name
        kind = .list
        self.capacity = capacity
        self.element = element
        alignment = max(4, element.alignment)
        let (elements, overflow) = max(capacity, 0).multipliedReportingOverflow(by: element.stride)
        size = overflow || elements > Int.max - alignment ? Int.max : align(4, alignment) + elements
    }

    /// The same field under another name (a nested value's field, "outer.inner").
    public func renamed(_ newName: String) -> Field {
        guard let element else { return Field(newName, kind, capacity: capacity) }
        return Field(newName, list: element, capacity: capacity)
    }

    /// "name:i32", "name:text[64]" or "name:list[16]{key:text[8],value:u64}": the form
    /// used in signatures and usage lines. An element's nameless field is its kind alone
    /// ("ids:list[8]{u32}").
    public var signature: String {
        var kindText = kind.rawValue
        if kind.isBounded { kindText += "[\(capacity)]" }
        if let element { kindText += "{\(element.signature)}" }
        return name.isEmpty ? kindText : "\(name):\(kindText)"
    }

    public init?(signature: Substring) {
        var parser = FieldSignatureParser(signature)
        guard let field = parser.field(depth: 0), parser.atEnd, !field.name.isEmpty else { return nil }
        self = field
    }
}

public struct FieldLayout: Sendable, Equatable {
    /// The most fields a layout read from a peer may have, counting a list's element
    /// fields (once each) with the list.
    public static let maximumFields = 64

    public let fields: [Field]

    public init(_ fields: [Field]) { self.fields = fields }

    public static let empty = FieldLayout([])

    /// The most bytes a value of this layout occupies in an A-stack.
    public var size: Int { end(from: 0) }

    /// Where a value of this layout ends when it starts at `offset` (each field aligned).
    /// Saturates at Int.max: a layout built in code is checked only when it is parsed.
    @inlinable
    public func end(from offset: Int) -> Int {
        var offset = offset
        for f in fields {
            guard offset <= Int.max - f.alignment, f.size <= Int.max - align(offset, f.alignment) else { return .max }
            offset = align(offset, f.alignment) + f.size
        }
        return offset
    }

    /// The largest alignment of its fields (1 for none): where a list places each element.
    public var alignment: Int { fields.reduce(1) { max($0, $1.alignment) } }

    /// Bytes one element of this layout takes in a list: its size padded to its alignment.
    public var stride: Int {
        let size = size, alignment = alignment
        return size > Int.max - alignment ? .max : align(size, alignment)
    }

    /// Fields counted as `maximumFields` counts them: a list's element fields too.
    public var fieldCount: Int { fields.reduce(0) { $0 + 1 + ($1.element?.fieldCount ?? 0) } }

    public var signature: String { fields.map(\.signature).joined(separator: ",") }

    /// Refuses (nil) bad syntax, unknown kinds, a capacity outside 1...maximumCapacity,
    /// a list larger than maximumCapacity bytes, more than maximumFields fields.
    public init?(signature: String) {
        var parser = FieldSignatureParser(Substring(signature))
        guard let layout = parser.layout(depth: 0), parser.atEnd else { return nil }
        self = layout
    }
}

@inlinable
public func align(_ offset: Int, _ alignment: Int) -> Int { (offset + alignment - 1) & ~(alignment - 1) }
