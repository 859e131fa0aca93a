// The name service: the clerk's registry. Every server registers the interfaces it
// exports here; clients ask it what exists.
import LRPC

@ServiceInterface("name")
public protocol Name {
    /// The caller (from the kernel's call record and binding) registers `name` as its own.
    func register(_ name: InterfaceName, context: CallContext) throws
    func lookup(_ name: InterfaceName) -> Registration
    func list() -> NameList
}

extension NameInterface {
    public static let maximumName = 32
    /// Names the registry holds at most, and at most per registrant: a full list always
    /// fits `NameList`.
    public static let maximumEntries = 64
    public static let maximumEntriesPerRegistrant = 8

    /// Why `name` cannot be registered, or nil: 1 to `maximumName` bytes of ASCII letters,
    /// digits, '.', '_' and '-', starting with a letter or digit (no newline, no control
    /// character, nothing a list or a terminal would misread).
    public static func problem(with name: String) -> String? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { return "the name is empty" }
        guard bytes.count <= maximumName else { return "the name is \(bytes.count) bytes; at most \(maximumName)" }
        func isAlphanumeric(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7a) }
        guard isAlphanumeric(bytes[0]) else { return "the name must start with a letter or a digit" }
        guard bytes.allSatisfy({ isAlphanumeric($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }) else {
            return "the name may hold only letters, digits, '.', '_' and '-'"
        }
        return nil
    }
}

@AStackValue
public struct InterfaceName: Sendable, Equatable {
    public var name: BoundedText<32>  // NameInterface.maximumName
    public init(_ name: String) { self.name = BoundedText(name) }
}

/// Who registered an interface: the kernel-assigned domain id of the registrant.
@AStackValue
public struct Registration: Sendable, Equatable {
    public var found: Bool
    public var domain: UInt32
    public init(found: Bool, domain: UInt32) { self.found = found; self.domain = domain }
}

/// Registered interface names, sorted: a bounded list, so a full registry always fits
/// (`maximumEntries` names of at most `maximumName` bytes each).
@AStackValue
public struct NameList: Sendable, Equatable {
    public var registered: BoundedList<BoundedText<32>, 64>  // maximumName, maximumEntries
    public init(_ names: [String]) { registered = BoundedList(names.map { BoundedText($0) }) }
    public var names: [String] { registered.map(\.text) }
}
