// Generated against hand-written copy code: the same two values declared with
// @AStackValue and written out by hand the way interfaces were before the macros. The
// generated copy must cost the same (no reflection, no Codable, no extra allocation).
import Benchmark
import LRPC

/// Hand-written, as Interfaces/Bench.swift had it before the macros.
struct HandAddArguments: AStackValue {
    var a: Int32
    var b: Int32
    static let layout = FieldLayout([Field("a", .int32), Field("b", .int32)])
    @inline(__always) func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(a, field: "a")
        try w.put(b, field: "b")
    }
    @inline(__always) init(from r: inout AStackReader) throws(CallError) {
        a = try r.get(field: "a")
        b = try r.get(field: "b")
    }
    init(a: Int32, b: Int32) { self.a = a; self.b = b }
}

@AStackValue
struct GeneratedAddArguments {
    var a: Int32
    var b: Int32
}

/// The example entry, by hand: each field name 4 times, each capacity 3 times.
struct HandEntry: AStackValue {
    var key: String
    var value: [UInt8]
    static let layout = FieldLayout([Field("key", .text, capacity: 64), Field("value", .bytes, capacity: 512)])
    func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(text: key, capacity: 64, field: "key")
        try w.put(bytes: value, capacity: 512, field: "value")
    }
    init(from r: inout AStackReader) throws(CallError) {
        key = try r.getText(capacity: 64, field: "key")
        value = try r.getBytes(capacity: 512, field: "value")
    }
    init(key: String, value: [UInt8]) { self.key = key; self.value = value }
}

@AStackValue
struct GeneratedEntry {
    var key: BoundedText<64>
    var value: BoundedBytes<512>
}

/// A page of a listing, by hand: the list field's layout spelled out, and the copy a
/// loop over the same ListFrame steps `BoundedList` takes.
struct HandListEntry {
    var name: String
    var size: UInt64
}

struct HandPage: AStackValue {
    var entries: [HandListEntry]
    static let element = FieldLayout([Field("name", .text, capacity: 32), Field("size", .uint64)])
    static let layout = FieldLayout([Field("entries", list: element, capacity: 16)])
    func write(to w: inout AStackWriter) throws(CallError) {
        let frame = try w.beginList(count: entries.count, capacity: 16, stride: 48, elementAlignment: 8, field: "entries")
        for (i, entry) in entries.enumerated() {
            w.beginElement(i, of: frame)
            try w.put(text: entry.name, capacity: 32, field: "name")
            try w.put(entry.size, field: "size")
        }
        w.endList(frame)
    }
    init(from r: inout AStackReader) throws(CallError) {
        let (count, frame) = try r.beginList(capacity: 16, stride: 48, elementAlignment: 8, field: "entries")
        var entries: [HandListEntry] = []
        entries.reserveCapacity(count)
        for i in 0..<count {
            r.beginElement(i, of: frame)
            entries.append(HandListEntry(name: try r.getText(capacity: 32, field: "name"), size: try r.get(field: "size")))
        }
        r.endList(frame)
        self.entries = entries
    }
    init(entries: [HandListEntry]) { self.entries = entries }
}

@AStackValue
struct GeneratedListEntry {
    var name: BoundedText<32>
    var size: UInt64
}

@AStackValue
struct GeneratedPage {
    var entries: BoundedList<GeneratedListEntry, 16>
}

func generatedCopyBenchmarks() {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 64)
    let value = [UInt8](repeating: 0x5A, count: 200)
    pair("AddArguments", buffer, HandAddArguments(a: 2, b: 3), GeneratedAddArguments(a: 2, b: 3))
    pair("Entry", buffer, HandEntry(key: "a-key-of-some-length", value: value),
         GeneratedEntry(key: BoundedText("a-key-of-some-length"), value: BoundedBytes(value)))
    // Ten of sixteen entries, 12-byte names (small strings: no allocation of their own).
    let names = (0..<10).map { "file-\($0).txt.gz" }
    precondition(HandPage.layout == GeneratedPage.layout, "the hand-written page must be the generated one's layout")
    pair("Page (list of 10 entries)", buffer, HandPage(entries: names.map { HandListEntry(name: $0, size: 4096) }),
         GeneratedPage(entries: BoundedList(names.map { GeneratedListEntry(name: BoundedText($0), size: 4096) })))
}

/// write and read benchmarks for a hand-written and a generated value of one shape.
private func pair<H: AStackValue, G: AStackValue>(_ name: String, _ buffer: UnsafeMutableRawBufferPointer, _ hand: H, _ generated: G) {
    write("\(name) hand-written", buffer, hand)
    write("\(name) generated", buffer, generated)
    read("\(name) hand-written", buffer, hand)
    read("\(name) generated", buffer, generated)
}

private func write<V: AStackValue>(_ name: String, _ buffer: UnsafeMutableRawBufferPointer, _ value: V) {
    Benchmark("GeneratedCopy.write \(name)") { benchmark in
        for _ in benchmark.scaledIterations {
            var writer = AStackWriter(buffer)
            try value.write(to: &writer)
            blackHole(writer.offset)
        }
    }
}

private func read<V: AStackValue>(_ name: String, _ buffer: UnsafeMutableRawBufferPointer, _ value: V) {
    Benchmark("GeneratedCopy.read \(name)") { benchmark in
        var writer = AStackWriter(buffer)
        try value.write(to: &writer)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var reader = AStackReader(UnsafeRawBufferPointer(buffer))
            blackHole(try V(from: &reader))
        }
    }
}
