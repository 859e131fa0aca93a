// HostPath: absolute paths as the learning kernel compares them with an image's grants.
// Lexical only (no file system) except `resolved` and `status`, which ask the host as the
// kernel sees it; in learning mode a domain sees the host's root too.
import Glibc

enum HostPath {
    /// <fcntl.h> values Glibc's Swift module leaves out (they need _GNU_SOURCE); x86_64.
    static let openPath: Int32 = 0o10000000        // O_PATH
    static let noAutomount: Int32 = 0x800          // AT_NO_AUTOMOUNT

    /// "/a//b/./c/../d" -> "/a/b/d". ".." above "/" stays at "/".
    static func normalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// True when `path` is `base` or lies beneath it (both normalised).
    static func isWithin(_ path: String, _ base: String) -> Bool {
        if base == "/" || path == base { return true }
        return path.hasPrefix(base) && path.utf8.dropFirst(base.utf8.count).first == UInt8(ascii: "/")
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func lastComponent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// How many components: "/" 0, "/etc" 1, "/etc/ssl" 2.
    static func depth(of path: String) -> Int { path.split(separator: "/").count }

    /// The host's canonical path (symlinks followed), or nil if it does not resolve.
    static func resolved(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// The path's canonical form with its last component left as named (for calls that
    /// act on a link itself, or create a new entry): the parent resolved, the name kept.
    static func resolvedParent(_ path: String) -> String? {
        guard let parent = resolved(parent(of: path)) else { return nil }
        let name = lastComponent(of: path)
        return parent == "/" ? "/" + name : parent + "/" + name
    }

    /// stat (or lstat) of a host path, never triggering an automount.
    static func status(_ path: String, follow: Bool = true) -> stat? {
        var st = stat()
        let flags = noAutomount | (follow ? 0 : AT_SYMLINK_NOFOLLOW)
        return fstatat(AT_FDCWD, path, &st, flags) == 0 ? st : nil
    }

    /// A TOML basic string: quotes and backslashes escaped, control and direction
    /// characters as \u escapes, so the text is both pasteable and safe in a log line.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" {
                out += "\\" + String(scalar)
            } else if DomainText.mustEscape(scalar) {  // what the kernel never logs raw
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `["a", "b"]`, as an image line writes a list.
    static func tomlList(_ items: [String]) -> String {
        "[" + items.map(quoted).joined(separator: ", ") + "]"
    }
}
