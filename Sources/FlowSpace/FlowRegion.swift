/// The rules that cover a point of flow space (sorted, without repeats).
public struct RuleCover: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// Rule indices, ascending.
  public private(set) var rules: [Int]

  /// A cover of one rule.
  public init(_ rule: Int) {
    rules = [rule]
  }

  /// A cover of several rules.
  public init(_ rules: some Sequence<Int>) {
    self.rules = Array(Set(rules)).sorted()
  }

  /// A cover of several rules, cheapest when they are already ascending without repeats.
  init(ascendingOrNot rules: [Int]) {
    if zip(rules, rules.dropFirst()).allSatisfy({ $0 < $1 }) {
      self.rules = rules
    } else {
      self.rules = Array(Set(rules)).sorted()
    }
  }

  /// Both covers together.
  public func union(_ other: RuleCover) -> RuleCover {
    if rules == other.rules { return self }
    var merged: [Int] = []
    merged.reserveCapacity(rules.count + other.rules.count)
    var left = 0
    var right = 0
    while left < rules.count || right < other.rules.count {
      if right >= other.rules.count || (left < rules.count && rules[left] < other.rules[right]) {
        merged.append(rules[left])
        left += 1
      } else if left >= rules.count || other.rules[right] < rules[left] {
        merged.append(other.rules[right])
        right += 1
      } else {
        merged.append(rules[left])
        left += 1
        right += 1
      }
    }
    var cover = self
    cover.rules = merged
    return cover
  }

  public var description: String { rules.map(String.init).joined(separator: ",") }

  public static func < (lhs: RuleCover, rhs: RuleCover) -> Bool { lhs.rules.lexicographicallyPrecedes(rhs.rules) }
}

/// One disjoint box of a `FlowRegion`.
public struct FlowBox<Address: FixedWidthInteger & UnsignedInteger & Sendable>: Hashable, Sendable {
  /// Source addresses.
  public var sources: ClosedRange<Address>
  /// Destination addresses.
  public var destinations: ClosedRange<Address>
  /// Ports, ICMP types or protocol numbers, depending on the region.
  public var selectors: ClosedRange<UInt16>
  /// The rules that allow every flow of the box.
  public var cover: RuleCover

  /// Creates a box.
  public init(
    sources: ClosedRange<Address>, destinations: ClosedRange<Address>, selectors: ClosedRange<UInt16>, cover: RuleCover
  ) {
    self.sources = sources
    self.destinations = destinations
    self.selectors = selectors
    self.cover = cover
  }
}

/// An exact set of flows of one address family and one kind of match: boxes of (source address, destination
/// address, selector), where the selector is a port, an ICMP type or a protocol number. Every point carries the
/// rules that cover it, so the region splits into disjoint boxes that each remember their rules — what an
/// nftables interval map needs, since its elements must not overlap.
public struct FlowRegion<Address: FixedWidthInteger & UnsignedInteger & Sendable>: Hashable, Sendable {
  /// Selector to cover.
  public typealias Line = SegmentMap<UInt16, RuleCover>
  /// Destination to selectors.
  public typealias Plane = SegmentMap<Address, Line>

  /// Source to destinations.
  public private(set) var map: SegmentMap<Address, Plane>

  /// The empty region.
  public init() {
    map = SegmentMap()
  }

  /// Every flow from `sources` to `destinations` on `selectors`, covered by `rule`.
  public init(
    sources: IntervalSet<Address>, destinations: IntervalSet<Address>, selectors: IntervalSet<UInt16>, rule: Int
  ) {
    let line = Line(sortedDisjoint: selectors.ranges.map { Segment($0, RuleCover(rule)) })
    guard !line.isEmpty else {
      map = SegmentMap()
      return
    }
    let plane = Plane(sortedDisjoint: destinations.ranges.map { Segment($0, line) })
    guard !plane.isEmpty else {
      map = SegmentMap()
      return
    }
    map = SegmentMap(sortedDisjoint: sources.ranges.map { Segment($0, plane) })
  }

  private init(map: SegmentMap<Address, Plane>) {
    self.map = map
  }

  /// Whether the region holds no flow.
  public var isEmpty: Bool { map.isEmpty }

  /// The union of regions; where they overlap, covers are united. O(n log n) merges.
  public static func union(_ regions: [FlowRegion]) -> FlowRegion {
    FlowRegion(map: SegmentMap.union(regions.map(\.map), unionOfPlanes))
  }

  /// Both regions together.
  public func union(_ other: FlowRegion) -> FlowRegion { Self.union([self, other]) }

  /// The flows of one rule: every source to every destination on every selector.
  public struct RuleFlows: Sendable {
    public var sources: IntervalSet<Address>
    public var destinations: IntervalSet<Address>
    public var selectors: IntervalSet<UInt16>
    public var rule: Int

    /// Creates the flows of `rule`.
    public init(
      sources: IntervalSet<Address>, destinations: IntervalSet<Address>, selectors: IntervalSet<UInt16>, rule: Int
    ) {
      self.sources = sources
      self.destinations = destinations
      self.selectors = selectors
      self.rule = rule
    }
  }

  /// The region of many rules' flows; equal to the union of one region per element, built with one sort per
  /// dimension: flows with equal source ranges are grouped (then equal destination ranges within a group, then
  /// equal selector ranges), groups that do not overlap are laid side by side, and only overlapping ones are merged.
  /// Policies written host to host have few overlaps, so this stays near O(n log n) without merging n regions.
  public static func union(of flows: [RuleFlows]) -> FlowRegion {
    func lines(_ members: [Int]) -> Line {
      grouped(
        members, ranges: { flows[$0].selectors.ranges }, combine: { $0.union($1) },
        value: { group in RuleCover(ascendingOrNot: group.map { flows[$0].rule }) })
    }
    func planes(_ members: [Int]) -> Plane {
      grouped(
        members, ranges: { flows[$0].destinations.ranges }, combine: unionOfLines,
        value: { group in nonEmpty(lines(group)) })
    }
    return FlowRegion(
      map: grouped(
        Array(flows.indices), ranges: { flows[$0].sources.ranges }, combine: unionOfPlanes,
        value: { group in nonEmpty(planes(group)) }))
  }

  private static func unionOfLines(_ left: Line, _ right: Line) -> Line {
    SegmentMap.union([left, right]) { $0.union($1) }
  }

  private static func unionOfPlanes(_ left: Plane, _ right: Plane) -> Plane {
    SegmentMap.union([left, right], unionOfLines)
  }

  /// The map from each range of the members to the value of the members that have exactly that range, merging
  /// (with `combine`) only where ranges overlap.
  private static func grouped<Bound, Value>(
    _ members: [Int], ranges: (Int) -> [ClosedRange<Bound>], combine: (Value, Value) -> Value,
    value: ([Int]) -> Value?
  ) -> SegmentMap<Bound, Value> {
    var pieces: [(range: ClosedRange<Bound>, member: Int)] = []
    pieces.reserveCapacity(members.count)
    for member in members {
      for range in ranges(member) { pieces.append((range, member)) }
    }
    pieces.sort {
      ($0.range.lowerBound, $0.range.upperBound, $0.member) < ($1.range.lowerBound, $1.range.upperBound, $1.member)
    }
    var segments: [Segment<Bound, Value>] = []
    var disjoint = true
    var index = 0
    var group: [Int] = []
    while index < pieces.count {
      let range = pieces[index].range
      group.removeAll(keepingCapacity: true)
      while index < pieces.count, pieces[index].range == range {
        group.append(pieces[index].member)
        index += 1
      }
      guard let value = value(group) else { continue }
      if let last = segments.last, last.range.upperBound >= range.lowerBound { disjoint = false }
      segments.append(Segment(range, value))
    }
    if disjoint { return SegmentMap(sortedDisjoint: segments) }
    return SegmentMap.union(segments.map { SegmentMap($0.range, $0.value) }, combine)
  }

  /// The region without flows from `sources`.
  public func removing(sources: IntervalSet<Address>) -> FlowRegion {
    FlowRegion(map: map.removing(sources))
  }

  /// The region without flows to `destinations` (every destination when nil) on `selectors` (every selector when
  /// nil).
  public func removing(destinations: IntervalSet<Address>?, selectors: IntervalSet<UInt16>?) -> FlowRegion {
    FlowRegion(
      map: map.compactMapValues { plane in
        let trimmed: Plane
        switch (destinations, selectors) {
        case (nil, nil): return nil
        case (let destinations?, nil): trimmed = plane.removing(destinations)
        case (nil, let selectors?): trimmed = plane.compactMapValues { line in Self.nonEmpty(line.removing(selectors)) }
        case (let destinations?, let selectors?):
          let inside = plane.restricted(to: destinations).compactMapValues { Self.nonEmpty($0.removing(selectors)) }
          trimmed = plane.removing(destinations).merging(inside) { outside, inside in outside ?? inside }
        }
        return trimmed.isEmpty ? nil : trimmed
      })
  }

  /// The region without flows from `sources` to `destinations` on `selectors` (each axis whole when nil): inside
  /// `sources` the destinations and selectors are removed, outside them the region stays as it is.
  public func removing(
    sources: IntervalSet<Address>?, destinations: IntervalSet<Address>?, selectors: IntervalSet<UInt16>?
  ) -> FlowRegion {
    guard let sources else { return removing(destinations: destinations, selectors: selectors) }
    let inside = FlowRegion(map: map.restricted(to: sources)).removing(destinations: destinations, selectors: selectors)
    return FlowRegion(map: map.removing(sources).merging(inside.map) { outside, inside in outside ?? inside })
  }

  /// The part of the region whose covers `keep` accepts, with the covers it returns.
  public func filteringCovers(_ keep: (RuleCover) -> RuleCover?) -> FlowRegion {
    FlowRegion(
      map: map.compactMapValues { plane in
        Self.nonEmpty(plane.compactMapValues { line in Self.nonEmpty(line.compactMapValues(keep)) })
      })
  }

  /// The flows both regions hold (with the covers of `self`).
  public func intersection(_ other: FlowRegion) -> FlowRegion {
    FlowRegion(
      map: map.merging(other.map) { left, right in
        guard let left, let right else { return nil }
        return Self.nonEmpty(
          left.merging(right) { a, b in
            guard let a, let b else { return nil }
            return Self.nonEmpty(a.merging(b) { x, y in y == nil ? nil : x })
          })
      })
  }

  /// Rebuilds a region from the boxes of `boxes` of a region, in their order; O(n). Boxes that do not come from
  /// one region's `boxes` (sorted, disjoint, sharing source and destination segments) give an unspecified region.
  public init(boxesOfARegion boxes: [FlowBox<Address>]) {
    var sources: [Segment<Address, Plane>] = []
    var index = 0
    while index < boxes.count {
      let source = boxes[index].sources
      var destinations: [Segment<Address, Line>] = []
      while index < boxes.count, boxes[index].sources == source {
        let destination = boxes[index].destinations
        var selectors: [Segment<UInt16, RuleCover>] = []
        while index < boxes.count, boxes[index].sources == source, boxes[index].destinations == destination {
          selectors.append(Segment(boxes[index].selectors, boxes[index].cover))
          index += 1
        }
        destinations.append(Segment(destination, Line(sortedDisjoint: selectors)))
      }
      sources.append(Segment(source, Plane(sortedDisjoint: destinations)))
    }
    map = SegmentMap(sortedDisjoint: sources)
  }

  /// The rules covering one flow, or nil when the region does not hold it. O(log n).
  public func cover(source: Address, destination: Address, selector: UInt16) -> RuleCover? {
    map.value(at: source)?.value(at: destination)?.value(at: selector)
  }

  /// The region as disjoint boxes, ordered by source, destination and selector.
  public var boxes: [FlowBox<Address>] {
    var result: [FlowBox<Address>] = []
    for source in map.segments {
      for destination in source.value.segments {
        for selector in destination.value.segments {
          result.append(
            FlowBox(
              sources: source.range, destinations: destination.range, selectors: selector.range, cover: selector.value))
        }
      }
    }
    return result
  }

  /// The number of disjoint boxes.
  public var boxCount: Int {
    map.segments.reduce(0) { total, source in
      total + source.value.segments.reduce(0) { $0 + $1.value.segments.count }
    }
  }

  private static func nonEmpty<Key, Value>(_ map: SegmentMap<Key, Value>) -> SegmentMap<Key, Value>? {
    map.isEmpty ? nil : map
  }
}
