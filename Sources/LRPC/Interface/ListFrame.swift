// ListFrame: where a bounded list sits in an A-stack, for the code that copies one
// (`BoundedList`, and nkctl's generic call, which knows the list only from its layout).
// A list is aligned to max(4, its element's alignment): a 32-bit count, padding to the
// element's alignment, then `capacity` elements `stride` bytes apart, always reserved.

public struct ListFrame {
    /// Offset of element 0.
    public let elements: Int
    public let stride: Int
    public let capacity: Int

    @inlinable
    init(elements: Int, stride: Int, capacity: Int) {
        self.elements = elements
        self.stride = stride
        self.capacity = capacity
    }

    /// Bytes from the list's start to element 0.
    @inlinable
    public static func headerSize(elementAlignment: Int) -> Int { align(4, elementAlignment) }

    @inlinable
    public static func size(capacity: Int, stride: Int, elementAlignment: Int) -> Int {
        headerSize(elementAlignment: elementAlignment) + capacity * stride
    }

    @inlinable var end: Int { elements + capacity * stride }
}

extension AStackWriter {
    /// Reserves the whole list and writes its count; refuses a count over the capacity.
    @inlinable
    public mutating func beginList(count: Int, capacity: Int, stride: Int, elementAlignment: Int,
                                   field: String) throws(CallError) -> ListFrame {
        guard count <= capacity else { throw .listTooLong(field: field, count: count, capacity: capacity) }
        let size = ListFrame.size(capacity: capacity, stride: stride, elementAlignment: elementAlignment)
        let start = try reserve(size, alignment: max(4, elementAlignment), field: field)
        buffer.storeBytes(of: UInt32(truncatingIfNeeded: count).littleEndian, toByteOffset: start, as: UInt32.self)
        return ListFrame(elements: start + ListFrame.headerSize(elementAlignment: elementAlignment),
                         stride: stride, capacity: capacity)
    }

    /// The next field written is element `index`'s first (`index` < the count written).
    @inlinable
    public mutating func beginElement(_ index: Int, of frame: ListFrame) {
        precondition(index >= 0 && index < frame.capacity, "list element \(index) outside its frame")
        position = frame.elements + index * frame.stride
    }

    /// The next field written follows the list's last reserved element.
    @inlinable
    public mutating func endList(_ frame: ListFrame) { position = frame.end }
}

extension AStackReader {
    /// Takes the whole list and reads its count, which is the peer's word: a count over
    /// the capacity is malformed, before any element is read.
    @inlinable
    public mutating func beginList(capacity: Int, stride: Int, elementAlignment: Int,
                                   field: String) throws(CallError) -> (count: Int, frame: ListFrame) {
        let size = ListFrame.size(capacity: capacity, stride: stride, elementAlignment: elementAlignment)
        let start = try take(size, alignment: max(4, elementAlignment), field: field)
        let count = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
        guard count <= capacity else {
            throw .malformed("\(field) claims \(count) elements; the list holds at most \(capacity)")
        }
        return (count, ListFrame(elements: start + ListFrame.headerSize(elementAlignment: elementAlignment),
                                 stride: stride, capacity: capacity))
    }

    @inlinable
    public mutating func beginElement(_ index: Int, of frame: ListFrame) {
        precondition(index >= 0 && index < frame.capacity, "list element \(index) outside its frame")
        position = frame.elements + index * frame.stride
    }

    @inlinable
    public mutating func endList(_ frame: ListFrame) { position = frame.end }
}
