// Calling any procedure from the command line: the procedure descriptor's field layout
// says how to copy each argument onto the A-stack and how to read the results back. A
// list field is given and shown as a JSON array: bare values for a list of one nameless
// field (`[1,2,3]`), objects keyed by the element's field names otherwise.
import Foundation
import LRPC

enum UsageError: Error, CustomStringConvertible {
    case message(String)
    var description: String {
        if case .message(let m) = self { return m }
        return ""
    }
}

/// One argument, checked against its field: the command-line text of a scalar, bytes or
/// text; for a list, each element's values in its layout's field order.
indirect enum ArgumentValue {
    case scalar(String)
    case list([[ArgumentValue]])
}

struct GenericCall {
    let interface: InterfaceDescriptor
    let procedure: ProcedureDescriptor

    /// Names come from the server's procedure list: shown inert (TerminalText).
    var usage: String {
        let fields = procedure.arguments.fields
        let args = fields.map { "<\($0.signature)>" }.joined(separator: " ")
        var text = TerminalText.line("usage: nkctl call \(interface.name).\(procedure.name)\(args.isEmpty ? "" : " " + args)")
        if fields.contains(where: { $0.kind == .list }) {
            text += "\n  a list is a JSON array: [1,2] for a list of one nameless field, [{\"name\":\"a\",\"size\":1}] otherwise"
        }
        return text
    }

    /// Check the command-line arguments against the layout before anything is sent.
    func parse(_ values: [String]) throws -> [ArgumentValue] {
        let fields = procedure.arguments.fields
        guard values.count == fields.count else {
            throw UsageError.message(TerminalText.line("\(interface.name).\(procedure.name) takes \(fields.count) argument\(fields.count == 1 ? "" : "s"), got \(values.count)") + "\n\(usage)")
        }
        do {
            return try zip(fields, values).map { field, value in
                guard field.kind == .list else { return try Self.scalar(value, for: field, path: field.name) }
                guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(value.utf8)) else {
                    throw UsageError.message("argument \(field.name) must be a JSON array, got '\(value)'")
                }
                return try Self.argument(json, for: field, path: field.name)
            }
        } catch let error as UsageError {
            throw UsageError.message(TerminalText.line("\(error)") + "\n\(usage)")
        }
    }

    static func scalar(_ value: String, for field: Field, path: String) throws -> ArgumentValue {
        guard isValid(value, for: field.kind) else {
            throw UsageError.message("argument \(path) must be \(field.kind.rawValue), got '\(value)'")
        }
        return .scalar(value)
    }

    static func argument(_ json: JSONValue, for field: Field, path: String) throws -> ArgumentValue {
        switch (field.kind, json) {
        case (.list, .array(let items)):
            guard items.count <= field.capacity else {
                throw UsageError.message("argument \(path) has \(items.count) elements; the list holds at most \(field.capacity)")
            }
            return .list(try items.enumerated().map { i, item in try element(item, of: field.element!, path: "\(path)[\(i)]") })
        case (.list, _): throw UsageError.message("argument \(path) must be a JSON array")
        case (.bool, .bool(let b)): return .scalar(String(b))
        case (.bytes, .string(let s)), (.text, .string(let s)): return .scalar(s)
        case (_, .number(let n)), (_, .string(let n)): return try scalar(n, for: field, path: path)
        default: throw UsageError.message("argument \(path) must be \(field.kind.rawValue)")
        }
    }

    /// One element: a bare value when its layout is one nameless field, else an object
    /// holding exactly the element's field names.
    static func element(_ json: JSONValue, of layout: FieldLayout, path: String) throws -> [ArgumentValue] {
        if layout.fields.count == 1, layout.fields[0].name.isEmpty {
            return [try argument(json, for: layout.fields[0], path: path)]
        }
        guard case .object(let members) = json else {
            throw UsageError.message("argument \(path) must be an object with \(layout.fields.map(\.name).joined(separator: ", "))")
        }
        if let stray = members.keys.sorted().first(where: { key in !layout.fields.contains { $0.name == key } }) {
            throw UsageError.message("argument \(path) has no field '\(stray)'; it has \(layout.fields.map(\.name).joined(separator: ", "))")
        }
        return try layout.fields.map { f in
            guard let value = members[f.name] else { throw UsageError.message("argument \(path) lacks its field '\(f.name)'") }
            return try argument(value, for: f, path: "\(path).\(f.name)")
        }
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
        case .list: false
        }
    }

    func write(_ values: [ArgumentValue], to w: inout AStackWriter) throws(CallError) {
        try Self.write(values, as: procedure.arguments, to: &w)
    }

    static func write(_ values: [ArgumentValue], as layout: FieldLayout, to w: inout AStackWriter) throws(CallError) {
        for (field, value) in zip(layout.fields, values) {
            switch value {
            case .scalar(let text): try write(text, as: field, to: &w)
            case .list(let elements):
                let element = field.element!
                let frame = try w.beginList(count: elements.count, capacity: field.capacity, stride: element.stride,
                                            elementAlignment: element.alignment, field: field.name)
                for (i, values) in elements.enumerated() {
                    w.beginElement(i, of: frame)
                    do { try write(values, as: element, to: &w) } catch { throw error.inElement(i, of: field.name) }
                }
                w.endList(frame)
            }
        }
    }

    static func write(_ value: String, as field: Field, to w: inout AStackWriter) throws(CallError) {
        switch field.kind {
        case .int32: try w.put(Int32(value)!, field: field.name)
        case .uint32: try w.put(UInt32(value)!, field: field.name)
        case .int64: try w.put(Int64(value)!, field: field.name)
        case .uint64: try w.put(UInt64(value)!, field: field.name)
        case .float64: try w.put(Double(value)!, field: field.name)
        case .bool: try w.put(value == "true", field: field.name)
        case .bytes, .text: try w.put(bytes: value.utf8, capacity: field.capacity, field: field.name)
        case .list: throw .malformed("\(field.name) is a list, given one value")
        }
    }

    /// Results as (field name, rendered value) pairs, in layout order.
    func read(_ r: inout AStackReader) throws(CallError) -> [(String, ResultValue)] {
        try Self.read(procedure.results, from: &r)
    }

    static func read(_ layout: FieldLayout, from r: inout AStackReader) throws(CallError) -> [(String, ResultValue)] {
        var out: [(String, ResultValue)] = []
        for field in layout.fields {
            let value: ResultValue
            switch field.kind {
            case .int32: value = .number(String(try r.get(Int32.self, field: field.name)))
            case .uint32: value = .number(String(try r.get(UInt32.self, field: field.name)))
            case .int64: value = .number(String(try r.get(Int64.self, field: field.name)))
            case .uint64: value = .number(String(try r.get(UInt64.self, field: field.name)))
            case .float64: value = .number(String(try r.getDouble(field: field.name)))
            case .bool: value = .bool(try r.getBool(field: field.name))
            case .bytes, .text: value = .text(try r.getText(capacity: field.capacity, field: field.name))
            case .list:
                // The count is the server's word: beginList checks it against the capacity.
                let element = field.element!
                let (count, frame) = try r.beginList(capacity: field.capacity, stride: element.stride,
                                                     elementAlignment: element.alignment, field: field.name)
                var elements: [[(String, ResultValue)]] = []
                for i in 0..<count {
                    r.beginElement(i, of: frame)
                    do { elements.append(try read(element, from: &r)) } catch { throw error.inElement(i, of: field.name) }
                }
                r.endList(frame)
                value = .list(elements)
            }
            out.append((field.name, value))
        }
        return out
    }
}

indirect enum ResultValue {
    case number(String)
    case bool(Bool)
    case text(String)
    /// Each element's fields; one nameless field is shown as a bare value.
    case list([[(String, ResultValue)]])

    var plain: String {
        switch self {
        case .number(let n): n
        case .bool(let b): String(b)
        case .text(let t): t
        case .list: json
        }
    }

    var json: String {
        switch self {
        case .number(let n): n
        case .bool(let b): String(b)
        case .text(let t): jsonString(t)
        case .list(let elements):
            "[" + elements.map { fields in
                if fields.count == 1, fields[0].0.isEmpty { return fields[0].1.json }
                return "{" + fields.map { "\(jsonString($0.0)): \($0.1.json)" }.joined(separator: ", ") + "}"
            }.joined(separator: ", ") + "]"
        }
    }
}

/// A JSON value as typed on the command line (list arguments).
enum JSONValue: Decodable {
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .number(String(i)) }
        else if let u = try? c.decode(UInt64.self) { self = .number(String(u)) }
        else if let d = try? c.decode(Double.self) { self = .number(String(d)) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
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
