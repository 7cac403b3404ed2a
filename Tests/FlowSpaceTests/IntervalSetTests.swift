import FlowSpace
import Testing

@Suite struct IntervalSetTests {
  typealias ByteSet = IntervalSet<UInt8>

  @Test(
    arguments: [
      ([4...5, 1...3], [1...5]),
      ([1...3, 5...6], [1...3, 5...6]),
      ([1...10, 2...3, 9...20], [1...20]),
      ([7...7, 7...7, 6...6, 8...8], [6...8]),
      ([0...0, 255...255, 1...254], [0...255]),
      ([200...255, 0...10, 11...11, 13...13], [0...11, 13...13, 200...255]),
      ([], []),
    ] as [([ClosedRange<UInt8>], [ClosedRange<UInt8>])])
  func coalescesRanges(input: [ClosedRange<UInt8>], expected: [ClosedRange<UInt8>]) {
    #expect(ByteSet(input).ranges == expected)
    var inserted = ByteSet()
    for range in input { inserted.insert(range) }
    #expect(inserted.ranges == expected)
  }

  @Test(
    arguments: [
      // (a, b, a ∪ b, a ∩ b, a − b)
      ([0...10], [5...20], [0...20], [5...10], [0...4]),
      ([0...255], [0...0, 255...255], [0...255], [0...0, 255...255], [1...254]),
      ([0...0], [255...255], [0...0, 255...255], [], [0...0]),
      ([10...20, 30...40], [21...29], [10...40], [], [10...20, 30...40]),
      ([10...20, 30...40], [15...35], [10...40], [15...20, 30...35], [10...14, 36...40]),
      ([], [3...4], [3...4], [], []),
      ([0...255], [], [0...255], [], [0...255]),
      ([0...100], [0...100], [0...100], [0...100], []),
      ([1...1, 3...3, 5...5], [2...2, 4...4], [1...5], [], [1...1, 3...3, 5...5]),
      ([250...255], [0...5, 100...254], [0...5, 100...255], [250...254], [255...255]),
    ]
      as [(
        [ClosedRange<UInt8>], [ClosedRange<UInt8>], [ClosedRange<UInt8>], [ClosedRange<UInt8>], [ClosedRange<UInt8>]
      )])
  func combinesSets(
    a: [ClosedRange<UInt8>], b: [ClosedRange<UInt8>], union: [ClosedRange<UInt8>],
    intersection: [ClosedRange<UInt8>], difference: [ClosedRange<UInt8>]
  ) {
    let left = ByteSet(a)
    let right = ByteSet(b)
    #expect(left.union(right).ranges == union)
    #expect(right.union(left).ranges == union)
    #expect(left.intersection(right).ranges == intersection)
    #expect(right.intersection(left).ranges == intersection)
    #expect(left.subtracting(right).ranges == difference)
    #expect(left.isDisjoint(with: right) == intersection.isEmpty)
    #expect(left.intersection(right).isSubset(of: left))
    var mutated = left
    mutated.formUnion(right)
    #expect(mutated.ranges == union)
    mutated = left
    mutated.formIntersection(right)
    #expect(mutated.ranges == intersection)
    mutated = left
    mutated.subtract(right)
    #expect(mutated.ranges == difference)
  }

  @Test(
    arguments: [
      ([], [0...255]),
      ([0...255], []),
      ([0...0], [1...255]),
      ([255...255], [0...254]),
      ([0...0, 255...255], [1...254]),
      ([10...20, 40...50], [0...9, 21...39, 51...255]),
    ] as [([ClosedRange<UInt8>], [ClosedRange<UInt8>])])
  func complementsAtTheEdges(input: [ClosedRange<UInt8>], expected: [ClosedRange<UInt8>]) {
    #expect(ByteSet(input).complement().ranges == expected)
    #expect(ByteSet(input).complement().complement().ranges == input)
  }

  @Test func handlesFullAndEmptyUInt128Sets() {
    let full = IntervalSet<UInt128>.full
    #expect(full.isFull)
    #expect(full.complement().isEmpty)
    #expect(IntervalSet<UInt128>().complement() == full)
    #expect(full.valueCount == (high: 1, low: 0))
    #expect(full.valueCount(as: Int.self) == nil)
    #expect(full.contains(UInt128.max))
    #expect(full.contains(0...UInt128.max))
    let ends = IntervalSet<UInt128>([0...9, (UInt128.max - 9)...UInt128.max])
    #expect(ends.valueCount == (high: 0, low: 20))
    #expect(ends.complement().ranges == [10...(UInt128.max - 10)])
    #expect(full.subtracting(ends) == ends.complement())
    #expect(ends.union(ends.complement()).isFull)
  }

  @Test func countsValues() {
    #expect(ByteSet.full.valueCount(as: Int.self) == 256)
    #expect(ByteSet.full.valueCount(as: UInt8.self) == nil)
    #expect(ByteSet.full.valueCount == (high: 1, low: 0))
    #expect(ByteSet().valueCount(as: Int.self) == 0)
    #expect(ByteSet([0...9, 20...20]).valueCount(as: Int.self) == 11)
    #expect(PortSet.full.valueCount(as: Int.self) == 65536)
    #expect(IntervalSet<UInt64>.full.valueCount(as: Int.self) == nil)
    #expect(IntervalSet<UInt64>.full.valueCount(as: UInt128.self) == UInt128(UInt64.max) + 1)
  }

  @Test(
    arguments: [
      (0, true), (5, true), (9, false), (10, true), (20, true), (21, false), (254, false), (255, true),
    ] as [(UInt8, Bool)])
  func containsValues(value: UInt8, expected: Bool) {
    let set: ByteSet = [0...5, 10...20, 255...255]
    #expect(set.contains(value) == expected)
  }

  @Test(
    arguments: [
      // (range, contained, intersects)
      (0...5, true, true),
      (0...6, false, true),
      (6...9, false, false),
      (9...10, false, true),
      (12...18, true, true),
      (21...254, false, false),
      (254...255, false, true),
      (255...255, true, true),
      (0...255, false, true),
    ] as [(ClosedRange<UInt8>, Bool, Bool)])
  func comparesWithRanges(range: ClosedRange<UInt8>, contained: Bool, intersects: Bool) {
    let set: ByteSet = [0...5, 10...20, 255...255]
    #expect(set.contains(range) == contained)
    #expect(set.intersects(range) == intersects)
  }

  @Test(
    arguments: [
      ([1...5], [0...10], true),
      ([0...10], [1...5], false),
      ([1...5, 7...9], [0...10], true),
      ([1...5, 7...11], [0...10], false),
      ([1...5, 7...9], [1...5, 7...9], true),
      ([], [], true),
      ([], [3...3], true),
      ([3...3], [], false),
      ([0...0, 255...255], [0...255], true),
      ([4...6], [0...5, 6...9], true),
      ([4...6], [0...5, 7...9], false),
    ] as [([ClosedRange<UInt8>], [ClosedRange<UInt8>], Bool)])
  func checksSubsets(a: [ClosedRange<UInt8>], b: [ClosedRange<UInt8>], expected: Bool) {
    #expect(ByteSet(a).isSubset(of: ByteSet(b)) == expected)
  }

  @Test(
    arguments: [
      // (start, removed, result)
      ([0...255], 0...255, []),
      ([0...255], 0...0, [1...255]),
      ([0...255], 255...255, [0...254]),
      ([0...255], 10...20, [0...9, 21...255]),
      ([0...5, 10...15, 20...25], 3...22, [0...2, 23...25]),
      ([0...5, 10...15], 6...9, [0...5, 10...15]),
      ([10...15], 0...255, []),
    ] as [([ClosedRange<UInt8>], ClosedRange<UInt8>, [ClosedRange<UInt8>])])
  func removesRanges(start: [ClosedRange<UInt8>], removed: ClosedRange<UInt8>, expected: [ClosedRange<UInt8>]) {
    var set = ByteSet(start)
    set.remove(removed)
    #expect(set.ranges == expected)
  }

  @Test(
    arguments: [
      ([1...5], 0...0, [0...5]),
      ([1...5], 6...6, [1...6]),
      ([1...5], 7...7, [1...5, 7...7]),
      ([0...5, 10...15, 20...25], 6...19, [0...25]),
      ([0...5, 10...15, 20...25], 7...8, [0...5, 7...8, 10...15, 20...25]),
      ([0...254], 255...255, [0...255]),
      ([], 255...255, [255...255]),
    ] as [([ClosedRange<UInt8>], ClosedRange<UInt8>, [ClosedRange<UInt8>])])
  func insertsRanges(start: [ClosedRange<UInt8>], inserted: ClosedRange<UInt8>, expected: [ClosedRange<UInt8>]) {
    var set = ByteSet(start)
    set.insert(inserted)
    #expect(set.ranges == expected)
  }

  @Test func printsRangesAndIterates() {
    let ports: PortSet = [443...443, 80...80, 8000...8080]
    #expect(ports.description == "80, 443, 8000-8080")
    #expect(PortSet().description == "")
    #expect(Array(ports) == [80...80, 443...443, 8000...8080])
    #expect(PortSet.full.description == "0-65535")
  }

  @Test func equalSetsHashEqually() {
    let first = ByteSet([1...3, 4...5])
    let second = ByteSet([1...5])
    #expect(first == second)
    #expect(Set([first, second]).count == 1)
  }
}
