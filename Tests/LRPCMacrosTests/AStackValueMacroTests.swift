// The macros' expansions and their compile-time errors, checked with swift-syntax's
// macro test support (no compiler run: the expansion function itself).
import LRPCMacros
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacros
import SwiftSyntaxMacrosTestSupport
import XCTest

private let macros: [String: MacroSpec] = [
    "AStackValue": MacroSpec(type: AStackValueMacro.self, conformances: ["AStackValue"]),
    "ServiceInterface": MacroSpec(type: ServiceInterfaceMacro.self),
    "CallOptions": MacroSpec(type: CallOptionsMacro.self),
]

final class AStackValueMacroTests: XCTestCase {
    func testAStructExpandsToLayoutAndCopyCodeFromTheSameFields() {
        assertMacroExpansion(
            """
            @AStackValue public struct Entry {
                public var key: BoundedText<64>
                public var value: BoundedBytes<512>
            }
            """,
            expandedSource: """
            public struct Entry {
                public var key: BoundedText<64>
                public var value: BoundedBytes<512>

                public init(key: BoundedText<64>, value: BoundedBytes<512>) {
                    self.key = key
                    self.value = value
                }
            }

            extension Entry: AStackValue {
                public static let layout = FieldLayout(composing: [astackFields(\\Entry.key, "key"), astackFields(\\Entry.value, "value")])
                public func write(to writer: inout AStackWriter) throws(CallError) {
                    try self.key.write(to: &writer, field: "key")
                    try self.value.write(to: &writer, field: "value")
                }
                public init(from reader: inout AStackReader) throws(CallError) {
                    self.key = try .init(from: &reader, field: "key")
                    self.value = try .init(from: &reader, field: "value")
                }
            }
            """,
            macroSpecs: macros)
    }

    func testComputedAndStaticPropertiesAreNotFields() {
        assertMacroExpansion(
            """
            @AStackValue struct T {
                static let cap = 3
                var a: Int32
                var twice: Int32 { a * 2 }
            }
            """,
            expandedSource: """
            struct T {
                static let cap = 3
                var a: Int32
                var twice: Int32 { a * 2 }
            }

            extension T: AStackValue {
                static let layout = FieldLayout(composing: [astackFields(\\T.a, "a")])
                func write(to writer: inout AStackWriter) throws(CallError) {
                    try self.a.write(to: &writer, field: "a")
                }
                init(from reader: inout AStackReader) throws(CallError) {
                    self.a = try .init(from: &reader, field: "a")
                }
            }
            """,
            macroSpecs: macros)
    }

    func testFieldsWithNoBoundAreCompileTimeErrorsNamingTheField() {
        let cases: [(String, String)] = [
            ("var name: String", "field 'name': String is an unbounded String; declare it BoundedText<N>, N being its most UTF-8 bytes"),
            ("var items: [UInt32]", "field 'items': [UInt32] is an unbounded collection; an A-stack field has a fixed size (use BoundedList<T, N> for at most N values of T, BoundedBytes<N> or BoundedText<N>)"),
            ("var ids: Array<UInt32>", "field 'ids': Array<UInt32> is an unbounded collection; an A-stack field has a fixed size (use BoundedList<T, N> for at most N values of T, BoundedBytes<N> or BoundedText<N>)"),
            ("var names: BoundedList<String, 8>", "field 'names': BoundedList<String, 8> holds String, which is an unbounded String; declare it BoundedText<N>, N being its most UTF-8 bytes"),
            ("var rows: BoundedList<[UInt8], 8>?", "field 'rows': BoundedList<[UInt8], 8>? holds [UInt8], which is an unbounded collection; an A-stack field has a fixed size (use BoundedList<T, N> for at most N values of T, BoundedBytes<N> or BoundedText<N>)"),
            ("var p: UnsafeMutablePointer<UInt8>", "field 'p': UnsafeMutablePointer<UInt8> is a pointer, which means nothing in another protection domain; copy the value itself"),
            ("var n: Int", "field 'n': Int is Int, whose width is the machine's; declare Int64 or Int32"),
            ("var maybe: String?", "field 'maybe': String? is an unbounded String; declare it BoundedText<N>, N being its most UTF-8 bytes"),
            ("var any: AnyObject", "field 'any': AnyObject is a reference, which means nothing in another protection domain; copy the value itself"),
            ("var f: () -> Void", "field 'f': () -> Void is a closure, which cannot be copied to another protection domain"),
            ("var untyped = 3", "field 'untyped' needs an explicit type: its layout is read from the declaration"),
        ]
        for (field, message) in cases {
            assertMacroExpansion(
                "@AStackValue struct Bad {\n    var ok: Int32\n    \(field)\n}",
                expandedSource: "struct Bad {\n    var ok: Int32\n    \(field)\n}",
                diagnostics: [DiagnosticSpec(message: message, line: 3, column: 9)],
                macroSpecs: macros)
        }
    }

    func testABoundedListFieldExpandsLikeAnyOtherField() {
        assertMacroExpansion(
            """
            @AStackValue struct Page {
                var entries: BoundedList<Entry, 100>
                var next: UInt64
            }
            """,
            expandedSource: """
            struct Page {
                var entries: BoundedList<Entry, 100>
                var next: UInt64
            }

            extension Page: AStackValue {
                static let layout = FieldLayout(composing: [astackFields(\\Page.entries, "entries"), astackFields(\\Page.next, "next")])
                func write(to writer: inout AStackWriter) throws(CallError) {
                    try self.entries.write(to: &writer, field: "entries")
                    try self.next.write(to: &writer, field: "next")
                }
                init(from reader: inout AStackReader) throws(CallError) {
                    self.entries = try .init(from: &reader, field: "entries")
                    self.next = try .init(from: &reader, field: "next")
                }
            }
            """,
            macroSpecs: macros)
    }

    /// An array in a procedure's signature is refused like an array field, pointing to
    /// BoundedList.
    func testAnArrayArgumentOrResultPointsToBoundedList() {
        assertMacroExpansion(
            """
            @ServiceInterface("kv")
            protocol KV {
                func keys(prefix: BoundedText<8>) -> [BoundedText<8>]
            }
            """,
            expandedSource: """
            protocol KV {
                func keys(prefix: BoundedText<8>) -> [BoundedText<8>]
            }
            """,
            diagnostics: [DiagnosticSpec(
                message: "procedure 'keys', result: [BoundedText<8>] is an unbounded collection; an A-stack field has a fixed size (use BoundedList<T, N> for at most N values of T, BoundedBytes<N> or BoundedText<N>)",
                line: 3, column: 42)],
            macroSpecs: macros)
    }

    func testAClassIsRefused() {
        assertMacroExpansion(
            "@AStackValue final class Node {\n    var next: Int32 = 0\n}",
            expandedSource: "final class Node {\n    var next: Int32 = 0\n}",
            diagnostics: [DiagnosticSpec(
                message: "@AStackValue applies to structs: a value is copied into another protection domain, a reference cannot be",
                line: 1, column: 1)],
            macroSpecs: macros)
    }
}

final class ServiceInterfaceMacroTests: XCTestCase {
    func testAProtocolExpandsToProceduresHandlersAndATypedClient() {
        assertMacroExpansion(
            """
            @ServiceInterface("kv")
            protocol KV {
                func put(key: BoundedText<8>, value: UInt64) throws(KVError)
                @CallOptions(id: 7, simultaneousCalls: 1) func count(context: CallContext) -> UInt32
            }
            """,
            expandedSource: """
            protocol KV {
                func put(key: BoundedText<8>, value: UInt64) throws(KVError)
                func count(context: CallContext) -> UInt32
            }

            enum KVInterface {
                static let name: String = "kv"
                struct PutArguments: AStackValue, Sendable {
                    var key: BoundedText<8>
                    var value: UInt64
                    init(key: BoundedText<8>, value: UInt64) {
                        self.key = key
                        self.value = value
                    }
                    static let layout = FieldLayout(composing: [astackFields(\\PutArguments.key, "key"), astackFields(\\PutArguments.value, "value")])
                    func write(to writer: inout AStackWriter) throws(CallError) {
                        try self.key.write(to: &writer, field: "key")
                        try self.value.write(to: &writer, field: "value")
                    }
                    init(from reader: inout AStackReader) throws(CallError) {
                        self.key = try .init(from: &reader, field: "key")
                        self.value = try .init(from: &reader, field: "value")
                    }
                }
                static let put = Procedure<PutArguments, Empty>(id: 0, name: "put", simultaneousCalls: 4)
                static let count = Procedure<Empty, UInt32>(id: 7, name: "count", simultaneousCalls: 1)
                static let all: [ProcedureDescriptor] = [put.descriptor, count.descriptor]
                /// A service whose handler table calls `server`. Handlers run at once on many
                /// threads (one per A-stack slot per binding), hence Sendable.
                static func service(_ server: some KV & Sendable, name: String = name) -> Service {
                    let service = Service(interface: name)
                    service.handle(put) { arguments, context in
                        try server.put(key: arguments.key, value: arguments.value)
                        return Empty()
                    }
                    service.handle(count) { arguments, context in
                        return server.count(context: context)
                    }
                    return service
                }
            }

            /// The typed client stub of KVInterface. It binds on first use and binds again
            /// after the server restarts (a ServiceConnection); a call in flight when the server
            /// died fails with `CallError.serverDied` and is not repeated.
            struct KVClient: Sendable {
                let connection: ServiceConnection
                init(_ connection: ServiceConnection) {
                    self.connection = connection
                }
                /// Binds at the first call. `callTimeoutSeconds` nil: the image's deadline for the interface.
                init(connecting runtime: DomainRuntime, name: String = KVInterface.name, transport: Transport? = nil, callTimeoutSeconds: Double? = nil) {
                    connection = ServiceConnection(runtime: runtime, interface: name, transport: transport, callTimeoutSeconds: callTimeoutSeconds)
                }
                /// Binds now, so a missing or failed service is an error here rather than at the first call.
                init(importing runtime: DomainRuntime, name: String = KVInterface.name, transport: Transport? = nil, callTimeoutSeconds: Double? = nil) throws(CallError) {
                    self.init(connecting: runtime, name: name, transport: transport, callTimeoutSeconds: callTimeoutSeconds)
                    _ = try connection.binding()
                }
                func put(key: BoundedText<8>, value: UInt64) throws {
                    _ = try connection.call(KVInterface.put, KVInterface.PutArguments(key: key, value: value), throwing: KVError.self)
                }
                func put(key: BoundedText<8>, value: UInt64) async throws {
                    _ = try await connection.callAsync(KVInterface.put, KVInterface.PutArguments(key: key, value: value), throwing: KVError.self)
                }
                func count() throws(CallError) -> UInt32 {
                    return try connection.call(KVInterface.count, Empty())
                }
                func count() async throws(CallError) -> UInt32 {
                    return try await connection.callAsync(KVInterface.count, Empty())
                }
            }

            /// The typed client stub of KVInterface over one binding: no rebinding; after
            /// the server dies every call fails (`KVClient` binds again).
            struct KVBindingClient: Sendable {
                let binding: ClientBinding
                init(_ binding: ClientBinding) {
                    self.binding = binding
                }
                /// Import the interface (binding steps 1-4) and wrap the binding.
                init(importing runtime: DomainRuntime, name: String = KVInterface.name) throws {
                    binding = try runtime.importInterface(name)
                }
                func put(key: BoundedText<8>, value: UInt64) throws {
                    _ = try binding.call(KVInterface.put, KVInterface.PutArguments(key: key, value: value), throwing: KVError.self)
                }
                func put(key: BoundedText<8>, value: UInt64) async throws {
                    _ = try await binding.callAsync(KVInterface.put, KVInterface.PutArguments(key: key, value: value), throwing: KVError.self)
                }
                func count() throws(CallError) -> UInt32 {
                    return try binding.call(KVInterface.count, Empty())
                }
                func count() async throws(CallError) -> UInt32 {
                    return try await binding.callAsync(KVInterface.count, Empty())
                }
            }
            """,
            macroSpecs: macros)
    }

    func testAnUnboundedArgumentIsACompileTimeErrorNamingIt() {
        assertMacroExpansion(
            """
            @ServiceInterface("kv")
            protocol KV {
                func put(key: String)
            }
            """,
            expandedSource: """
            protocol KV {
                func put(key: String)
            }
            """,
            diagnostics: [DiagnosticSpec(
                message: "procedure 'put', argument 'key': String is an unbounded String; declare it BoundedText<N>, N being its most UTF-8 bytes",
                line: 3, column: 14)],
            macroSpecs: macros)
    }
}
