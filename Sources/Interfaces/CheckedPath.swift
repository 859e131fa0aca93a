// CheckedPath: the first of the three confinement layers of the file service (nk-file).
// A path from a client is text it wrote into the A-stack; before anything touches the
// disk it must be relative, printable, made of real names (no ".", "..", or empty
// components) and short enough. Layer two (openat2 beneath the view) and three (Landlock
// on the root) hold even when this one is wrong. Public so the bench can time it; the
// service is the only judge of a client's path.

public struct CheckedPath: CustomStringConvertible, Sendable {
    /// The names from the view's root down; empty for the view's root itself.
    public let components: [String]
    /// The path as openat2 takes it: "." for the root.
    public let relative: String

    public var description: String { relative }
    public var isRoot: Bool { components.isEmpty }
    /// The parent's components and the last name (nil for the view's root).
    public var parent: CheckedPath { CheckedPath(components: Array(components.dropLast())) }
    public var name: String? { components.last }

    public init(components: [String]) {
        self.init(components: components, relative: components.isEmpty ? "." : components.joined(separator: "/"))
    }

    /// `allowRoot`: "" (or ".") names the view's root, which may be listed, stat'ed,
    /// synced, but never written, removed or renamed. One pass over the UTF-8 bytes (a
    /// control character is always a single byte below 0x20, or 0x7f, in UTF-8): the
    /// checks run on every call, so they stay cheap.
    public init(checking text: String, allowRoot: Bool = false) throws(FileError) {
        if text.isEmpty || text == "." {
            guard allowRoot else { throw FileError(.invalidPath, "this call needs a path below your view's root, not the root itself") }
            self.init(components: [])
            return
        }
        var contiguous = text
        // withUTF8 rethrows untyped errors: carry the typed one out in a Result.
        let names = contiguous.withUTF8 { bytes in Result { () throws(FileError) in try Self.names(bytes, text) } }
        self.init(components: try names.get(), relative: text)
    }

    private static func names(_ bytes: UnsafeBufferPointer<UInt8>, _ text: String) throws(FileError) -> [String] {
        guard bytes.count <= FileInterface.pathCapacity else {
            throw FileError(.nameTooLong, "path is \(bytes.count) bytes; at most \(FileInterface.pathCapacity)")
        }
        if bytes.first == UInt8(ascii: "/") {
            throw FileError(.invalidPath, "'\(text)' is absolute; paths are relative to your view")
        }
        var components: [String] = []
        var start = 0
        for end in 0...bytes.count {
            if end < bytes.count {
                let byte = bytes[end]
                if byte < 0x20 || byte == 0x7f {
                    throw FileError(.invalidPath, "path contains control character U+\(String(byte, radix: 16, uppercase: true)) (NUL and control characters are refused)")
                }
                if byte != UInt8(ascii: "/") { continue }
            }
            let name = UnsafeBufferPointer(rebasing: bytes[start..<end])
            try check(name, text)
            components.append(String(decoding: name, as: UTF8.self))
            start = end + 1
        }
        return components
    }

    private static func check(_ name: UnsafeBufferPointer<UInt8>, _ text: String) throws(FileError) {
        if name.isEmpty { throw FileError(.invalidPath, "'\(text)' has an empty component ('//' or a trailing '/')") }
        if name.elementsEqual("..".utf8) { throw FileError(.outsideView, "'\(text)' uses '..'; paths cannot leave your view") }
        if name.elementsEqual(".".utf8) { throw FileError(.invalidPath, "'\(text)' has a '.' component") }
        if name.count > FileInterface.nameLimit {
            throw FileError(.nameTooLong, "a component of '\(text.prefix(64))...' is \(name.count) bytes; names hold at most \(FileInterface.nameLimit)")
        }
        if name.starts(with: TemporaryName.prefix.utf8) {
            throw FileError(.invalidPath, "names starting with '\(TemporaryName.prefix)' are the service's own temporary files")
        }
    }

    private init(components: [String], relative: String) {
        self.components = components
        self.relative = relative
    }
}

/// The service's temporary files (write, put): ".nk-put-<instance>-<n>" beside their target.
/// A restarted service removes those of earlier instances; clients cannot name them.
public enum TemporaryName {
    public static let prefix = ".nk-put-"
    /// A client's partial upload (FileClient.upload): an ordinary name to the client, but
    /// the service removes one left idle (its client died, or the service was killed
    /// under it) and never creates one by writing in place.
    public static let uploadPrefix = ".upload-"
}
