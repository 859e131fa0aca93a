// The name service: the clerk's registry. Every server registers the interfaces it
// exports here; clients ask it what exists.
import LRPC

public enum NameInterface {
    public static let name = "name"
    public static let maximumName = 32

    public static let register = Procedure<InterfaceName, Empty>(id: 0, name: "register")
    public static let lookup = Procedure<InterfaceName, Registration>(id: 1, name: "lookup")
    public static let list = Procedure<Empty, NameList>(id: 2, name: "list")

    public static let all: [ProcedureDescriptor] = [register.descriptor, lookup.descriptor, list.descriptor]
}

public struct InterfaceName: AStackValue, Sendable, Equatable {
    public var name: String
    public init(_ name: String) { self.name = name }
    public static let layout = FieldLayout([Field("name", .text, capacity: NameInterface.maximumName)])
    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(text: name, capacity: NameInterface.maximumName, field: "name")
    }
    public init(from r: inout AStackReader) throws(CallError) {
        name = try r.getText(capacity: NameInterface.maximumName, field: "name")
    }
}

/// Who registered an interface: the kernel-assigned domain id of the registrant.
public struct Registration: AStackValue, Sendable, Equatable {
    public var found: Bool
    public var domain: UInt32
    public init(found: Bool, domain: UInt32) { self.found = found; self.domain = domain }
    public static let layout = FieldLayout([Field("found", .bool), Field("domain", .uint32)])
    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(found, field: "found")
        try w.put(domain, field: "domain")
    }
    public init(from r: inout AStackReader) throws(CallError) {
        found = try r.getBool(field: "found")
        domain = try r.get(field: "domain")
    }
}

/// Registered interface names, newline-separated, sorted.
public struct NameList: AStackValue, Sendable, Equatable {
    public static let capacity = 1024
    public var names: [String]
    public init(_ names: [String]) { self.names = names }
    public static let layout = FieldLayout([Field("count", .uint32), Field("names", .text, capacity: capacity)])
    public func write(to w: inout AStackWriter) throws(CallError) {
        try w.put(UInt32(names.count), field: "count")
        try w.put(text: names.joined(separator: "\n"), capacity: Self.capacity, field: "names")
    }
    public init(from r: inout AStackReader) throws(CallError) {
        let count = try r.get(UInt32.self, field: "count")
        let text = try r.getText(capacity: Self.capacity, field: "names")
        names = text.isEmpty ? [] : text.split(separator: "\n").map(String.init)
        guard names.count == count else { throw .malformed("name list says \(count) names, holds \(names.count)") }
    }
}
