// Subprocess: posix_spawn with stdout (and stderr) on a pipe, reaped with waitpid, so
// nothing depends on a run loop watching for SIGCHLD.
import Foundation
import Glibc

struct Subprocess {
    let pid: pid_t
    /// The read end of the child's stdout.
    let output: Int32

    static func spawn(_ arguments: [String], stderrToo: Bool) -> Subprocess? {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return nil }
        // Neither end may leak into other children (another client, a kernel).
        pipeEnds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        if stderrToo {
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &pointers, environ)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            return nil
        }
        return Subprocess(pid: pid, output: pipeEnds[0])
    }

    /// Wait up to `seconds` for the exit (then SIGKILL); the exit status, or 128+signal.
    func wait(seconds: Double) -> Int32 {
        var status: Int32 = 0
        if !waitUntil(seconds: seconds, { waitpid(pid, &status, WNOHANG) == pid }) {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Read lines until end-of-file, handing each to `line`.
    func readLines(_ line: (String) -> Void) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(output, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            buffer += chunk[0..<n]
            while let newline = buffer.firstIndex(of: 10) {
                line(String(decoding: buffer[..<newline], as: UTF8.self))
                buffer.removeSubrange(...newline)
            }
        }
        if !buffer.isEmpty { line(String(decoding: buffer, as: UTF8.self)) }
        close(output)
    }
}
