// What the kernel tells the file service at spawn, from the image's [service.file] table:
// its root as an open directory (fd NK_FILE_ROOT_FD; the kernel opened it, so this
// domain needs no path to it) and the view grants in NK_FILE_CONFIG, one per line:
//
//     service<TAB>NAME                                   one per service in the image
//     view<TAB>CLIENT<TAB>rw|ro<TAB>MAX_BYTES<TAB>MAX_FILES<TAB>PATH
//     upload_idle_s<TAB>SECONDS                          a partial upload idle this long is removed
//
// CLIENT is "operator" (any nkctl or other operator client), "*" (any service of the
// image without a grant of its own) or a service's name. PATH may contain "{client}".
// A limit of 0 means none. The kernel checked every field when it read the image.
import Glibc

struct ViewGrant: Equatable {
    let client: String
    let writable: Bool
    let maxBytes: UInt64
    let maxFiles: UInt64
    let path: String
}

struct FileServiceConfig {
    var rootFD: Int32 = -1
    var services: Set<String> = []
    var grants: [ViewGrant] = []
    var uploadIdleSeconds = 600

    static func fromEnvironment() throws -> FileServiceConfig {
        var config = FileServiceConfig()
        guard let fdText = getenv("NK_FILE_ROOT_FD").map({ String(cString: $0) }), let fd = Int32(fdText) else {
            throw ConfigError("NK_FILE_ROOT_FD is not set: the kernel starts nk-file only for an image with a [service.file] table")
        }
        config.rootFD = fd
        let text = getenv("NK_FILE_CONFIG").map { String(cString: $0) } ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "service" where fields.count == 2:
                config.services.insert(fields[1])
            case "upload_idle_s" where fields.count == 2:
                guard let seconds = Int(fields[1]), seconds > 0 else { throw ConfigError("NK_FILE_CONFIG: bad line '\(line)'") }
                config.uploadIdleSeconds = seconds
            case "view" where fields.count == 6:
                guard let bytes = UInt64(fields[3]), let files = UInt64(fields[4]), ["rw", "ro"].contains(fields[2]) else {
                    throw ConfigError("NK_FILE_CONFIG: bad view line '\(line)'")
                }
                config.grants.append(ViewGrant(client: fields[1], writable: fields[2] == "rw",
                                               maxBytes: bytes, maxFiles: files, path: fields[5]))
            default:
                throw ConfigError("NK_FILE_CONFIG: unreadable line '\(line)'")
            }
        }
        return config
    }

    /// The grant for a caller the kernel named. A name that is one of the image's
    /// services is that service; any other name is an operator client (the kernel names
    /// those "<tool>-<pid>").
    func grant(for caller: String) -> (ViewGrant, path: String)? {
        let isService = services.contains(caller)
        let grant = isService
            ? grants.first { $0.client == caller } ?? grants.first { $0.client == "*" }
            : grants.first { $0.client == "operator" }
        guard let grant else { return nil }
        return (grant, grant.path.replacingOccurrences(of: "{client}", with: caller))
    }
}

struct ConfigError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
