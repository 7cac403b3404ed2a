/// One segment of a `SegmentMap`: a closed range and the value every point of it has.
public struct Segment<Bound: FixedWidthInteger & UnsignedInteger & Sendable, Value: Hashable & Sendable>: Hashable,
  Sendable
{
  /// The points of the segment.
  public var range: ClosedRange<Bound>
  /// Their value.
  public var value: Value

  /// Creates a segment.
  public init(_ range: ClosedRange<Bound>, _ value: Value) {
    self.range = range
    self.value = value
  }
}

/// A partial function from a line of integers to values, as sorted disjoint segments; adjacent segments with equal
/// values are always merged, so two maps are equal exactly when they map every point alike.
///
/// Nesting maps gives exact sets of boxes: `SegmentMap<Source, SegmentMap<Destination, SegmentMap<Port, Rules>>>`
/// is a set of flows where every point knows the rules that cover it. Every operation is a linear merge.
public struct SegmentMap<Bound: FixedWidthInteger & UnsignedInteger & Sendable, Value: Hashable & Sendable>: Hashable,
  Sendable
{
  /// The segments, sorted, disjoint, adjacent ones holding different values.
  public private(set) var segments: [Segment<Bound, Value>]

  /// The empty map.
  public init() {
    segments = []
  }

  /// One segment.
  public init(_ range: ClosedRange<Bound>, _ value: Value) {
    segments = [Segment(range, value)]
  }

  /// Segments that are already sorted and disjoint; adjacent equal values are merged.
  public init(sortedDisjoint segments: [Segment<Bound, Value>]) {
    self.segments = []
    self.segments.reserveCapacity(segments.count)
    for segment in segments { appendCoalescing(segment) }
  }

  /// Whether no point has a value.
  public var isEmpty: Bool { segments.isEmpty }

  /// The value at a point.
  public func value(at point: Bound) -> Value? {
    var low = 0
    var high = segments.count
    while low < high {
      let mid = (low + high) / 2
      if segments[mid].range.upperBound < point { low = mid + 1 } else { high = mid }
    }
    guard low < segments.count, segments[low].range.contains(point) else { return nil }
    return segments[low].value
  }

  /// The points that have a value.
  public var domain: IntervalSet<Bound> { IntervalSet(segments.map(\.range)) }

  /// Combines two maps point by point: the result at a point is `combine(self's value, other's value)`, where
  /// `combine` is called only where at least one side has a value and may return nil to leave the point out.
  /// Linear in the number of segments of both maps.
  public func merging<Other: Hashable & Sendable>(
    _ other: SegmentMap<Bound, Other>, _ combine: (Value?, Other?) -> Value?
  ) -> SegmentMap {
    var result = SegmentMap()
    result.segments.reserveCapacity(segments.count + other.segments.count)
    var left = 0
    var right = 0
    var cursor: Bound? = nil
    func start(_ range: ClosedRange<Bound>) -> Bound {
      guard let cursor else { return range.lowerBound }
      return Swift.max(cursor, range.lowerBound)
    }
    while left < segments.count || right < other.segments.count {
      if left < segments.count, let cursor, segments[left].range.upperBound < cursor {
        left += 1
        continue
      }
      if right < other.segments.count, let cursor, other.segments[right].range.upperBound < cursor {
        right += 1
        continue
      }
      let leftStart = left < segments.count ? start(segments[left].range) : nil
      let rightStart = right < other.segments.count ? start(other.segments[right].range) : nil
      let from: Bound
      let through: Bound
      var leftValue: Value?
      var rightValue: Other?
      switch (leftStart, rightStart) {
      case (let l?, let r?) where l == r:
        from = l
        through = Swift.min(segments[left].range.upperBound, other.segments[right].range.upperBound)
        leftValue = segments[left].value
        rightValue = other.segments[right].value
      case (let l?, let r?) where l < r:
        from = l
        through = Swift.min(segments[left].range.upperBound, r - 1)
        leftValue = segments[left].value
      case (_, let r?):
        from = r
        through =
          leftStart.map { Swift.min(other.segments[right].range.upperBound, $0 - 1) }
          ?? other.segments[right].range.upperBound
        rightValue = other.segments[right].value
      case (let l?, nil):
        from = l
        through = segments[left].range.upperBound
        leftValue = segments[left].value
      case (nil, nil):
        return result
      }
      if let value = combine(leftValue, rightValue) {
        result.appendCoalescing(Segment(from...through, value))
      }
      if through == Bound.max { break }
      cursor = through + 1
    }
    return result
  }

  /// The map with `transform` applied to every value (nil removes the segment); equal neighbours merge.
  public func compactMapValues(_ transform: (Value) -> Value?) -> SegmentMap {
    SegmentMap(
      sortedDisjoint: segments.compactMap { segment in transform(segment.value).map { Segment(segment.range, $0) } })
  }

  /// The map limited to the points of `set`.
  public func restricted(to set: IntervalSet<Bound>) -> SegmentMap {
    merging(SegmentMap<Bound, Bool>(sortedDisjoint: set.ranges.map { Segment($0, true) })) { value, inside in
      inside == true ? value : nil
    }
  }

  /// The map without the points of `set`.
  public func removing(_ set: IntervalSet<Bound>) -> SegmentMap {
    merging(SegmentMap<Bound, Bool>(sortedDisjoint: set.ranges.map { Segment($0, true) })) { value, inside in
      inside == true ? nil : value
    }
  }

  /// The union of many maps, combining values where they overlap; balanced so the work is O(n log n) merges.
  public static func union(_ maps: [SegmentMap], _ combine: (Value, Value) -> Value) -> SegmentMap {
    var level = maps.filter { !$0.isEmpty }
    if level.isEmpty { return SegmentMap() }
    while level.count > 1 {
      var next: [SegmentMap] = []
      next.reserveCapacity((level.count + 1) / 2)
      var index = 0
      while index < level.count {
        if index + 1 < level.count {
          next.append(
            level[index].merging(level[index + 1]) { left, right in
              switch (left, right) {
              case (let l?, let r?): combine(l, r)
              case (let l?, nil): l
              case (nil, let r?): r
              case (nil, nil): nil
              }
            })
        } else {
          next.append(level[index])
        }
        index += 2
      }
      level = next
    }
    return level[0]
  }

  private mutating func appendCoalescing(_ segment: Segment<Bound, Value>) {
    if let last = segments.last, last.range.upperBound != Bound.max,
      last.range.upperBound + 1 == segment.range.lowerBound, last.value == segment.value
    {
      segments[segments.count - 1].range = last.range.lowerBound...segment.range.upperBound
    } else {
      segments.append(segment)
    }
  }
}
