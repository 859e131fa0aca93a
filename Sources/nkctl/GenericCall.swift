// Calling any procedure from the command line: the procedure descriptor's field layout
// says how to copy each argument onto the A-stack and how to read the results back.
import LRPC

enum UsageError: Error, CustomStringConvertible {
    case message(String)
    var description: String {
        if case .message(let m) = self { return m }
        return ""
    }
}

struct GenericCall {
    let interface: InterfaceDescriptor
    let procedure: ProcedureDescriptor

    /// Names come from the server's procedure list: shown inert (TerminalText).
    var usage: String {
        let args = procedure.arguments.fields.map { "<\($0.signature)>" }.joined(separator: " ")
        return TerminalText.line("usage: nkctl call \(interface.name).\(procedure.name)\(args.isEmpty ? "" : " " + args)")
    }

    /// Check the command-line arguments against the layout before anything is sent.
    func parse(_ values: [String]) throws -> [String] {
        let fields = procedure.arguments.fields
        guard values.count == fields.count else {
            throw UsageError.message(TerminalText.line("\(interface.name).\(procedure.name) takes \(fields.count) argument\(fields.count == 1 ? "" : "s"), got \(values.count)") + "\n\(usage)")
        }
        for (field, value) in zip(fields, values) {
            guard Self.isValid(value, for: field.kind) else {
                throw UsageError.message(TerminalText.line("argument \(field.name) must be \(field.kind.rawValue), got '\(value)'") + "\n\(usage)")
            }
        }
        return values
    }

    static func isValid(_ value: String, for kind: FieldKind) -> Bool {
        switch kind {
        case .int32: Int32(value) != nil
        case .uint32: UInt32(value) != nil
        case .int64: Int64(value) != nil
        case .uint64: UInt64(value) != nil
        case .float64: Double(value) != nil
        case .bool: value == "true" || value == "false"
        case .bytes, .text: true
        }
    }

    func write(_ values: [String], to w: inout AStackWriter) throws(CallError) {
        for (field, value) in zip(procedure.arguments.fields, values) {
            switch field.kind {
            case .int32: try w.put(Int32(value)!, field: field.name)
            case .uint32: try w.put(UInt32(value)!, field: field.name)
            case .int64: try w.put(Int64(value)!, field: field.name)
            case .uint64: try w.put(UInt64(value)!, field: field.name)
            case .float64: try w.put(Double(value)!, field: field.name)
            case .bool: try w.put(value == "true", field: field.name)
            case .bytes, .text: try w.put(bytes: value.utf8, capacity: field.capacity, field: field.name)
            }
        }
    }

    /// Results as (field name, rendered value) pairs, in layout order.
    func read(_ r: inout AStackReader) throws(CallError) -> [(String, ResultValue)] {
        var out: [(String, ResultValue)] = []
        for field in procedure.results.fields {
            let value: ResultValue
            switch field.kind {
            case .int32: value = .number(String(try r.get(Int32.self, field: field.name)))
            case .uint32: value = .number(String(try r.get(UInt32.self, field: field.name)))
            case .int64: value = .number(String(try r.get(Int64.self, field: field.name)))
            case .uint64: value = .number(String(try r.get(UInt64.self, field: field.name)))
            case .float64: value = .number(String(try r.getDouble(field: field.name)))
            case .bool: value = .bool(try r.getBool(field: field.name))
            case .bytes, .text: value = .text(try r.getText(capacity: field.capacity, field: field.name))
            }
            out.append((field.name, value))
        }
        return out
    }
}

enum ResultValue {
    case number(String)
    case bool(Bool)
    case text(String)

    var plain: String {
        switch self {
        case .number(let n): n
        case .bool(let b): String(b)
        case .text(let t): t
        }
    }

    var json: String {
        switch self {
        case .number(let n): n
        case .bool(let b): String(b)
        case .text(let t): jsonString(t)
        }
    }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return TerminalText.json(out + "\"")
}
