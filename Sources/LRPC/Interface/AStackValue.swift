// AStackValue: a fixed-layout value a procedure takes or returns. Values are copied
// field by field, by value, straight into or out of an A-stack slot: no serialization
// format, no pointers. `AStackWriter` and `AStackReader` place fields exactly as
// `FieldLayout` says, and check every bound.
import Glibc

public protocol AStackValue: AStackField {
    static var layout: FieldLayout { get }
    func write(to writer: inout AStackWriter) throws(CallError)
    init(from reader: inout AStackReader) throws(CallError)
}

public struct AStackWriter {
    @usableFromInline let buffer: UnsafeMutableRawBufferPointer
    /// Bytes used so far.
    public var offset: Int { position }
    @usableFromInline var position = 0

    public init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    // Inlinable, so a caller in another module (every interface) gets a copy specialized
    // to its field types instead of a generic call that looks up type metadata.
    @inlinable
    mutating func reserve(_ size: Int, alignment: Int, field: String) throws(CallError) -> Int {
        let start = align(offset, alignment)
        // Subtracted, not added: a size from a hostile layout may be near Int.max.
        guard size >= 0, size <= buffer.count - start else {
            // The A-stack, not the field, is full: the stub names the procedure.
            throw .argumentsTooLarge(procedure: field, size: size > Int.max - start ? Int.max : start + size,
                                     limit: buffer.count)
        }
        position = start + size
        return start
    }

    @inlinable
    public mutating func put<T: FixedWidthInteger>(_ value: T, field: String = "value") throws(CallError) {
        let at = try reserve(MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment, field: field)
        buffer.storeBytes(of: value.littleEndian, toByteOffset: at, as: T.self)
    }

    @inlinable
    public mutating func put(_ value: Double, field: String = "value") throws(CallError) {
        try put(value.bitPattern, field: field)
    }

    @inlinable
    public mutating func put(_ value: Bool, field: String = "value") throws(CallError) {
        try put(UInt8(value ? 1 : 0), field: field)
    }

    /// A bounded payload: a 32-bit length, then the bytes, within `capacity`.
    public mutating func put(bytes: some Collection<UInt8>, capacity: Int, field: String = "value") throws(CallError) {
        let count = bytes.count
        guard count <= capacity else { throw .fieldTooLarge(field: field, size: count, limit: capacity) }
        try put(UInt32(count), field: field)
        let at = try reserve(capacity, alignment: 1, field: field)
        UnsafeMutableRawBufferPointer(rebasing: buffer[at..<(at + count)]).copyBytes(from: bytes)
    }

    public mutating func put(text: String, capacity: Int, field: String = "value") throws(CallError) {
        try put(bytes: text.utf8, capacity: capacity, field: field)
    }

    /// Leave room up to `end` (an absent optional's fields), zeroed.
    @inlinable
    public mutating func zero(to end: Int, field: String) throws(CallError) {
        let at = try reserve(end - offset, alignment: 1, field: field)
        UnsafeMutableRawBufferPointer(rebasing: buffer[at..<end]).initializeMemory(as: UInt8.self, repeating: 0)
    }
}

public struct AStackReader {
    @usableFromInline let buffer: UnsafeRawBufferPointer
    /// Bytes used so far.
    public var offset: Int { position }
    @usableFromInline var position = 0

    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    @inlinable
    mutating func take(_ size: Int, alignment: Int, field: String) throws(CallError) -> Int {
        let start = align(offset, alignment)
        guard size >= 0, size <= buffer.count - start else {
            throw .malformed("\(field) runs past the \(buffer.count) bytes supplied")
        }
        position = start + size
        return start
    }

    @inlinable
    public mutating func get<T: FixedWidthInteger>(_: T.Type = T.self, field: String = "value") throws(CallError) -> T {
        let at = try take(MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment, field: field)
        return T(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    @inlinable
    public mutating func getDouble(field: String = "value") throws(CallError) -> Double {
        Double(bitPattern: try get(UInt64.self, field: field))
    }

    @inlinable
    public mutating func getBool(field: String = "value") throws(CallError) -> Bool {
        try get(UInt8.self, field: field) != 0
    }

    /// Copies the payload out, so the peer cannot change it while we use it.
    public mutating func getBytes(capacity: Int, field: String = "value") throws(CallError) -> [UInt8] {
        let count = Int(try get(UInt32.self, field: field))
        guard count <= capacity else { throw .malformed("\(field) claims \(count) bytes; it holds \(capacity)") }
        let at = try take(capacity, alignment: 1, field: field)
        return Array(buffer[at..<(at + count)])
    }

    public mutating func getText(capacity: Int, field: String = "value") throws(CallError) -> String {
        String(decoding: try getBytes(capacity: capacity, field: field), as: UTF8.self)
    }

    /// Step over everything up to `end` (an absent optional's fields).
    @inlinable
    public mutating func skip(to end: Int, field: String) throws(CallError) {
        _ = try take(end - offset, alignment: 1, field: field)
    }
}

// MARK: the values every interface needs

/// No arguments, or no results.
public struct Empty: AStackValue, Sendable, Equatable {
    public init() {}
    public static let layout = FieldLayout.empty
    @inline(__always) public func write(to writer: inout AStackWriter) throws(CallError) {}
    @inline(__always) public init(from reader: inout AStackReader) throws(CallError) {}
}

/// Integers are values of one field named "value".
public protocol AStackInteger: AStackValue, FixedWidthInteger {
    static var fieldKind: FieldKind { get }
}

extension AStackInteger {
    public static var layout: FieldLayout { FieldLayout([Field("value", fieldKind)]) }
    @inline(__always) public func write(to writer: inout AStackWriter) throws(CallError) { try writer.put(self) }
    @inline(__always) public init(from reader: inout AStackReader) throws(CallError) { self = try reader.get() }
}

extension Int32: AStackInteger { public static var fieldKind: FieldKind { .int32 } }
extension UInt32: AStackInteger { public static var fieldKind: FieldKind { .uint32 } }
extension Int64: AStackInteger { public static var fieldKind: FieldKind { .int64 } }
extension UInt64: AStackInteger { public static var fieldKind: FieldKind { .uint64 } }

/// A bounded byte payload of at most `capacity` bytes.
public struct BoundedBytes<let capacity: Int>: AStackValue, Sendable, Equatable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public static var layout: FieldLayout { FieldLayout([Field("bytes", .bytes, capacity: capacity)]) }
    public func write(to writer: inout AStackWriter) throws(CallError) {
        try writer.put(bytes: bytes, capacity: capacity, field: "bytes")
    }
    public init(from reader: inout AStackReader) throws(CallError) {
        bytes = try reader.getBytes(capacity: capacity, field: "bytes")
    }
}

/// A bounded UTF-8 string of at most `capacity` bytes.
public struct BoundedText<let capacity: Int>: AStackValue, Sendable, Equatable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public static var layout: FieldLayout { FieldLayout([Field("text", .text, capacity: capacity)]) }
    public func write(to writer: inout AStackWriter) throws(CallError) {
        try writer.put(text: text, capacity: capacity, field: "text")
    }
    public init(from reader: inout AStackReader) throws(CallError) {
        text = try reader.getText(capacity: capacity, field: "text")
    }
}
