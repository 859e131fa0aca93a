// @AStackValue: a struct's fixed A-stack layout, copy-in and copy-out, all generated
// from its stored properties. The layout is composed from each field type's own
// `fields(named:)` and the copy code calls the same types' `write`/`init(from:)`, so what
// the descriptor says and what the stubs copy cannot differ.
//
//     @AStackValue struct Entry { var key: BoundedText<64>; var value: BoundedBytes<512> }
//
// expands to an extension with `layout`, `write(to:)` and `init(from:)` (in an extension,
// so the struct keeps its memberwise initializer), and, for a public struct without an
// initializer, a public memberwise one.
import SwiftSyntax
import SwiftSyntaxMacros

public struct AStackValueMacro: ExtensionMacro, MemberMacro {
    /// The member role adds only a public memberwise initializer (see memberwiseInit).
    public static func expansion(
        of node: AttributeSyntax, providingMembersOf declaration: some DeclGroupSyntax,
        conformingTo protocols: [TypeSyntax], in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        // Errors are reported once, by the extension role.
        guard let structure = declaration.as(StructDeclSyntax.self),
              let fields = try? StoredFields.of(structure.memberBlock) else { return [] }
        let access = accessPrefix(structure.modifiers)
        guard !access.isEmpty, !declaresInitializer(structure) else { return [] }
        return [DeclSyntax(stringLiteral: memberwiseInit(fields, access: access))]
    }

    public static func expansion(
        of node: AttributeSyntax, attachedTo declaration: some DeclGroupSyntax,
        providingExtensionsOf type: some TypeSyntaxProtocol, conformingTo protocols: [TypeSyntax],
        in context: some MacroExpansionContext
    ) throws -> [ExtensionDeclSyntax] {
        guard let structure = declaration.as(StructDeclSyntax.self) else {
            throw MacroDiagnostic(
                "@AStackValue applies to structs: a value is copied into another protection domain, a reference cannot be"
            ).at(node)
        }
        let fields = try StoredFields.of(structure.memberBlock)
        let access = accessPrefix(structure.modifiers)
        let conformance = protocols.isEmpty ? "" : ": AStackValue"
        let text = members(fields, type: type.trimmedDescription, access: access,
                           generic: structure.genericParameterClause != nil)
        return [try ExtensionDeclSyntax("extension \(type.trimmed)\(raw: conformance) {\n\(raw: text)\n}")]
    }

    /// A public struct's synthesized memberwise initializer is internal; another module
    /// (a client of the interface) needs one it can call. It goes in the struct's body
    /// (an extension may not redeclare the synthesized one).
    static func memberwiseInit(_ fields: [StoredField], access: String) -> String {
        let params = fields.map { "\($0.name): \($0.type)" }.joined(separator: ", ")
        let assigns = fields.map { "    self.\($0.name) = \($0.name)" }.joined(separator: "\n")
        return "\(access)init(\(params)) {\n\(assigns)\n}"
    }

    static func declaresInitializer(_ structure: StructDeclSyntax) -> Bool {
        structure.memberBlock.members.contains { $0.decl.is(InitializerDeclSyntax.self) }
    }

    /// The three members, as source text.
    static func members(_ fields: [StoredField], type: String, access: String, generic: Bool) -> String {
        let parts = fields.map { "astackFields(\\\(type).\($0.name), \"\($0.name)\")" }
        // Generic types cannot hold static stored properties; the layout is only read at
        // export and by nkctl, never per call.
        let layout = generic
            ? "\(access)static var layout: FieldLayout { FieldLayout(composing: [\(parts.joined(separator: ", "))]) }"
            : "\(access)static let layout = FieldLayout(composing: [\(parts.joined(separator: ", "))])"
        let writes = fields.map { "    try self.\($0.name).write(to: &writer, field: \"\($0.name)\")" }
        let reads = fields.map { "    self.\($0.name) = try .init(from: &reader, field: \"\($0.name)\")" }
        return """
            \(layout)
            \(access)func write(to writer: inout AStackWriter) throws(CallError) {
            \(writes.joined(separator: "\n"))
            }
            \(access)init(from reader: inout AStackReader) throws(CallError) {
            \(reads.joined(separator: "\n"))
            }
            """
    }
}
