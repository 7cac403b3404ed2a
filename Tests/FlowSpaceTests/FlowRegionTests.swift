import Testing

@testable import FlowSpace

/// FlowRegion against a brute-force model: every point of a small space with the set of rules whose boxes hold it.
@Suite struct FlowRegionTests {
  struct Box {
    var sources: ClosedRange<UInt8>
    var destinations: ClosedRange<UInt8>
    var selectors: ClosedRange<UInt16>
    var rule: Int
  }

  static let side: UInt8 = 12

  static func randomRange(_ generator: inout SplitMix64, upTo limit: UInt8) -> ClosedRange<UInt8> {
    let a = UInt8.random(in: 0...limit, using: &generator)
    let b = UInt8.random(in: 0...limit, using: &generator)
    return min(a, b)...max(a, b)
  }

  static func randomBoxes(_ generator: inout SplitMix64, count: Int) -> [Box] {
    (0..<count).map { rule in
      let selectors = randomRange(&generator, upTo: UInt8(side))
      return Box(
        sources: randomRange(&generator, upTo: side), destinations: randomRange(&generator, upTo: side),
        selectors: UInt16(selectors.lowerBound)...UInt16(selectors.upperBound), rule: rule)
    }
  }

  static func region(_ boxes: [Box]) -> FlowRegion<UInt8> {
    FlowRegion.union(
      boxes.map {
        FlowRegion(
          sources: IntervalSet($0.sources), destinations: IntervalSet($0.destinations),
          selectors: IntervalSet($0.selectors), rule: $0.rule)
      })
  }

  /// Point -> covering rules, computed from the disjoint boxes, failing if two boxes overlap.
  static func pointsOf(_ region: FlowRegion<UInt8>) -> [[UInt16]: [Int]] {
    var points: [[UInt16]: [Int]] = [:]
    for box in region.boxes {
      for s in box.sources {
        for d in box.destinations {
          for p in box.selectors {
            let key = [UInt16(s), UInt16(d), p]
            #expect(points[key] == nil, "boxes overlap at \(key)")
            points[key] = box.cover.rules
          }
        }
      }
    }
    return points
  }

  static func model(_ boxes: [Box]) -> [[UInt16]: [Int]] {
    var points: [[UInt16]: [Int]] = [:]
    for box in boxes {
      for s in box.sources {
        for d in box.destinations {
          for p in box.selectors { points[[UInt16(s), UInt16(d), p], default: []].append(box.rule) }
        }
      }
    }
    return points.mapValues { Array(Set($0)).sorted() }
  }

  @Test(arguments: try TestSeeds.seeds([1, 2, 3, 4, 5, 6, 7, 8]))
  func unionIsExactAndDisjoint(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let boxes = Self.randomBoxes(&generator, count: 6)
    #expect(Self.pointsOf(Self.region(boxes)) == Self.model(boxes))
  }

  @Test(arguments: try TestSeeds.seeds([11, 12, 13, 14, 15, 16]))
  func removingSourcesDestinationsAndSelectorsIsExact(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let boxes = Self.randomBoxes(&generator, count: 5)
    let cutSources = Self.randomRange(&generator, upTo: Self.side)
    let cutDestinations = Self.randomRange(&generator, upTo: Self.side)
    let cutSelectors = Self.randomRange(&generator, upTo: Self.side)
    let selectors = UInt16(cutSelectors.lowerBound)...UInt16(cutSelectors.upperBound)
    let region = Self.region(boxes)
      .removing(sources: IntervalSet(cutSources))
      .removing(destinations: IntervalSet(cutDestinations), selectors: IntervalSet(selectors))
    let expected = Self.model(boxes).filter { key, _ in
      !cutSources.contains(UInt8(key[0])) && !(cutDestinations.contains(UInt8(key[1])) && selectors.contains(key[2]))
    }
    #expect(Self.pointsOf(region) == expected)
    let withoutDestinations = Self.region(boxes).removing(destinations: IntervalSet(cutDestinations), selectors: nil)
    #expect(
      Self.pointsOf(withoutDestinations)
        == Self.model(boxes).filter { key, _ in !cutDestinations.contains(UInt8(key[1])) })
  }

  /// The region of exactly these points, each with its rules: built one point at a time, so it is the canonical
  /// region every exact operation must equal (`==`), not only point by point.
  static func region(ofPoints points: [[UInt16]: [Int]]) -> FlowRegion<UInt8> {
    FlowRegion.union(
      points.flatMap { key, rules in
        rules.map { rule in
          FlowRegion(
            sources: IntervalSet(UInt8(key[0])...UInt8(key[0])),
            destinations: IntervalSet(UInt8(key[1])...UInt8(key[1])), selectors: IntervalSet(key[2]...key[2]),
            rule: rule)
        }
      })
  }

  /// `removing(sources:destinations:selectors:)`, every axis given or whole (nil), against the brute-force model:
  /// a point goes exactly when it lies in every given axis.
  @Test(arguments: try TestSeeds.seeds(Array(61...84)))
  func removingFromSourcesToDestinationsOnSelectorsIsExact(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let boxes = Self.randomBoxes(&generator, count: 5)
    func axis(_ limit: UInt8) -> [ClosedRange<UInt8>]? {
      guard Int.random(in: 0..<3, using: &generator) > 0 else { return nil }
      return (0..<Int.random(in: 0...2, using: &generator)).map { _ in Self.randomRange(&generator, upTo: limit) }
    }
    let cutSources = axis(Self.side)
    let cutDestinations = axis(Self.side)
    let cutSelectors = axis(Self.side)?.map { UInt16($0.lowerBound)...UInt16($0.upperBound) }
    let region = Self.region(boxes).removing(
      sources: cutSources.map { IntervalSet($0) }, destinations: cutDestinations.map { IntervalSet($0) },
      selectors: cutSelectors.map { IntervalSet($0) })
    let expected = Self.model(boxes).filter { key, _ in
      let source = cutSources.map { $0.contains { $0.contains(UInt8(key[0])) } } ?? true
      let destination = cutDestinations.map { $0.contains { $0.contains(UInt8(key[1])) } } ?? true
      let selector = cutSelectors.map { $0.contains { $0.contains(key[2]) } } ?? true
      return !(source && destination && selector)
    }
    #expect(Self.pointsOf(region) == expected)
    #expect(region == Self.region(ofPoints: expected))
  }

  @Test func removingFromSomeSourcesKeepsTheOthersWhole() {
    let region = FlowRegion<UInt32>(
      sources: IntervalSet(10...19), destinations: IntervalSet(100...109), selectors: IntervalSet(502...503), rule: 1)
    let cut = region.removing(
      sources: IntervalSet(12...13), destinations: IntervalSet(105...105), selectors: IntervalSet(502...502))
    #expect(
      cut.boxes == [
        FlowBox(sources: 10...11, destinations: 100...109, selectors: 502...503, cover: RuleCover(1)),
        FlowBox(sources: 12...13, destinations: 100...104, selectors: 502...503, cover: RuleCover(1)),
        FlowBox(sources: 12...13, destinations: 105...105, selectors: 503...503, cover: RuleCover(1)),
        FlowBox(sources: 12...13, destinations: 106...109, selectors: 502...503, cover: RuleCover(1)),
        FlowBox(sources: 14...19, destinations: 100...109, selectors: 502...503, cover: RuleCover(1)),
      ])
    #expect(region.removing(sources: IntervalSet(), destinations: nil, selectors: nil) == region)
    #expect(region.removing(sources: IntervalSet(0...99), destinations: nil, selectors: nil).isEmpty)
    #expect(
      region.removing(sources: nil, destinations: IntervalSet(105...105), selectors: nil)
        == region.removing(destinations: IntervalSet(105...105), selectors: nil))
  }

  @Test(arguments: try TestSeeds.seeds([21, 22, 23, 24]))
  func intersectionAndCoverFilteringAreExact(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let first = Self.randomBoxes(&generator, count: 4)
    let second = Self.randomBoxes(&generator, count: 4).map { box in
      var box = box
      box.rule += 100
      return box
    }
    let intersection = Self.region(first).intersection(Self.region(second))
    let secondPoints = Self.model(second)
    #expect(Self.pointsOf(intersection) == Self.model(first).filter { key, _ in secondPoints[key] != nil })
    let evenOnly = Self.region(first).filteringCovers { cover in
      let even = cover.rules.filter { $0 % 2 == 0 }
      return even.isEmpty ? nil : RuleCover(even)
    }
    let expected = Self.model(first).compactMapValues { rules -> [Int]? in
      let even = rules.filter { $0 % 2 == 0 }
      return even.isEmpty ? nil : even
    }
    #expect(Self.pointsOf(evenOnly) == expected)
  }

  /// Random flows with several ranges per dimension, drawn so that equal, nested, touching and disjoint ranges
  /// all occur, and rules in any order.
  static func randomRuleFlows(_ generator: inout SplitMix64, count: Int) -> [FlowRegion<UInt8>.RuleFlows] {
    func ranges(_ limit: UInt8) -> IntervalSet<UInt8> {
      IntervalSet((0..<Int.random(in: 0...2, using: &generator)).map { _ in randomRange(&generator, upTo: limit) })
    }
    return (0..<count).map { _ in
      let selectors = ranges(UInt8(side))
      return FlowRegion.RuleFlows(
        sources: Bool.random(using: &generator) ? IntervalSet(randomRange(&generator, upTo: 3)) : ranges(side),
        destinations: ranges(side),
        selectors: IntervalSet(selectors.ranges.map { UInt16($0.lowerBound)...UInt16($0.upperBound) }),
        rule: Int.random(in: 0..<count, using: &generator))
    }
  }

  @Test(arguments: try TestSeeds.seeds(Array(31...50)))
  func groupedUnionEqualsTheUnionOfRegions(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let flows = Self.randomRuleFlows(&generator, count: Int.random(in: 0...12, using: &generator))
    let regions = flows.map {
      FlowRegion(sources: $0.sources, destinations: $0.destinations, selectors: $0.selectors, rule: $0.rule)
    }
    #expect(FlowRegion.union(of: flows) == FlowRegion.union(regions))
  }

  @Test func groupedUnionOfHostRulesLaysGroupsSideBySide() {
    let flows = (0..<3000).map { index in
      FlowRegion<UInt32>.RuleFlows(
        sources: IntervalSet(UInt32(index % 300)...UInt32(index % 300)),
        destinations: IntervalSet(UInt32(1000 + index % 7)...UInt32(1000 + index % 7)),
        selectors: IntervalSet(UInt16(502)...UInt16(502 + index % 3)), rule: index)
    }
    let regions = flows.map {
      FlowRegion(sources: $0.sources, destinations: $0.destinations, selectors: $0.selectors, rule: $0.rule)
    }
    let union = FlowRegion.union(of: flows)
    #expect(union == FlowRegion.union(regions))
    #expect(union.map.segments.count == 300)
  }

  @Test func adjacentBoxesWithTheSameRulesMerge() {
    let left = FlowRegion<UInt32>(
      sources: IntervalSet(0...9), destinations: IntervalSet(100...100), selectors: IntervalSet(502...502), rule: 1)
    let right = FlowRegion<UInt32>(
      sources: IntervalSet(10...19), destinations: IntervalSet(100...100), selectors: IntervalSet(502...502), rule: 1)
    #expect(
      left.union(right).boxes == [
        FlowBox(sources: 0...19, destinations: 100...100, selectors: 502...502, cover: RuleCover(1))
      ])
  }

  @Test func manyOverlappingRulesStayManageable() {
    let regions = (0..<2000).map { index in
      FlowRegion<UInt32>(
        sources: IntervalSet(UInt32(index % 50)...UInt32(index % 50)), destinations: IntervalSet(1000...1999),
        selectors: IntervalSet(UInt16(index % 7)...UInt16(index % 7 + 1)), rule: index)
    }
    let union = FlowRegion.union(regions)
    #expect(union.boxCount > 0)
    #expect(union.boxes.allSatisfy { !$0.cover.rules.isEmpty })
  }
}
