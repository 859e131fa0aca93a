// Reads a layout signature ("a:i32,names:list[8]{text[32]}") that came from a peer: the
// kernel reads it at export, nkctl at import. Hostile input, so every bound is checked
// here, where it is parsed: capacities within 1...Field.maximumCapacity, a list no larger
// than Field.maximumCapacity bytes, at most FieldLayout.maximumFields fields in all
// (nested element fields included, which also bounds the nesting and the recursion).
//
//     layout := "" | field ("," field)*
//     field  := [name ":"] kind ["[" capacity "]"] ["{" layout "}"]
//
// A name may be empty only inside a list element (an element that is a single scalar).

struct FieldSignatureParser {
    private let bytes: [UInt8]
    private var at = 0
    private var fieldsSeen = 0

    init(_ text: Substring) { bytes = Array(text.utf8) }

    var atEnd: Bool { at == bytes.count }

    /// A layout, stopping before "}" or the end.
    mutating func layout(depth: Int) -> FieldLayout? {
        var fields: [Field] = []
        if atEnd || peek == UInt8(ascii: "}") { return FieldLayout(fields) }
        while true {
            guard let f = field(depth: depth) else { return nil }
            fields.append(f)
            guard peek == UInt8(ascii: ",") else { return FieldLayout(fields) }
            at += 1
        }
    }

    mutating func field(depth: Int) -> Field? {
        fieldsSeen += 1
        guard fieldsSeen <= FieldLayout.maximumFields else { return nil }
        var name = token()
        var kindText: String
        if peek == UInt8(ascii: ":") {
            at += 1
            kindText = token()
        } else {
            kindText = name
            name = ""
        }
        guard depth > 0 || !name.isEmpty, let kind = FieldKind(rawValue: kindText) else { return nil }
        var capacity = 0
        if kind.isBounded {
            guard let c = bracketedCapacity() else { return nil }
            capacity = c
        }
        guard kind == .list else { return Field(name, kind, capacity: capacity) }
        guard peek == UInt8(ascii: "{") else { return nil }
        at += 1
        guard let element = layout(depth: depth + 1), peek == UInt8(ascii: "}") else { return nil }
        at += 1
        let list = Field(name, list: element, capacity: capacity)
        return list.size <= Field.maximumCapacity ? list : nil
    }

    private var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    /// Characters up to the next delimiter.
    private mutating func token() -> String {
        let start = at
        while let b = peek, !Self.delimiters.contains(b) { at += 1 }
        return String(decoding: bytes[start..<at], as: UTF8.self)
    }

    private static let delimiters: Set<UInt8> = Set(":,[]{}".utf8)

    /// "[N]" with N in 1...Field.maximumCapacity.
    private mutating func bracketedCapacity() -> Int? {
        guard peek == UInt8(ascii: "[") else { return nil }
        at += 1
        let digits = token()
        guard peek == UInt8(ascii: "]"), digits.count <= 8, let n = Int(digits),
              n > 0, n <= Field.maximumCapacity else { return nil }
        at += 1
        return n
    }
}
