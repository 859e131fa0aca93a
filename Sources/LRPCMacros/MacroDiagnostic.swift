// A compile-time error from an LRPC macro, placed on the declaration at fault.
import SwiftDiagnostics
import SwiftSyntax

struct MacroDiagnostic: DiagnosticMessage, Error {
    let message: String
    var diagnosticID: MessageID { MessageID(domain: "LRPCMacros", id: "layout") }
    var severity: DiagnosticSeverity { .error }

    init(_ message: String) { self.message = message }

    func at(_ node: some SyntaxProtocol) -> DiagnosticsError {
        DiagnosticsError(diagnostics: [Diagnostic(node: Syntax(node), message: self)])
    }
}
