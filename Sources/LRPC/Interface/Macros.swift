// The interface macros (implemented in Sources/LRPCMacros; they run in the compiler).

/// Generates `layout`, `write(to:)` and `init(from:)` from a struct's stored properties
/// and makes it an `AStackValue`. A field type with no fixed bound (String, arrays,
/// pointers, Int) is a compile-time error naming the field. A public struct without an
/// initializer of its own also gets a public memberwise `init`.
@attached(member, names: named(init))
@attached(extension, conformances: AStackValue, names: named(layout), named(write(to:)), named(init))
public macro AStackValue() = #externalMacro(module: "LRPCMacros", type: "AStackValueMacro")

/// Declares an interface once, as a protocol whose methods are its procedures; generates
/// `<P>Interface` (procedures, descriptor list, `service(_:)`), `<P>Client` (the typed
/// stub, synchronous and async, over a ServiceConnection: it binds again after the server
/// restarts) and `<P>BindingClient` (the same methods over one ClientBinding).
@attached(peer, names: suffixed(Interface), suffixed(Client), suffixed(BindingClient))
public macro ServiceInterface(_ name: String) = #externalMacro(module: "LRPCMacros", type: "ServiceInterfaceMacro")

/// A procedure's id (default: its position) and how many calls it accepts at once
/// (default 4; the binding gets that many A-stack slots and server threads).
@attached(peer)
public macro CallOptions(id: UInt32 = 0, simultaneousCalls: Int = 4) =
    #externalMacro(module: "LRPCMacros", type: "CallOptionsMacro")
