// @ServiceInterface("kv"): an interface declared once, as a protocol. Beside it the macro
// writes
//   - `KVInterface`: the name, one `Procedure` per method (ids in declaration order
//     unless @CallOptions says), generated argument structs (@AStackValue), the
//     procedure descriptor list, and `service(_:)`, which builds the handler table from
//     any value implementing the protocol;
//   - `KVClient`: the typed client stub, a synchronous and an async method per procedure,
//     rethrowing the procedure's declared error type; it calls through a
//     ServiceConnection, so it binds again by itself after the server restarts;
//   - `KVBindingClient`: the same methods over one ClientBinding, which does not.
import SwiftSyntax
import SwiftSyntaxMacros

public struct ServiceInterfaceMacro: PeerMacro {
    public static func expansion(
        of node: AttributeSyntax, providingPeersOf declaration: some DeclSyntaxProtocol,
        in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        guard let proto = declaration.as(ProtocolDeclSyntax.self) else {
            throw MacroDiagnostic("@ServiceInterface applies to a protocol declaring the procedures").at(node)
        }
        guard case .argumentList(let args)? = node.arguments, let nameArg = args.first else {
            throw MacroDiagnostic("@ServiceInterface needs the interface's name: @ServiceInterface(\"kv\")").at(node)
        }
        var procedures: [ProcedureDeclaration] = []
        for member in proto.memberBlock.members {
            guard let function = member.decl.as(FunctionDeclSyntax.self) else { continue }
            procedures.append(try ProcedureDeclaration(function, index: procedures.count))
        }
        let access = accessPrefix(proto.modifiers)
        let protocolName = proto.name.text
        return [
            DeclSyntax(stringLiteral: interfaceEnum(protocolName, procedures, access: access,
                                                    name: nameArg.expression.trimmedDescription)),
            DeclSyntax(stringLiteral: clientStruct(protocolName, procedures, access: access)),
            DeclSyntax(stringLiteral: bindingClientStruct(protocolName, procedures, access: access)),
        ]
    }

    static func interfaceEnum(_ proto: String, _ procedures: [ProcedureDeclaration], access: String, name: String) -> String {
        var lines = ["\(access)enum \(proto)Interface {", "\(access)static let name: String = \(name)"]
        for p in procedures where !p.parameters.isEmpty && !p.passesSingleValue {
            lines.append(argumentsStruct(p, access: access))
        }
        for p in procedures {
            lines.append("\(access)static let \(p.name) = Procedure<\(p.argumentsType), \(p.resultType)>(id: \(p.id), name: \"\(p.name)\", simultaneousCalls: \(p.simultaneousCalls))")
        }
        lines.append("\(access)static let all: [ProcedureDescriptor] = [\(procedures.map { "\($0.name).descriptor" }.joined(separator: ", "))]")
        lines.append("""
            /// A service whose handler table calls `server`. Handlers run at once on many
            /// threads (one per A-stack slot per binding), hence Sendable.
            \(access)static func service(_ server: some \(proto) & Sendable, name: String = name) -> Service {
            let service = Service(interface: name)
            \(procedures.map(handler).joined(separator: "\n"))
            return service
            }
            """)
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    static func argumentsStruct(_ p: ProcedureDeclaration, access: String) -> String {
        let fields = p.parameters.map { "\(access)var \($0.field): \($0.type)" }
        let params = p.parameters.map { "\($0.field): \($0.type)" }.joined(separator: ", ")
        let assigns = p.parameters.map { "self.\($0.field) = \($0.field)" }.joined(separator: "\n")
        // The same members @AStackValue writes (a macro's own output is not expanded
        // again inside a peer, so they are spelled out here).
        let members = AStackValueMacro.members(
            p.parameters.map { StoredField(name: $0.field, type: $0.type) },
            type: p.argumentsStruct, access: access, generic: false)
        return """
            \(access)struct \(p.argumentsStruct): AStackValue, Sendable {
            \(fields.joined(separator: "\n"))
            \(access)init(\(params)) {
            \(assigns)
            }
            \(members)
            }
            """
    }

    /// One handler: unpack the arguments, call the server, return its result.
    static func handler(_ p: ProcedureDeclaration) -> String {
        var args: [String]
        if p.passesSingleValue {
            args = ["arguments"]
        } else {
            args = p.parameters.map { ($0.label == "_" ? "" : "\($0.label): ") + "arguments.\($0.field)" }
        }
        if p.takesContext { args.append("context: context") }
        let call = (p.throwing ? "try " : "") + "server.\(p.name)(\(args.joined(separator: ", ")))"
        let body = p.result == nil ? "\(call)\nreturn Empty()" : "return \(call)"
        return "service.handle(\(p.name)) { arguments, context in\n\(body)\n}"
    }

    /// `XClient`: calls through a ServiceConnection, so it binds on first use and again
    /// after the server restarts. The stub to use.
    static func clientStruct(_ proto: String, _ procedures: [ProcedureDeclaration], access: String) -> String {
        let lines = [
            "/// The typed client stub of \(proto)Interface. It binds on first use and binds again",
            "/// after the server restarts (a ServiceConnection); a call in flight when the server",
            "/// died fails with `CallError.serverDied` and is not repeated.",
            "\(access)struct \(proto)Client: Sendable {",
            "\(access)let connection: ServiceConnection",
            "\(access)init(_ connection: ServiceConnection) { self.connection = connection }",
            "/// Binds at the first call. `callTimeoutSeconds` nil: the image's deadline for the interface.",
            "\(access)init(connecting runtime: DomainRuntime, name: String = \(proto)Interface.name, transport: Transport? = nil, callTimeoutSeconds: Double? = nil) {",
            "connection = ServiceConnection(runtime: runtime, interface: name, transport: transport, callTimeoutSeconds: callTimeoutSeconds)",
            "}",
            "/// Binds now, so a missing or failed service is an error here rather than at the first call.",
            "\(access)init(importing runtime: DomainRuntime, name: String = \(proto)Interface.name, transport: Transport? = nil, callTimeoutSeconds: Double? = nil) throws(CallError) {",
            "self.init(connecting: runtime, name: name, transport: transport, callTimeoutSeconds: callTimeoutSeconds)",
            "_ = try connection.binding()",
            "}",
        ]
        return (lines + clientMethods(procedures, proto: proto, access: access, target: "connection") + ["}"])
            .joined(separator: "\n")
    }

    /// `XBindingClient`: the same methods over one ClientBinding, which dies with its
    /// server (benchmarks and lessons about the binding object itself).
    static func bindingClientStruct(_ proto: String, _ procedures: [ProcedureDeclaration], access: String) -> String {
        let lines = [
            "/// The typed client stub of \(proto)Interface over one binding: no rebinding; after",
            "/// the server dies every call fails (`\(proto)Client` binds again).",
            "\(access)struct \(proto)BindingClient: Sendable {",
            "\(access)let binding: ClientBinding",
            "\(access)init(_ binding: ClientBinding) { self.binding = binding }",
            "/// Import the interface (binding steps 1-4) and wrap the binding.",
            "\(access)init(importing runtime: DomainRuntime, name: String = \(proto)Interface.name) throws { binding = try runtime.importInterface(name) }",
        ]
        return (lines + clientMethods(procedures, proto: proto, access: access, target: "binding") + ["}"])
            .joined(separator: "\n")
    }

    /// A synchronous and an async method per procedure, calling through `target`.
    static func clientMethods(_ procedures: [ProcedureDeclaration], proto: String, access: String, target: String) -> [String] {
        procedures.flatMap { p in
            [false, true].map { clientMethod(p, proto: proto, access: access, target: target, async: $0) }
        }
    }

    static func clientMethod(_ p: ProcedureDeclaration, proto: String, access: String, target: String, async: Bool) -> String {
        let params = p.parameters.map { param in
            (param.label == "_" ? "_ \(param.field)" : param.label) + ": \(param.type)"
        }.joined(separator: ", ")
        let value: String
        if p.parameters.isEmpty {
            value = "Empty()"
        } else if p.passesSingleValue {
            value = p.parameters[0].field
        } else {
            value = "\(proto)Interface.\(p.argumentsStruct)(" + p.parameters.map { "\($0.field): \($0.field)" }.joined(separator: ", ") + ")"
        }
        let errors = p.errorType.map { ", throwing: \($0).self" } ?? ""
        let throwsClause = p.errorType == nil ? "throws(CallError)" : "throws"
        let result = p.result.map { " -> \($0)" } ?? ""
        let call = async ? "try await \(target).callAsync" : "try \(target).call"
        let discard = p.result == nil ? "_ = " : "return "
        return "\(access)func \(p.name)(\(params)) \(async ? "async " : "")\(throwsClause)\(result) { \(discard)\(call)(\(proto)Interface.\(p.name), \(value)\(errors)) }"
    }
}

/// @CallOptions(id:simultaneousCalls:) marks a procedure; @ServiceInterface reads it.
public struct CallOptionsMacro: PeerMacro {
    public static func expansion(
        of node: AttributeSyntax, providingPeersOf declaration: some DeclSyntaxProtocol,
        in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] { [] }
}
