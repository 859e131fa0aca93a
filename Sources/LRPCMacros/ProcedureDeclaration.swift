// One procedure of a @ServiceInterface protocol, read from its method requirement:
//
//     @CallOptions(simultaneousCalls: 8)
//     func put(key: BoundedText<64>, value: BoundedBytes<512>, context: CallContext) throws(KVError) -> Empty
//
// Parameters are the arguments (a trailing `CallContext` parameter is the kernel's call
// record, not an argument); the return type is the result; the thrown type, if any, is
// the procedure's error type, rebuilt on the caller's side.
import SwiftSyntax

struct ProcedureDeclaration {
    struct Parameter {
        let label: String   // as the caller writes it ("_" for none)
        let field: String   // the A-stack field name
        let type: TypeSyntax
    }

    let name: String
    let id: String
    let simultaneousCalls: String
    let parameters: [Parameter]
    let takesContext: Bool
    let result: String?
    let errorType: String?
    let throwing: Bool

    init(_ function: FunctionDeclSyntax, index: Int) throws {
        name = function.name.text
        if function.signature.effectSpecifiers?.asyncSpecifier != nil {
            throw MacroDiagnostic(
                "procedure '\(name)' is async; handlers are synchronous (each call runs on its A-stack slot's own thread)"
            ).at(function.name)
        }
        var parameters: [Parameter] = []
        var takesContext = false
        let list = Array(function.signature.parameterClause.parameters)
        for (i, p) in list.enumerated() {
            let type = p.type.trimmed
            if type.trimmedDescription == "CallContext" {
                guard i == list.count - 1 else {
                    throw MacroDiagnostic("procedure '\(name)': the CallContext parameter must come last").at(p)
                }
                takesContext = true
                continue
            }
            let label = p.firstName.text
            let field = label == "_" ? (p.secondName?.text ?? "value") : label
            if let reason = FieldType.refusal(type) {
                throw MacroDiagnostic("procedure '\(name)', argument '\(field)': \(type) \(reason)").at(p)
            }
            parameters.append(Parameter(label: label, field: field, type: type))
        }
        self.parameters = parameters
        self.takesContext = takesContext
        if let clause = function.signature.returnClause {
            let r = clause.type.trimmed
            if let reason = FieldType.refusal(r) {
                // On the attached node: a trimmed copy has no place in the source.
                throw MacroDiagnostic("procedure '\(name)', result: \(r) \(reason)").at(clause.type)
            }
            result = r.trimmedDescription
        } else {
            result = nil
        }
        errorType = function.signature.effectSpecifiers?.throwsClause?.type?.trimmedDescription
        throwing = function.signature.effectSpecifiers?.throwsClause != nil
        let options = Self.options(function.attributes)
        id = options["id"] ?? "\(index)"
        simultaneousCalls = options["simultaneousCalls"] ?? "4"
    }

    /// The arguments travel as one value: Empty for none, the parameter's own type for a
    /// single unlabeled one, else a generated `<Name>Arguments` struct.
    var passesSingleValue: Bool { parameters.count == 1 && parameters[0].label == "_" }
    var argumentsStruct: String { name.prefix(1).uppercased() + name.dropFirst() + "Arguments" }
    var argumentsType: String {
        parameters.isEmpty ? "Empty" : passesSingleValue ? parameters[0].type.trimmedDescription : argumentsStruct
    }
    var resultType: String { result ?? "Empty" }

    /// `@CallOptions(id: 3, simultaneousCalls: 8)`, as label → expression text.
    private static func options(_ attributes: AttributeListSyntax) -> [String: String] {
        for case .attribute(let a) in attributes where a.attributeName.trimmedDescription == "CallOptions" {
            guard case .argumentList(let args)? = a.arguments else { continue }
            return Dictionary(args.compactMap { arg in arg.label.map { ($0.text, arg.expression.trimmedDescription) } },
                              uniquingKeysWith: { a, _ in a })
        }
        return [:]
    }
}
