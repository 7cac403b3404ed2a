import Testing

@testable import FlowSpace

/// Unions of many sets cost one sorted merge, not one merge per set: counted in steps (`WorkCounter`, debug builds).
@Suite struct ScalingTests {
  static func disjointSets(_ count: Int, seed: UInt64) -> [IntervalSet<UInt32>] {
    var generator = SplitMix64(seed: seed)
    return (0..<UInt32(count)).map { IntervalSet($0 * 4...$0 * 4 + 1) }.shuffled(using: &generator)
  }

  @Test(arguments: [1, 2, 3]) func unionOfManySetsEqualsTheFoldedUnion(seed: UInt64) {
    print("seed \(seed)")
    var generator = SplitMix64(seed: seed)
    let sets = (0..<50).map { _ in
      IntervalSet<UInt32>(
        (0..<Int.random(in: 0...4, using: &generator)).map { _ in
          let low = UInt32.random(in: 0...200, using: &generator)
          return low...low + UInt32.random(in: 0...10, using: &generator)
        })
    }
    #expect(IntervalSet.union(of: sets) == sets.reduce(IntervalSet()) { $0.union($1) })
    #expect(IntervalSet.union(of: sets.prefix(1)) == sets[0])
    #expect(IntervalSet<UInt32>.union(of: []) == IntervalSet())
    let addresses = sets.map { AddressSet(v4: $0, v6: IntervalSet()) }
    #expect(AddressSet.union(of: addresses).v4 == IntervalSet.union(of: sets))
  }

  @Test func unionOfTenTimesTheSetsTakesAboutTenTimesTheSteps() {
    #if DEBUG
      let small = WorkCounter.counting { IntervalSet.union(of: Self.disjointSets(1000, seed: 7)) }
      let large = WorkCounter.counting { IntervalSet.union(of: Self.disjointSets(10000, seed: 7)) }
      #expect(small.result.ranges.count == 1000 && large.result.ranges.count == 10000)
      #expect(small.steps >= 1000)
      #expect(large.steps <= 11 * small.steps, "\(small.steps) steps for 1,000 sets, \(large.steps) for 10,000")
      let folded = WorkCounter.counting { Self.disjointSets(1000, seed: 7).reduce(IntervalSet()) { $0.union($1) } }
      #expect(folded.result == small.result)
      #expect(folded.steps > 100 * small.steps, "the fold is quadratic: \(folded.steps) steps")
    #endif
  }

  @Test func countingCoversTheHelpersOfConcurrentMap() {
    #if DEBUG
      let counted = WorkCounter.counting {
        concurrentMap(count: 64) { IntervalSet.union(of: Self.disjointSets(100, seed: UInt64($0))) }
      }
      #expect(counted.steps == 64 * 100)
      #expect(WorkCounter.counting { 0 }.steps == 0)
    #endif
  }
}
