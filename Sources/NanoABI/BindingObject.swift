// BindingObject: the unforgeable handle the kernel hands a client at import. It names
// a row of the kernel's binding table (index, generation) and carries a 64-bit random
// secret; the kernel checks all three on every call trap. nkctl never prints the secret.
//
// `node` leaves room for the LRPC paper's remote bindings: 0 is this machine (the only
// node today). A binding object whose node is not 0 is remote: a client stub routes it
// to a network transport instead of the trap page (the paper's "remote bit").
public struct BindingObject: Sendable, Equatable, Hashable {
    public var index: UInt32
    public var generation: UInt32
    public var secret: UInt64
    public var node: UInt32

    public static let localNode: UInt32 = 0

    public init(index: UInt32, generation: UInt32, secret: UInt64, node: UInt32 = BindingObject.localNode) {
        self.index = index
        self.generation = generation
        self.secret = secret
        self.node = node
    }

    /// The seeds' remote bit: the binding leads off this machine.
    public var isRemote: Bool { node != Self.localNode }
}
