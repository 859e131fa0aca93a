// AStackField: anything that can be one field of an A-stack value. `@AStackValue`
// expands a struct into calls on its fields' conformances, so the layout that travels in
// the procedure descriptor and the bytes the stubs copy come from the same code: each
// kind below states its fields and writes exactly those, and nothing else lays them out.
//
// Every body is @inlinable so the generated copy in another module specializes to the
// field's concrete type, like a hand-written `put`/`get` (no witness table, no metadata).

public protocol AStackField {
    /// The descriptor fields this value occupies when it is the field `name`.
    static func fields(named name: String) -> [Field]
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
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) { try writer.put(self, field: field) }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) { self = try reader.get(field: field) }
}

extension Bool: AStackField {
    @inlinable public static func fields(named name: String) -> [Field] { [Field(name, .bool)] }
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) { try writer.put(self, field: field) }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) { self = try reader.getBool(field: field) }
}

extension Double: AStackField {
    @inlinable public static func fields(named name: String) -> [Field] { [Field(name, .float64)] }
    @inlinable @inline(__always)
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) { try writer.put(self, field: field) }
    @inlinable @inline(__always)
    public init(from reader: inout AStackReader, field: String) throws(CallError) { self = try reader.getDouble(field: field) }
}

// MARK: bounded payloads

extension BoundedBytes {
    @inlinable public static func fields(named name: String) -> [Field] { [Field(name, .bytes, capacity: capacity)] }
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
        layout.fields.map { Field("\(name).\($0.name)", $0.kind, capacity: $0.capacity) }
    }
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
    @inlinable
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) {
        if case .some(let value) = self {
            try writer.put(true, field: "\(field)?")
            try value.write(to: &writer, field: field)
        } else {
            try writer.put(false, field: "\(field)?")
            try writer.skip(Wrapped.fields(named: field), field: field)
        }
    }
    @inlinable
    public init(from reader: inout AStackReader, field: String) throws(CallError) {
        if try reader.getBool(field: "\(field)?") {
            self = try Wrapped(from: &reader, field: field)
        } else {
            try reader.skip(Wrapped.fields(named: field), field: field)
            self = nil
        }
    }
}
