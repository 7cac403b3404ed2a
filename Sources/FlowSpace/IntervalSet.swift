/// A set of unsigned integers stored as sorted, disjoint, non-adjacent closed ranges
/// (coalesced: `[1...3, 4...5]` becomes `[1...5]`).
///
/// Because the representation is canonical, two sets are equal exactly when they contain the same values.
/// Iterating the set yields its ranges in ascending order. Set algebra runs as linear merges over the two range lists.
public struct IntervalSet<Bound: FixedWidthInteger & UnsignedInteger & Sendable>: Hashable, Sendable, Sequence,
  CustomStringConvertible, ExpressibleByArrayLiteral
{
  /// The ranges in ascending order, pairwise disjoint and separated by at least one missing value.
  public private(set) var ranges: [ClosedRange<Bound>]

  /// Creates the empty set.
  public init() {
    ranges = []
  }

  /// Creates the set of the values in `range`.
  public init(_ range: ClosedRange<Bound>) {
    ranges = [range]
  }

  /// Creates the set of the values in any of `ranges`, which may be unsorted, overlapping, or adjacent.
  /// O(n log n).
  public init(_ ranges: some Sequence<ClosedRange<Bound>>) {
    var builder = RangeListBuilder<Bound>()
    for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      builder.append(range)
    }
    self.ranges = builder.ranges
  }

  /// Creates the set of the values in any of the listed ranges.
  public init(arrayLiteral ranges: ClosedRange<Bound>...) {
    self.init(ranges)
  }

  init(canonicalRanges: [ClosedRange<Bound>]) {
    ranges = canonicalRanges
  }

  /// The set of every value from `0` through `Bound.max`.
  public static var full: IntervalSet {
    IntervalSet(0...Bound.max)
  }

  /// Whether the set has no values.
  public var isEmpty: Bool {
    ranges.isEmpty
  }

  /// Whether the set has every value from `0` through `Bound.max`.
  public var isFull: Bool {
    ranges.count == 1 && ranges[0].lowerBound == 0 && ranges[0].upperBound == Bound.max
  }

  /// The number of values in the set as a double-width integer, which cannot overflow: `high` is 1 only for the full
  /// set (2^bitWidth values, with `low` 0) and 0 otherwise.
  public var valueCount: (high: Bound, low: Bound) {
    var high: Bound = 0
    var low: Bound = 0
    for range in ranges {
      let (sum, overflowed) = low.addingReportingOverflow(range.upperBound - range.lowerBound)
      let (total, overflowedAgain) = sum.addingReportingOverflow(1)
      if overflowed || overflowedAgain { high += 1 }
      low = total
    }
    return (high, low)
  }

  /// The number of values in the set as a `Count`, or nil if it does not fit (e.g. the full `IntervalSet<UInt64>`
  /// counted as `Int`).
  public func valueCount<Count: FixedWidthInteger>(as _: Count.Type) -> Count? {
    let (high, low) = valueCount
    guard high == 0 else {
      guard let maximum = Count(exactly: Bound.max) else { return nil }
      let (count, overflowed) = maximum.addingReportingOverflow(1)
      return overflowed ? nil : count
    }
    return Count(exactly: low)
  }

  /// Whether `value` is in the set. O(log n).
  public func contains(_ value: Bound) -> Bool {
    let index = firstIndex(endingAtOrAfter: value)
    return index < ranges.count && ranges[index].lowerBound <= value
  }

  /// Whether every value of `range` is in the set. O(log n).
  public func contains(_ range: ClosedRange<Bound>) -> Bool {
    let index = firstIndex(endingAtOrAfter: range.lowerBound)
    return index < ranges.count && ranges[index].lowerBound <= range.lowerBound
      && ranges[index].upperBound >= range.upperBound
  }

  /// Whether some value of `range` is in the set. O(log n).
  public func intersects(_ range: ClosedRange<Bound>) -> Bool {
    let index = firstIndex(endingAtOrAfter: range.lowerBound)
    return index < ranges.count && ranges[index].lowerBound <= range.upperBound
  }

  /// Whether every value of this set is in `other`. O(n + m).
  public func isSubset(of other: IntervalSet) -> Bool {
    var otherIndex = 0
    for range in ranges {
      while otherIndex < other.ranges.count && other.ranges[otherIndex].upperBound < range.lowerBound {
        otherIndex += 1
      }
      guard otherIndex < other.ranges.count, other.ranges[otherIndex].lowerBound <= range.lowerBound,
        other.ranges[otherIndex].upperBound >= range.upperBound
      else { return false }
    }
    return true
  }

  /// Whether the two sets share no value. O(n + m).
  public func isDisjoint(with other: IntervalSet) -> Bool {
    var index = 0
    var otherIndex = 0
    while index < ranges.count && otherIndex < other.ranges.count {
      let range = ranges[index]
      let otherRange = other.ranges[otherIndex]
      if range.overlaps(otherRange) { return false }
      if range.upperBound < otherRange.upperBound { index += 1 } else { otherIndex += 1 }
    }
    return true
  }

  /// The values in either set. O(n + m).
  public func union(_ other: IntervalSet) -> IntervalSet {
    var builder = RangeListBuilder<Bound>()
    builder.ranges.reserveCapacity(ranges.count + other.ranges.count)
    var index = 0
    var otherIndex = 0
    while index < ranges.count || otherIndex < other.ranges.count {
      let takesOwn =
        otherIndex == other.ranges.count
        || (index < ranges.count && ranges[index].lowerBound <= other.ranges[otherIndex].lowerBound)
      if takesOwn {
        builder.append(ranges[index])
        index += 1
      } else {
        builder.append(other.ranges[otherIndex])
        otherIndex += 1
      }
    }
    return IntervalSet(canonicalRanges: builder.ranges)
  }

  /// The values in any of `sets`. O(N log N) for N ranges in all, where folding `union(_:)` over many disjoint sets
  /// costs O(N²).
  public static func union(of sets: some Sequence<IntervalSet>) -> IntervalSet {
    var ranges: [ClosedRange<Bound>] = []
    var count = 0
    for set in sets {
      if count == 0 { ranges = set.ranges } else { ranges += set.ranges }
      count += 1
    }
    return count <= 1 ? IntervalSet(canonicalRanges: ranges) : IntervalSet(ranges)
  }

  /// The values in both sets. O(n + m).
  public func intersection(_ other: IntervalSet) -> IntervalSet {
    var result: [ClosedRange<Bound>] = []
    var index = 0
    var otherIndex = 0
    while index < ranges.count && otherIndex < other.ranges.count {
      let range = ranges[index]
      let otherRange = other.ranges[otherIndex]
      let lower = Swift.max(range.lowerBound, otherRange.lowerBound)
      let upper = Swift.min(range.upperBound, otherRange.upperBound)
      if lower <= upper { result.append(lower...upper) }
      if range.upperBound < otherRange.upperBound { index += 1 } else { otherIndex += 1 }
    }
    return IntervalSet(canonicalRanges: result)
  }

  /// The values in this set but not in `other`. O(n + m).
  public func subtracting(_ other: IntervalSet) -> IntervalSet {
    var result: [ClosedRange<Bound>] = []
    var otherIndex = 0
    for range in ranges {
      while otherIndex < other.ranges.count && other.ranges[otherIndex].upperBound < range.lowerBound {
        otherIndex += 1
      }
      var remainderStart = range.lowerBound
      var isExhausted = false
      var scanIndex = otherIndex
      while scanIndex < other.ranges.count && other.ranges[scanIndex].lowerBound <= range.upperBound {
        let removed = other.ranges[scanIndex]
        if removed.lowerBound > remainderStart { result.append(remainderStart...(removed.lowerBound - 1)) }
        if removed.upperBound >= range.upperBound {
          isExhausted = true
          break
        }
        remainderStart = removed.upperBound + 1
        scanIndex += 1
      }
      otherIndex = scanIndex
      if !isExhausted { result.append(remainderStart...range.upperBound) }
    }
    return IntervalSet(canonicalRanges: result)
  }

  /// The values from `0` through `Bound.max` that are not in the set. O(n).
  public func complement() -> IntervalSet {
    var result: [ClosedRange<Bound>] = []
    result.reserveCapacity(ranges.count + 1)
    var nextMissing: Bound? = 0
    for range in ranges {
      if let start = nextMissing, start < range.lowerBound { result.append(start...(range.lowerBound - 1)) }
      nextMissing = range.upperBound == Bound.max ? nil : range.upperBound + 1
    }
    if let start = nextMissing { result.append(start...Bound.max) }
    return IntervalSet(canonicalRanges: result)
  }

  /// Adds the values of `other`. O(n + m).
  public mutating func formUnion(_ other: IntervalSet) {
    self = union(other)
  }

  /// Keeps only the values also in `other`. O(n + m).
  public mutating func formIntersection(_ other: IntervalSet) {
    self = intersection(other)
  }

  /// Removes the values of `other`. O(n + m).
  public mutating func subtract(_ other: IntervalSet) {
    self = subtracting(other)
  }

  /// Adds the values of `range`, merging it with the ranges it overlaps or touches.
  /// O(log n + k) comparisons plus the array shift; use `init(_:)` or `union(_:)` to add many ranges at once.
  public mutating func insert(_ range: ClosedRange<Bound>) {
    let start = partitionPoint { existing in
      !(existing.upperBound < range.lowerBound && range.lowerBound - existing.upperBound > 1)
    }
    let end = partitionPoint { existing in
      existing.lowerBound > range.upperBound && existing.lowerBound - range.upperBound > 1
    }
    var merged = range
    if start < end {
      merged =
        Swift.min(range.lowerBound, ranges[start].lowerBound)...Swift.max(range.upperBound, ranges[end - 1].upperBound)
    }
    WorkCounter.add(1 + ranges.count - end)
    ranges.replaceSubrange(start..<end, with: CollectionOfOne(merged))
  }

  /// Removes the values of `range`. O(log n + k) comparisons plus the array shift.
  public mutating func remove(_ range: ClosedRange<Bound>) {
    let start = firstIndex(endingAtOrAfter: range.lowerBound)
    let end = partitionPoint { $0.lowerBound > range.upperBound }
    guard start < end else { return }
    var remainders: [ClosedRange<Bound>] = []
    if ranges[start].lowerBound < range.lowerBound {
      remainders.append(ranges[start].lowerBound...(range.lowerBound - 1))
    }
    if ranges[end - 1].upperBound > range.upperBound {
      remainders.append((range.upperBound + 1)...ranges[end - 1].upperBound)
    }
    ranges.replaceSubrange(start..<end, with: remainders)
  }

  /// Iterates over the ranges in ascending order.
  public func makeIterator() -> IndexingIterator<[ClosedRange<Bound>]> {
    ranges.makeIterator()
  }

  /// The number of ranges.
  public var underestimatedCount: Int {
    ranges.count
  }

  /// The ranges joined by `, `, single values as `80` and longer ranges as `8000-8080`; empty for the empty set.
  public var description: String {
    ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
      .joined(separator: ", ")
  }

  func firstIndex(endingAtOrAfter value: Bound) -> Int {
    partitionPoint { $0.upperBound >= value }
  }

  /// The first index whose range satisfies `predicate`, which must be false for a prefix of `ranges` and true after.
  func partitionPoint(_ predicate: (ClosedRange<Bound>) -> Bool) -> Int {
    var low = 0
    var high = ranges.count
    while low < high {
      let middle = low + (high - low) / 2
      if predicate(ranges[middle]) { high = middle } else { low = middle + 1 }
    }
    return low
  }
}

/// The set of TCP or UDP port numbers.
public typealias PortSet = IntervalSet<UInt16>

/// Accumulates ranges appended in ascending order of lower bound into a coalesced range list.
struct RangeListBuilder<Bound: FixedWidthInteger & UnsignedInteger> {
  var ranges: [ClosedRange<Bound>] = []

  mutating func append(_ range: ClosedRange<Bound>) {
    WorkCounter.add(1)
    guard let last = ranges.last, range.lowerBound <= last.upperBound || range.lowerBound - 1 == last.upperBound else {
      ranges.append(range)
      return
    }
    if range.upperBound > last.upperBound {
      ranges[ranges.count - 1] = last.lowerBound...range.upperBound
    }
  }
}
