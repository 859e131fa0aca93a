// BindingTable: every binding object the kernel ever issued, by index. A row keeps its
// generation and secret after revocation, so a replayed binding object is recognised
// as stale rather than forged. Only the control thread writes; trap handlers read it
// only to explain a refusal (the fast path uses the caller's own table).
import Glibc
import LRPC
import Synchronization

final class BindingTable: Sendable {
    private struct Row {
        var generation: UInt32
        var secret: UInt64
        var owner: UInt32
        var live: Bool
    }

    private let rows = Mutex<[Row]>([])

    /// A fresh binding object: a free (or new) row, the next generation, a random secret.
    func issue(owner: UInt32) -> BindingObject {
        var random = SystemRandomNumberGenerator()
        var secret: UInt64 = 0
        while secret == 0 { secret = random.next() }
        return rows.withLock { rows in
            if let i = rows.firstIndex(where: { !$0.live }) {
                rows[i] = Row(generation: rows[i].generation &+ 1, secret: secret, owner: owner, live: true)
                return BindingObject(index: UInt32(i), generation: rows[i].generation, secret: secret)
            }
            rows.append(Row(generation: 1, secret: secret, owner: owner, live: true))
            return BindingObject(index: UInt32(rows.count - 1), generation: 1, secret: secret)
        }
    }

    func revoke(_ bo: BindingObject) {
        rows.withLock { rows in
            if Int(bo.index) < rows.count, rows[Int(bo.index)].generation == bo.generation {
                rows[Int(bo.index)].live = false
            }
        }
    }

    /// Why a binding object that is not in the caller's own table was refused.
    func classify(index: UInt32, generation: UInt32, secret: UInt64, caller: UInt32) -> Refusal {
        rows.withLock { rows in
            guard Int(index) < rows.count else { return .forgedBindingObject }
            let row = rows[Int(index)]
            if row.generation == generation && row.secret == secret {
                if !row.live { return .staleBindingObject }
                return row.owner == caller ? .staleBindingObject : .foreignBindingObject
            }
            return generation < row.generation ? .staleBindingObject : .forgedBindingObject
        }
    }
}
