// The compiler plugin: the macros LRPC declares (see Sources/LRPC/Interface/Macros.swift).
import SwiftCompilerPlugin
import SwiftSyntaxMacros

@main
struct LRPCMacrosPlugin: CompilerPlugin {
    let providingMacros: [Macro.Type] = [AStackValueMacro.self, ServiceInterfaceMacro.self, CallOptionsMacro.self]
}
