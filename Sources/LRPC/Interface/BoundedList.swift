// BoundedList: at most `capacity` values of one A-stack field type (scalars, bounded
// text or bytes, nested @AStackValue structs, optionals, lists). Its layout is fixed like
// every other field's: a 32-bit count, then room for `capacity` elements, each laid out
// as its type says and padded to its alignment (the `list` field kind, docs/layout.md).
//
//     @AStackValue struct Directory { var entries: BoundedList<Entry, 128>; var next: UInt64 }
//
// The copy is a loop over the elements at a fixed stride, computed from the element type
// (no layout is built per call); a count over the capacity is refused on the way in
// (`listTooLong`, naming the field) and reported as malformed on the way out, before
// any element is read.

public struct BoundedList<Element: AStackField, let capacity: Int>: AStackValue {
    public var elements: [Element]
    public init(_ elements: [Element] = []) { self.elements = elements }

    /// Its layout as a value of its own (a procedure that returns a list): one field.
    public static var layout: FieldLayout { FieldLayout(fields(named: "items")) }
    @inlinable
    public func write(to writer: inout AStackWriter) throws(CallError) { try write(to: &writer, field: "items") }
    @inlinable
    public init(from reader: inout AStackReader) throws(CallError) { try self.init(from: &reader, field: "items") }
}

extension BoundedList: Sendable where Element: Sendable {}
extension BoundedList: Equatable where Element: Equatable {}

extension BoundedList: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Element...) { self.init(elements) }
}

extension BoundedList: RandomAccessCollection, MutableCollection {
    public var startIndex: Int { elements.startIndex }
    public var endIndex: Int { elements.endIndex }
    public subscript(position: Int) -> Element {
        get { elements[position] }
        set { elements[position] = newValue }
    }
}

// MARK: the field

extension BoundedList {
    /// Bytes one element takes: its fields, padded so the next one is aligned too.
    @inlinable static var elementStride: Int { align(Element.astackEnd(from: 0), Element.astackAlignment) }

    @inlinable public static func fields(named name: String) -> [Field] {
        [Field(name, list: FieldLayout(Element.fields(named: "")), capacity: capacity)]
    }
    @inlinable public static func astackEnd(from offset: Int) -> Int {
        align(offset, astackAlignment)
            + ListFrame.size(capacity: capacity, stride: elementStride, elementAlignment: Element.astackAlignment)
    }
    @inlinable public static var astackAlignment: Int { Swift.max(4, Element.astackAlignment) }

    @inlinable
    public func write(to writer: inout AStackWriter, field: String) throws(CallError) {
        let frame = try writer.beginList(count: elements.count, capacity: capacity, stride: Self.elementStride,
                                         elementAlignment: Element.astackAlignment, field: field)
        for (index, element) in elements.enumerated() {
            writer.beginElement(index, of: frame)
            // Elements are written under no name of their own; an error gets one.
            do { try element.write(to: &writer, field: "") } catch { throw error.inElement(index, of: field) }
        }
        writer.endList(frame)
    }

    /// Every element lies inside the region taken for the whole list, and the count was
    /// checked against the capacity first: a hostile count cannot over-read.
    @inlinable
    public init(from reader: inout AStackReader, field: String) throws(CallError) {
        let (count, frame) = try reader.beginList(capacity: capacity, stride: Self.elementStride,
                                                  elementAlignment: Element.astackAlignment, field: field)
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for index in 0..<count {
            reader.beginElement(index, of: frame)
            do { elements.append(try Element(from: &reader, field: "")) } catch { throw error.inElement(index, of: field) }
        }
        reader.endList(frame)
        self.elements = elements
    }
}
