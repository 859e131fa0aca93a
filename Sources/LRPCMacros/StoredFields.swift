// The stored properties of an @AStackValue struct, in declaration order: its fields.
import SwiftSyntax

struct StoredField {
    let name: String
    let type: TypeSyntax
}

enum StoredFields {
    /// Every stored instance property, or the first error, placed on the property.
    static func of(_ members: MemberBlockSyntax) throws -> [StoredField] {
        var fields: [StoredField] = []
        for member in members.members {
            guard let variable = member.decl.as(VariableDeclSyntax.self), !isStatic(variable) else { continue }
            for binding in variable.bindings where isStored(binding) {
                fields.append(try field(binding, constant: variable.bindingSpecifier.tokenKind == .keyword(.let)))
            }
        }
        return fields
    }

    private static func field(_ binding: PatternBindingSyntax, constant: Bool) throws -> StoredField {
        guard let name = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.trimmedDescription else {
            throw MacroDiagnostic("@AStackValue fields must be simple names").at(binding.pattern)
        }
        guard let type = binding.typeAnnotation?.type.trimmed else {
            throw MacroDiagnostic("field '\(name)' needs an explicit type: its layout is read from the declaration")
                .at(binding)
        }
        if let reason = FieldType.refusal(type) {
            throw MacroDiagnostic("field '\(name)': \(type) \(reason)").at(binding)
        }
        if constant && binding.initializer != nil {
            throw MacroDiagnostic("field '\(name)' is a let with a value, so init(from:) cannot set it; make it var")
                .at(binding)
        }
        return StoredField(name: name, type: type)
    }

    private static func isStatic(_ variable: VariableDeclSyntax) -> Bool {
        variable.modifiers.contains { $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class) }
    }

    /// Computed properties (a getter) are not fields; observers (willSet/didSet) are.
    private static func isStored(_ binding: PatternBindingSyntax) -> Bool {
        guard let accessors = binding.accessorBlock?.accessors else { return true }
        guard case .accessors(let list) = accessors else { return false }
        return list.allSatisfy {
            $0.accessorSpecifier.tokenKind == .keyword(.willSet) || $0.accessorSpecifier.tokenKind == .keyword(.didSet)
        }
    }
}

/// "public " or "package " when the declaration is, so generated members match it.
func accessPrefix(_ modifiers: DeclModifierListSyntax) -> String {
    for m in modifiers {
        switch m.name.tokenKind {
        case .keyword(.public), .keyword(.open): return "public "
        case .keyword(.package): return "package "
        default: continue
        }
    }
    return ""
}
