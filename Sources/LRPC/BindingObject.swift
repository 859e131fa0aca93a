// BindingObject: the unforgeable handle the kernel hands a client at import. It names
// a row of the kernel's binding table (index, generation) and carries a 64-bit random
// secret; the kernel checks all three on every call trap. nkctl never prints the secret.
public struct BindingObject: Sendable, Equatable, Hashable {
    public var index: UInt32
    public var generation: UInt32
    public var secret: UInt64

    public init(index: UInt32, generation: UInt32, secret: UInt64) {
        self.index = index
        self.generation = generation
        self.secret = secret
    }
}
