import Glibc
import Synchronization
import Testing

@testable import FlowSpace

@Suite struct ConcurrencyTests {
  @Test(arguments: [0, 1, 2, 3, 17, 1000])
  func resultsComeInIndexOrder(count: Int) {
    #expect(concurrentMap(count: count) { $0 * $0 } == (0..<count).map { $0 * $0 })
  }

  @Test func everyPartRunsExactlyOnce() {
    let runs = Mutex([Int](repeating: 0, count: 500))
    _ = concurrentMap(count: 500) { index in runs.withLock { $0[index] += 1 } }
    #expect(runs.withLock { $0 } == [Int](repeating: 1, count: 500))
  }

  @Test func nestedMapsGiveTheSameResultsAsSequentialOnes() {
    let nested = concurrentMap(count: 8) { outer in
      concurrentMap(count: 50) { inner in concurrentMap(count: 3) { outer * 10_000 + inner * 10 + $0 } }
    }
    let sequential = (0..<8).map { outer in
      (0..<50).map { inner in (0..<3).map { outer * 10_000 + inner * 10 + $0 } }
    }
    #expect(nested == sequential)
  }

  @Test(arguments: [0, 5, 1024, 1025, 5000])
  func chunkedMapFillsEverySlotInOrder(count: Int) {
    #expect(concurrentMap(count: count, chunkSize: 1024) { String($0) } == (0..<count).map { String($0) })
  }

  @Test func workOnAThreadOfItsOwnRunsElsewhereAndReturnsItsResult() {
    let caller = UInt(pthread_self())
    let (thread, value) = onThreadOfItsOwn { (UInt(pthread_self()), [1, 2, 3].reduce(0, +)) }
    #expect(thread != caller)
    #expect(value == 6)
  }

  @Test func inParallelReturnsBothResults() {
    let (text, number) = inParallel(
      { String(repeating: "a", count: 3) }, { concurrentMap(count: 4) { $0 }.reduce(0, +) })
    #expect(text == "aaa")
    #expect(number == 6)
  }

  @Test func heapResultsSurviveTheMap() {
    let arrays = concurrentMap(count: 64) { index in [Int](repeating: index, count: index) }
    #expect(arrays.enumerated().allSatisfy { index, array in array.count == index && array.allSatisfy { $0 == index } })
  }
}
