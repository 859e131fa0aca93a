// FieldLayout: the fixed layout of a procedure's arguments or results, as a list of
// typed fields. It travels in the procedure descriptor list, so a generic client (nkctl)
// can fill an A-stack for any procedure, and it fixes the A-stack size at export time.
//
// Fields are placed in order at their natural alignment. A `bytes`/`text` field is a
// 32-bit length followed by `capacity` bytes: a bounded payload, never a pointer.

public enum FieldKind: String, Sendable, Equatable {
    case int32 = "i32"
    case uint32 = "u32"
    case int64 = "i64"
    case uint64 = "u64"
    case float64 = "f64"
    case bool
    case bytes
    case text

    public var alignment: Int {
        switch self {
        case .int64, .uint64, .float64: 8
        case .bool: 1
        default: 4
        }
    }
}

public struct Field: Sendable, Equatable {
    /// The largest bytes/text field: no A-stack is larger (ControlDecoder refuses more).
    /// A layout read from a peer is bounded by it, so its size cannot overflow.
    public static let maximumCapacity = 1 << 20

    public let name: String
    public let kind: FieldKind
    /// Maximum byte count of a bytes/text field; 0 for scalars.
    public let capacity: Int

    public init(_ name: String, _ kind: FieldKind, capacity: Int = 0) {
        self.name = name
        self.kind = kind
        self.capacity = capacity
    }

    /// Bytes this field occupies (its alignment padding aside).
    public var size: Int {
        switch kind {
        case .int64, .uint64, .float64: 8
        case .int32, .uint32: 4
        case .bool: 1
        case .bytes, .text: 4 + capacity
        }
    }

    /// "name:i32" or "name:text[64]": the form used in signatures and usage lines.
    public var signature: String {
        capacity > 0 ? "\(name):\(kind.rawValue)[\(capacity)]" : "\(name):\(kind.rawValue)"
    }

    public init?(signature: Substring) {
        let parts = signature.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        var kindText = parts[1]
        var capacity = 0
        if let open = kindText.firstIndex(of: "["), kindText.last == "]" {
            guard let c = Int(kindText[kindText.index(after: open)..<kindText.index(before: kindText.endIndex)]),
                  c > 0, c <= Field.maximumCapacity else { return nil }
            capacity = c
            kindText = kindText[..<open]
        }
        guard let kind = FieldKind(rawValue: String(kindText)) else { return nil }
        guard (kind == .bytes || kind == .text) == (capacity > 0) else { return nil }
        self.init(String(parts[0]), kind, capacity: capacity)
    }
}

public struct FieldLayout: Sendable, Equatable {
    /// The most fields a layout read from a peer may have.
    public static let maximumFields = 64

    public let fields: [Field]

    public init(_ fields: [Field]) { self.fields = fields }

    public static let empty = FieldLayout([])

    /// The most bytes a value of this layout occupies in an A-stack.
    public var size: Int {
        var offset = 0
        for f in fields {
            offset = align(offset, f.kind.alignment) + f.size
        }
        return offset
    }

    public var signature: String { fields.map(\.signature).joined(separator: ",") }

    public init?(signature: String) {
        if signature.isEmpty { self.init([]); return }
        var fields: [Field] = []
        let parts = signature.split(separator: ",")
        guard parts.count <= Self.maximumFields else { return nil }
        for part in parts {
            guard let f = Field(signature: part) else { return nil }
            fields.append(f)
        }
        self.init(fields)
    }
}

@inlinable
public func align(_ offset: Int, _ alignment: Int) -> Int { (offset + alignment - 1) & ~(alignment - 1) }
