// AStackField: anything that can be one field of an A-stack value. `@AStackValue`
// expands a struct into calls on its fields' conformances, so the layout that travels in
// the procedure descriptor and the bytes the stubs copy come from the same code: each
// kind below states its fields and writes exactly those, and nothing else lays them out.
//
// Every body is @inlinable so the generated copy in another module specializes to the
// field's concrete type, like a hand-written `put`/`get` (no witness table, no metadata).

public protocol AStackField {
    /// The descriptor fields this value occupies when it is the field `name` (an
    /// element of a list is named "": its fields keep their own names).
    static func fields(named name: String) -> [Field]
    /// Where this value's fields end when placed from `offset`, each at its alignment:
    /// `FieldLayout(fields(named:)).end(from:)`, computed without building the layout,
    /// because a list finds its elements with it on every call.
    static func astackEnd(from offset: Int) -> Int
    /// The largest alignment of its fields (1 for none).
    static var astackAlignment: Int { get }
    func write(to writer: inout AStackWriter, field: String) throws(CallError)
    init(from reader: inout AStackReader, field: String) throws(CallError)
}

extension FieldLayout {
    /// The layout of a value made of the given fields, in order.
    public init(composing parts: [[Field]]) { self.init(parts.flatMap { $0 }) }
}

/// Helper the macro calls: the fields of the property at `path`, typed by the key path so
/// any field type spelling (optionals, generics with values) works in expression position.
@inlinable
public func astackFields<Root, Value: AStackField>(_ path: KeyPath<Root, Value>, _ name: String) -> [Field] {
    Value.fields(named: name)
}

// MARK: scalars

extension AStackInteger {
    @inlinable public static func fields(named name: String) -> [Field] { [Field(name, fieldKind)] }
    @inlinable public static func astackEnd(from offset: Int) -> Int {
        align(offset, MemoryLayout<Self>.size) + MemoryLayout<Self>.size
    }
    @inlinable public static var astackAlignment: Int { MemoryLayout<Self>.size }
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) { try writer.put(self, field: field) }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) { self = try reader.get(field: field) }
}

extension Bool: AStackField {
    @inlinable public static func fields(named name: String) -> [Field] { [Field(name, .bool)] }
    @inlinable public static func astackEnd(from offset: Int) -> Int { offset + 1 }
    @inlinable public static var astackAlignment: Int { 1 }
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) { try writer.put(self, field: field) }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) { self = try reader.getBool(field: field) }
}

extension Double: AStackField {
    @inlinable public static func fields(named name: String) -> [Field] { [Field(name, .float64)] }
    @inlinable public static func astackEnd(from offset: Int) -> Int { align(offset, 8) + 8 }
    @inlinable public static var astackAlignment: Int { 8 }
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) { try writer.put(self, field: field) }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) { self = try reader.getDouble(field: field) }
}

// MARK: bounded payloads

extension BoundedBytes {
    @inlinable public static func fields(named name: String) -> [Field] { [Field(name, .bytes, capacity: capacity)] }
    @inlinable public static func astackEnd(from offset: Int) -> Int { align(offset, 4) + 4 + capacity }
    @inlinable public static var astackAlignment: Int { 4 }
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) {
        try writer.put(bytes: bytes, capacity: capacity, field: field)
    }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) {
        bytes = try reader.getBytes(capacity: capacity, field: field)
    }
}

extension BoundedText {
    @inlinable public static func fields(named name: String) -> [Field] { [Field(name, .text, capacity: capacity)] }
    @inlinable public static func astackEnd(from offset: Int) -> Int { align(offset, 4) + 4 + capacity }
    @inlinable public static var astackAlignment: Int { 4 }
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) {
        try writer.put(text: text, capacity: capacity, field: field)
    }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) {
        text = try reader.getText(capacity: capacity, field: field)
    }
}

// MARK: nested values and optionals

/// A whole value nested as a field: its fields, named "outer.inner", placed in order.
/// Every AStackValue already writes each of its fields at its own alignment, so nesting
/// changes no byte.
extension AStackValue {
    @inlinable public static func fields(named name: String) -> [Field] {
        name.isEmpty ? layout.fields : layout.fields.map { $0.renamed("\(name).\($0.name)") }
    }
    /// From `layout`: a stored constant for a non-generic @AStackValue struct.
    @inlinable public static func astackEnd(from offset: Int) -> Int { layout.end(from: offset) }
    @inlinable public static var astackAlignment: Int { layout.alignment }
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) { try write(to: &writer) }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) { try self.init(from: &reader) }
}

/// An optional field: a presence flag, then the value's fields, always reserved (zeroes
/// when absent), so the layout stays fixed.
extension Optional: AStackField where Wrapped: AStackField {
    @inlinable public static func fields(named name: String) -> [Field] {
        [Field("\(name)?", .bool)] + Wrapped.fields(named: name)
    }
    @inlinable public static func astackEnd(from offset: Int) -> Int { Wrapped.astackEnd(from: offset + 1) }
    @inlinable public static var astackAlignment: Int { Wrapped.astackAlignment }
    @inlinable
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) {
        if case .some(let value) = self {
            try writer.put(true, field: field)
            try value.write(to: &writer, field: field)
        } else {
            try writer.put(false, field: field)
            try writer.zero(to: Wrapped.astackEnd(from: writer.offset), field: field)
        }
    }
    @inlinable
    public init(from reader: inout AStackReader, field: String) throws(CallError) {
        if try reader.getBool(field: field) {
            self = try Wrapped(from: &reader, field: field)
        } else {
            try reader.skip(to: Wrapped.astackEnd(from: reader.offset), field: field)
            self = nil
        }
    }
}
