// A minimal binary encoding for control-plane messages (binding, export, admin).
// The control plane is not the call path: calls never touch this code.

struct ControlEncoder {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u32(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }
    mutating func bindingObject(_ bo: BindingObject) {
        u32(bo.index); u32(bo.generation); u64(bo.secret); u32(bo.node)
    }
    mutating func geometry(_ g: AStackGeometry) {
        int(g.slotCount)
        int(g.payloadCapacity)
    }
    mutating func interface(_ i: InterfaceDescriptor) {
        string(i.name)
        u32(UInt32(i.procedures.count))
        for p in i.procedures {
            u32(p.id)
            string(p.name)
            int(p.astackSize)
            int(p.simultaneousCalls)
            string(p.arguments.signature)
            string(p.results.signature)
        }
    }
}

struct ControlDecoder {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ n: Int) throws(ControlError) -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else {
            throw ControlError("control message truncated at byte \(offset)")
        }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }
    mutating func u8() throws(ControlError) -> UInt8 { try take(1).first! }
    mutating func u32() throws(ControlError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func u64() throws(ControlError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func int() throws(ControlError) -> Int { Int(Int64(bitPattern: try u64())) }
    mutating func string() throws(ControlError) -> String {
        let n = Int(try u32())
        guard n <= 65536 else { throw ControlError("control string of \(n) bytes is too long") }
        return String(decoding: try take(n), as: UTF8.self)
    }
    mutating func bindingObject() throws(ControlError) -> BindingObject {
        BindingObject(index: try u32(), generation: try u32(), secret: try u64(), node: try u32())
    }
    mutating func geometry() throws(ControlError) -> AStackGeometry {
        let slots = try int(), capacity = try int()
        guard (1...32).contains(slots), (0...(1 << 20)).contains(capacity) else {
            throw ControlError("A-stack geometry out of range: \(slots) slots of \(capacity) bytes")
        }
        return AStackGeometry(slotCount: slots, payloadCapacity: capacity)
    }
    mutating func interface() throws(ControlError) -> InterfaceDescriptor {
        let name = try string()
        let count = Int(try u32())
        guard count <= 256 else { throw ControlError("interface \(name) declares \(count) procedures (max 256)") }
        var procedures: [ProcedureDescriptor] = []
        for _ in 0..<count {
            let id = try u32(), pname = try string(), size = try int(), simultaneous = try int()
            let argText = try string(), resultText = try string()
            guard let args = FieldLayout(signature: argText), let results = FieldLayout(signature: resultText) else {
                throw ControlError("procedure \(name).\(pname) has a malformed layout (bad syntax, a field or a list over \(Field.maximumCapacity) bytes, or over \(FieldLayout.maximumFields) fields counting list elements' fields)")
            }
            guard (0...(1 << 20)).contains(size), (1...64).contains(simultaneous) else {
                throw ControlError("procedure \(name).\(pname) has an A-stack of \(size) bytes × \(simultaneous) calls (out of range)")
            }
            guard args.size <= size, results.size <= size else {
                throw ControlError("procedure \(name).\(pname) declares an A-stack of \(size) bytes, too small for its layouts")
            }
            procedures.append(ProcedureDescriptor(id: id, name: pname, astackSize: size,
                                                  simultaneousCalls: simultaneous,
                                                  arguments: args, results: results))
        }
        return InterfaceDescriptor(name: name, procedures: procedures)
    }
    func transport(_ text: String) throws(ControlError) -> Transport {
        guard let t = Transport(rawValue: text) else { throw ControlError("unknown transport '\(text)'") }
        return t
    }
    func finish() throws(ControlError) {
        guard offset == bytes.count else { throw ControlError("\(bytes.count - offset) stray bytes after control message") }
    }
}
