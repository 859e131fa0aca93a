// ClientHandle: a client process of the campaign and the last counts it printed.
import Foundation
import Glibc

final class ClientHandle: @unchecked Sendable {
    let child: Subprocess
    private let lock = NSLock()
    private var latest = CallCounts()
    private var reader: Thread?
    private var exited = false

    var pid: Int32 { child.pid }
    var counts: CallCounts { lock.withLock { latest } }

    private init(child: Subprocess) { self.child = child }

    static func spawn(executable: String, socketPath: String, seconds: Double, threads: Int) -> ClientHandle? {
        guard let child = Subprocess.spawn([executable, "--client", socketPath, String(seconds), String(threads)],
                                           stderrToo: false) else { return nil }
        let handle = ClientHandle(child: child)
        let reader = Thread { handle.read() }
        handle.reader = reader
        reader.start()
        return handle
    }

    private func read() {
        let decoder = JSONDecoder()
        child.readLines { line in
            if line.hasPrefix("counts "), let counts = try? decoder.decode(CallCounts.self, from: Data(line.dropFirst(7).utf8)) {
                lock.withLock { latest = counts }
            }
        }
    }

    /// Wait for the process (bounded, then SIGKILL) and its last line. Once only.
    func wait(seconds: Double = 10) {
        guard !lock.withLock({ defer { exited = true }; return exited }) else { return }
        _ = child.wait(seconds: seconds)
        _ = waitUntil(seconds: 2) { reader?.isFinished ?? true }
    }
}
