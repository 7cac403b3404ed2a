import Dispatch

/// The results of `transform` for every index in `0..<count`, in index order, computed on all cores.
///
/// The stages of the compile path split their work into independent parts (one per conduit, family and kind, or
/// one per family of checks); this runs the parts in parallel and keeps the output deterministic.
public func concurrentMap<Result>(count: Int, _ transform: @Sendable (Int) -> Result) -> [Result] {
  guard count > 1 else { return (0..<count).map(transform) }
  return [Result](unsafeUninitializedCapacity: count) { buffer, initializedCount in
    nonisolated(unsafe) let slots = buffer.baseAddress!
    DispatchQueue.concurrentPerform(iterations: count) { index in
      (slots + index).initialize(to: transform(index))
    }
    initializedCount = count
  }
}

/// The results of two independent computations run at the same time.
public func inParallel<First, Second>(_ first: @Sendable () -> First, _ second: @Sendable () -> Second) -> (
  First, Second
) {
  nonisolated(unsafe) var firstResult: First?
  nonisolated(unsafe) var secondResult: Second?
  DispatchQueue.concurrentPerform(iterations: 2) { index in
    if index == 0 { firstResult = first() } else { secondResult = second() }
  }
  return (firstResult!, secondResult!)
}
