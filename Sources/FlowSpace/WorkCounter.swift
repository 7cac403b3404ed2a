import Foundation
import Synchronization

/// Counts the elementary steps of the interval-set algorithms (a range appended to a merge, a range shifted by an
/// insertion), so that tests can show that the work grows linearly with the input rather than time it.
///
/// Only debug builds count, and only for the thread that runs `counting(_:)` and the parts of the `concurrentMap`
/// calls it starts, so tests running side by side do not disturb each other; release builds do no bookkeeping.
public final class WorkCounter: Sendable {
  private let steps = Atomic<Int>(0)

  private init() {}

  /// Runs `body`, counting the steps it takes; `steps` is always 0 in a release build.
  public static func counting<Result>(_ body: () throws -> Result) rethrows -> (result: Result, steps: Int) {
    #if DEBUG
      let counter = WorkCounter()
      let result = try counter.installed(body)
      return (result, counter.steps.load(ordering: .acquiring))
    #else
      return (try body(), 0)
    #endif
  }

  #if DEBUG
    private static let key: pthread_key_t = {
      var key = pthread_key_t()
      pthread_key_create(&key, nil)
      return key
    }()

    /// The counter of the current thread, if one is installed.
    static var current: WorkCounter? {
      pthread_getspecific(key).map { Unmanaged<WorkCounter>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Runs `body` with this counter installed on the current thread (the previous one restored afterwards).
    func installed<Result>(_ body: () throws -> Result) rethrows -> Result {
      let previous = pthread_getspecific(Self.key)
      pthread_setspecific(Self.key, Unmanaged.passUnretained(self).toOpaque())
      defer { pthread_setspecific(Self.key, previous) }
      return try body()
    }
  #endif

  /// Adds `count` steps to the current thread's counter (debug builds only).
  @inline(__always)
  static func add(_ count: Int) {
    #if DEBUG
      current?.steps.add(count, ordering: .relaxed)
    #endif
  }
}
