// nk-bench: the four procedures of the LRPC paper's measurements.
import Glibc
import Interfaces
import LRPC

struct BenchServer: Bench {
    func null() {}
    func add(a: Int32, b: Int32) -> Int32 { a &+ b }
    func bigIn(_ bytes: BoundedBytes<200>) {}
    func bigInOut(_ bytes: BoundedBytes<200>) -> BoundedBytes<200> { bytes }
    func hold(_ milliseconds: UInt32) throws(BenchError) {
        guard milliseconds <= 10_000 else { throw .holdTooLong }
        usleep(milliseconds * 1000)
    }
    func sortPairs(_ pairs: BoundedList<BenchPair, 8>) -> BoundedList<BenchPair, 8> {
        BoundedList(pairs.sorted { $0.key.text < $1.key.text })
    }
}

ServiceMain.run(BenchInterface.service(BenchServer()))
