import Dispatch
import Foundation
import Synchronization

/// The results of `transform` for every index in `0..<count`, in index order, computed on all cores.
///
/// The stages of the compile path split their work into independent parts (one per conduit, family and kind, or
/// one per family of checks); this runs the parts in parallel and keeps the output deterministic.
///
/// The calling thread takes parts itself and helpers on the global queue take the rest as they become free, so a
/// map started inside another one still spreads over the cores that the outer one leaves idle (a nested
/// `DispatchQueue.concurrentPerform` runs serially). The caller waits only for parts already started.
public func concurrentMap<Result: Sendable>(count: Int, _ transform: @Sendable (Int) -> Result) -> [Result] {
  let threads = min(count, ThreadLimit.threads)
  guard threads > 1 else { return (0..<count).map(transform) }
  return withoutActuallyEscaping(transform) { transform in
    [Result](unsafeUninitializedCapacity: count) { buffer, initializedCount in
      let work = SharedWork(count: count, slots: buffer.baseAddress!, transform: transform)
      #if DEBUG
        let counter = WorkCounter.current
        let takeParts: @Sendable () -> Void = {
          if let counter { counter.installed(work.takeParts) } else { work.takeParts() }
        }
      #else
        let takeParts: @Sendable () -> Void = { work.takeParts() }
      #endif
      for _ in 1..<threads {
        DispatchQueue.global().async { takeParts() }
      }
      work.takeParts()
      work.waitUntilDone()
      initializedCount = count
    }
  }
}

/// How many threads a `concurrentMap` runs on at most.
public enum ThreadLimit {
  private static let limit = Atomic<Int>(ProcessInfo.processInfo.activeProcessorCount)

  /// The limit: the number of active processors when the process started, unless set.
  public static var threads: Int { limit.load(ordering: .relaxed) }

  /// Sets the limit (at least 1). With 1, every map runs on its calling thread: a fuzzer sets it, so that the
  /// coverage of an input comes from that input alone and no helper still holds its memory when it returns.
  public static func set(_ threads: Int) {
    limit.store(max(1, threads), ordering: .relaxed)
  }
}

/// `concurrentMap` for many small parts: indices are handed out `chunkSize` at a time and every result is made in
/// its place in the array (no joining of per-chunk arrays).
public func concurrentMap<Result: Sendable>(
  count: Int, chunkSize: Int, _ transform: @Sendable (Int) -> Result
) -> [Result] {
  guard count > chunkSize else { return (0..<count).map(transform) }
  return [Result](unsafeUninitializedCapacity: count) { buffer, initializedCount in
    nonisolated(unsafe) let slots = buffer.baseAddress!
    _ = concurrentMap(count: (count + chunkSize - 1) / chunkSize) { chunk in
      for index in chunk * chunkSize..<min(count, (chunk + 1) * chunkSize) {
        (slots + index).initialize(to: transform(index))
      }
    }
    initializedCount = count
  }
}

/// The parts of one `concurrentMap`: claimed one at a time by whichever thread is free.
private final class SharedWork<Result: Sendable>: @unchecked Sendable {
  private let count: Int
  private let slots: UnsafeMutablePointer<Result>
  /// Dropped once every part is done: helpers that start later find nothing to claim and never call it.
  private var transform: ((Int) -> Result)?
  private let next = Atomic<Int>(0)
  private let finished = Atomic<Int>(0)
  private let done = DispatchSemaphore(value: 0)

  init(count: Int, slots: UnsafeMutablePointer<Result>, transform: @escaping (Int) -> Result) {
    self.count = count
    self.slots = slots
    self.transform = transform
  }

  /// Computes unclaimed parts until none is left.
  func takeParts() {
    while true {
      let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
      guard index < count else { return }
      (slots + index).initialize(to: transform!(index))
      if finished.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == count { done.signal() }
    }
  }

  /// Blocks until every part has been computed, then lets go of `transform`.
  func waitUntilDone() {
    if finished.load(ordering: .acquiring) < count { done.wait() }
    transform = nil
  }
}

/// The results of two independent computations run at the same time.
public func inParallel<First: Sendable, Second: Sendable>(
  _ first: @Sendable () -> First, _ second: @Sendable () -> Second
) -> (
  First, Second
) {
  nonisolated(unsafe) var firstResult: First?
  nonisolated(unsafe) var secondResult: Second?
  _ = concurrentMap(count: 2) { index in
    if index == 0 { firstResult = first() } else { secondResult = second() }
  }
  return (firstResult!, secondResult!)
}

/// Runs `work` on a new thread of its own, which exits afterwards, and waits for its result: for work that changes
/// the state of its thread (its network namespace), so that neither the caller's thread nor one of Dispatch's pool
/// is ever changed.
public func onThreadOfItsOwn<Value: Sendable>(_ work: @escaping @Sendable () -> Value) -> Value {
  let result = Mutex<Value?>(nil)
  let done = DispatchSemaphore(value: 0)
  let thread = Thread {
    let value = work()
    result.withLock { $0 = value }
    done.signal()
  }
  thread.start()
  done.wait()
  return result.withLock { $0! }
}
