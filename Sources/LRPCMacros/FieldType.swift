// Which declared types can be an A-stack field. An A-stack value has one fixed layout,
// copied by value into memory shared with another protection domain, so every field
// needs a bound and must mean the same thing in the other process. The macro refuses,
// by name, the types that cannot; types it does not know (nested values) are left to the
// compiler, which checks them against `AStackField`.
import SwiftSyntax

enum FieldType {
    /// Why `type` cannot be a field, or nil when it may be one.
    static func refusal(_ type: TypeSyntax) -> String? {
        if let optional = type.as(OptionalTypeSyntax.self) { return refusal(optional.wrappedType) }
        if type.is(ArrayTypeSyntax.self) || type.is(DictionaryTypeSyntax.self) {
            return unboundedCollection
        }
        if type.is(FunctionTypeSyntax.self) { return "is a closure, which cannot be copied to another protection domain" }
        if type.is(TupleTypeSyntax.self) { return "is a tuple; declare a nested @AStackValue struct instead" }
        if type.is(SomeOrAnyTypeSyntax.self) || type.is(MetatypeTypeSyntax.self) {
            return "is an existential or a metatype, which has no fixed layout"
        }
        if type.is(ImplicitlyUnwrappedOptionalTypeSyntax.self) { return "is an implicitly unwrapped optional; use T?" }
        guard let name = type.as(IdentifierTypeSyntax.self)?.name.text
                ?? type.as(MemberTypeSyntax.self)?.name.text else { return nil }
        if name == "BoundedList" || name == "Optional", let element = firstGenericArgument(type),
           let reason = refusal(element) {
            return "holds \(element.trimmedDescription), which \(reason)"
        }
        return refusal(named: name)
    }

    static let unboundedCollection =
        "is an unbounded collection; an A-stack field has a fixed size (use BoundedList<T, N> for at most N values of T, BoundedBytes<N> or BoundedText<N>)"

    /// `T` of `BoundedList<T, N>` or `Optional<T>`, when it is a type.
    private static func firstGenericArgument(_ type: TypeSyntax) -> TypeSyntax? {
        let clause = type.as(IdentifierTypeSyntax.self)?.genericArgumentClause
            ?? type.as(MemberTypeSyntax.self)?.genericArgumentClause
        guard let first = clause?.arguments.first else { return nil }
        return TypeSyntax(first.argument.as(TypeSyntax.self))
    }

    private static func refusal(named name: String) -> String? {
        switch name {
        case "String", "Substring", "Character":
            return "is an unbounded String; declare it BoundedText<N>, N being its most UTF-8 bytes"
        case "Array", "ContiguousArray", "Set", "Dictionary", "Data":
            return unboundedCollection
        case "Int", "UInt":
            return "is \(name), whose width is the machine's; declare \(name)64 or \(name)32"
        case "Int8", "UInt8", "Int16", "UInt16", "Float", "Float16":
            return "has no A-stack field kind; use Int32, UInt32, Int64, UInt64, Double or Bool"
        case "OpaquePointer", "AnyObject", "Any", "AnyClass":
            return "is a reference, which means nothing in another protection domain; copy the value itself"
        case _ where name.hasPrefix("Unsafe") && name.contains("Pointer"):
            return "is a pointer, which means nothing in another protection domain; copy the value itself"
        default:
            return nil
        }
    }
}
