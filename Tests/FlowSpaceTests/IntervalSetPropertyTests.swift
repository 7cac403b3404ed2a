import FlowSpace
import Testing

/// Compares `IntervalSet<UInt8>` against a brute-force `Set<UInt8>` model on random inputs.
@Suite struct IntervalSetPropertyTests {
  typealias ByteSet = IntervalSet<UInt8>

  private func randomValue(_ generator: inout SplitMix64) -> UInt8 {
    switch UInt8.random(in: 0...7, using: &generator) {
    case 0: 0
    case 1: 255
    default: UInt8.random(in: 0...255, using: &generator)
    }
  }

  private func randomRange(_ generator: inout SplitMix64) -> ClosedRange<UInt8> {
    let first = randomValue(&generator)
    let second =
      Bool.random(using: &generator)
      ? randomValue(&generator) : first &+ UInt8.random(in: 0...8, using: &generator)
    return min(first, second)...max(first, second)
  }

  private func randomRanges(_ generator: inout SplitMix64) -> [ClosedRange<UInt8>] {
    (0..<Int.random(in: 0...6, using: &generator)).map { _ in randomRange(&generator) }
  }

  private func model(_ ranges: [ClosedRange<UInt8>]) -> Set<UInt8> {
    Set(ranges.flatMap { Array($0) })
  }

  /// The maximal runs of consecutive members, found by scanning every byte value.
  private func runs(_ members: Set<UInt8>) -> [ClosedRange<UInt8>] {
    var runs: [ClosedRange<UInt8>] = []
    var runStart: UInt8?
    for value in 0...256 {
      let isMember = value < 256 && members.contains(UInt8(value))
      if isMember, runStart == nil { runStart = UInt8(value) }
      if !isMember, let start = runStart {
        runs.append(start...UInt8(value - 1))
        runStart = nil
      }
    }
    return runs
  }

  @Test(arguments: try TestSeeds.seeds([1, 2, 3, 0xC0FFEE]))
  func matchesBruteForceModel(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let everyByte = Set(0...255 as ClosedRange<UInt8>)
    for _ in 0..<400 {
      let leftRanges = randomRanges(&generator)
      let rightRanges = randomRanges(&generator)
      let left = ByteSet(leftRanges)
      let right = ByteSet(rightRanges)
      let leftModel = model(leftRanges)
      let rightModel = model(rightRanges)

      #expect(left.ranges == runs(leftModel))
      var inserted = ByteSet()
      for range in leftRanges { inserted.insert(range) }
      #expect(inserted == left)

      #expect(left.union(right).ranges == runs(leftModel.union(rightModel)))
      #expect(left.intersection(right).ranges == runs(leftModel.intersection(rightModel)))
      #expect(left.subtracting(right).ranges == runs(leftModel.subtracting(rightModel)))
      #expect(left.complement().ranges == runs(everyByte.subtracting(leftModel)))
      #expect(left.isSubset(of: right) == leftModel.isSubset(of: rightModel))
      #expect(left.isDisjoint(with: right) == leftModel.isDisjoint(with: rightModel))
      #expect(left.valueCount(as: Int.self) == leftModel.count)
      #expect(left.isEmpty == leftModel.isEmpty)
      #expect(left.isFull == (leftModel.count == 256))

      let probe = randomRange(&generator)
      let probeModel = Set(probe)
      #expect(left.contains(probe) == probeModel.isSubset(of: leftModel))
      #expect(left.intersects(probe) == !probeModel.isDisjoint(with: leftModel))
      var removed = left
      removed.remove(probe)
      #expect(removed.ranges == runs(leftModel.subtracting(probeModel)))
      var added = left
      added.insert(probe)
      #expect(added.ranges == runs(leftModel.union(probeModel)))

      let mismatches = (0...255 as ClosedRange<UInt8>).filter { left.contains($0) != leftModel.contains($0) }
      #expect(mismatches.isEmpty)
    }
  }

  /// Builds sets from 200,000 random ranges each and checks their counts and runs against coverage depths computed
  /// with difference arrays over the whole domain.
  @Test(arguments: try TestSeeds.seeds([42]))
  func buildsAndUnitesLargeSets(seed: UInt64) {
    let domain = 4_000_000
    var generator = SplitMix64(seed: seed)
    func randomLargeRanges() -> [ClosedRange<UInt32>] {
      (0..<200_000).map { _ in
        let start = UInt32.random(in: 0..<UInt32(domain - 64), using: &generator)
        return start...(start + UInt32.random(in: 0..<30, using: &generator))
      }
    }
    func depthChanges(_ ranges: [ClosedRange<UInt32>]) -> [Int32] {
      var changes = [Int32](repeating: 0, count: domain + 1)
      for range in ranges {
        changes[Int(range.lowerBound)] += 1
        changes[Int(range.upperBound) + 1] -= 1
      }
      return changes
    }

    let leftRanges = randomLargeRanges()
    let rightRanges = randomLargeRanges()
    let left = IntervalSet(leftRanges)
    let right = IntervalSet(rightRanges)
    let union = left.union(right)
    let probes = (0..<10_000).map { _ in Int.random(in: 0..<domain, using: &generator) }.sorted()

    let leftChanges = depthChanges(leftRanges)
    let rightChanges = depthChanges(rightRanges)
    var (leftDepth, rightDepth): (Int32, Int32) = (0, 0)
    var (leftCount, leftRuns, unionCount, unionRuns, intersectionCount) = (0, 0, 0, 0, 0)
    var (wasInLeft, wasInUnion) = (false, false)
    var probeMismatches: [Int] = []
    var probeIndex = 0
    for value in 0..<domain {
      leftDepth += leftChanges[value]
      rightDepth += rightChanges[value]
      let (isInLeft, isInUnion) = (leftDepth > 0, leftDepth > 0 || rightDepth > 0)
      if isInLeft { leftCount += 1 }
      if isInLeft && !wasInLeft { leftRuns += 1 }
      if isInUnion { unionCount += 1 }
      if isInUnion && !wasInUnion { unionRuns += 1 }
      if leftDepth > 0 && rightDepth > 0 { intersectionCount += 1 }
      while probeIndex < probes.count && probes[probeIndex] == value {
        if union.contains(UInt32(value)) != isInUnion { probeMismatches.append(value) }
        probeIndex += 1
      }
      (wasInLeft, wasInUnion) = (isInLeft, isInUnion)
    }

    #expect(left.valueCount(as: Int.self) == leftCount)
    #expect(left.ranges.count == leftRuns)
    #expect(union.valueCount(as: Int.self) == unionCount)
    #expect(union.ranges.count == unionRuns)
    #expect(union == IntervalSet(leftRanges + rightRanges))
    #expect(left.intersection(right).valueCount(as: Int.self) == intersectionCount)
    #expect(left.subtracting(right).valueCount(as: Int.self) == leftCount - intersectionCount)
    #expect(probeMismatches.isEmpty)
    #expect(leftCount > 1_000_000 && leftRuns > 10_000)
  }
}
