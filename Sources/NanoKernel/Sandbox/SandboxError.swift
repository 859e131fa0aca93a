// SandboxError: why a filter could not be built, a domain not spawned, a report not read.

struct SandboxError: Error, Sendable, CustomStringConvertible {
    /// Already names the step and the OS error, e.g. "spawn /x: opening the executable: ...".
    let message: String
    /// The errno, where the caller may want to act on it (ENOENT from `receive`: the
    /// domain died before its report was read).
    let errno: Int32?

    init(_ message: String, errno: Int32? = nil) {
        self.message = message
        self.errno = errno
    }

    var description: String { message }
}
