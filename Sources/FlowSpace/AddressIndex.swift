/// A lookup from addresses to values, built once from prefix entries and then queried in O(log n).
///
/// Entries may nest: an address maps to the entry with the longest (most specific) prefix containing it, as in a
/// routing table, and among entries with the same prefix the first one given wins; the others are ignored.
/// Building sorts the entries once, O(n log n), and splits them into disjoint segments (at most 2n - 1).
public struct AddressIndex<Value: Sendable>: Sendable {
  private var entryValues: [Value]
  private var v4: SegmentTable<UInt32>
  private var v6: SegmentTable<UInt128>

  /// Creates an index without entries.
  public init() {
    entryValues = []
    v4 = SegmentTable(ranges: [])
    v6 = SegmentTable(ranges: [])
  }

  /// Creates an index from `(prefix, value)` entries in priority order for equal prefixes. O(n log n).
  public init(_ entries: some Sequence<(prefix: IPPrefix, value: Value)>) {
    var values: [Value] = []
    var v4Ranges: [(range: ClosedRange<UInt32>, entry: Int)] = []
    var v6Ranges: [(range: ClosedRange<UInt128>, entry: Int)] = []
    for (prefix, value) in entries {
      if let range = prefix.v4Range { v4Ranges.append((range, values.count)) }
      if let range = prefix.v6Range { v6Ranges.append((range, values.count)) }
      values.append(value)
    }
    entryValues = values
    v4 = SegmentTable(ranges: v4Ranges)
    v6 = SegmentTable(ranges: v6Ranges)
  }

  /// Whether no address maps to a value.
  public var isEmpty: Bool {
    v4.segments.isEmpty && v6.segments.isEmpty
  }

  /// Every address that maps to some value.
  public var covered: AddressSet {
    AddressSet(v4: v4.covered, v6: v6.covered)
  }

  /// The value of the most specific entry containing `address`, or nil if none does. O(log n).
  public func value(at address: IPAddress) -> Value? {
    let entry =
      switch address {
      case .v4(let address): v4.entry(at: address.value)
      case .v6(let address): v6.entry(at: address.value)
      }
    return entry.map { entryValues[$0] }
  }

  /// For each entry that some address of `prefix` maps to, its value and the addresses of `prefix` that map to it,
  /// ordered by the lowest such address. An entry appears once even when nested entries split its part.
  /// Use `uncovered(_:)` for the addresses that map to nothing. O(log n + k) for k segments touched.
  public func values(overlapping prefix: IPPrefix) -> [(value: Value, part: AddressSet)] {
    if let range = prefix.v4Range {
      return v4.parts(overlapping: range).map { (entryValues[$0.entry], AddressSet(v4: $0.part, v6: IntervalSet())) }
    }
    if let range = prefix.v6Range {
      return v6.parts(overlapping: range).map { (entryValues[$0.entry], AddressSet(v4: IntervalSet(), v6: $0.part)) }
    }
    return []
  }

  /// The addresses of `prefix` that no entry covers. O(log n + k).
  public func uncovered(_ prefix: IPPrefix) -> AddressSet {
    if let range = prefix.v4Range { return AddressSet(v4: v4.gaps(in: range), v6: IntervalSet()) }
    if let range = prefix.v6Range { return AddressSet(v4: IntervalSet(), v6: v6.gaps(in: range)) }
    return AddressSet()
  }
}

extension AddressIndex where Value: Hashable {
  /// Like `values(overlapping:)`, but with the parts of entries holding equal values merged, so each distinct value
  /// appears once, ordered by the lowest address of `prefix` that maps to it. O(log n + k).
  public func distinctValues(overlapping prefix: IPPrefix) -> [(value: Value, part: AddressSet)] {
    var result: [(value: Value, part: AddressSet)] = []
    var positionByValue: [Value: Int] = [:]
    for (value, part) in values(overlapping: prefix) {
      if let position = positionByValue[value] {
        result[position].part.formUnion(part)
      } else {
        positionByValue[value] = result.count
        result.append((value, part))
      }
    }
    return result
  }
}

/// Disjoint, ascending address segments of one family, each labelled with the index of the entry it belongs to.
struct SegmentTable<Bound: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
  struct Segment: Sendable {
    var range: ClosedRange<Bound>
    var entry: Int
  }

  private(set) var segments: [Segment]

  /// Splits nested ranges (each pair disjoint or nested, as prefixes are) so every value belongs to the innermost
  /// range containing it, the lowest entry index winning among equal ranges.
  init(ranges: [(range: ClosedRange<Bound>, entry: Int)]) {
    let sorted = ranges.sorted { left, right in
      if left.range.lowerBound != right.range.lowerBound { return left.range.lowerBound < right.range.lowerBound }
      if left.range.upperBound != right.range.upperBound { return left.range.upperBound > right.range.upperBound }
      return left.entry < right.entry
    }
    var segments: [Segment] = []
    var enclosing: [(range: ClosedRange<Bound>, entry: Int)] = []
    var nextUnassigned: Bound? = nil
    func assign(through end: Bound, to entry: Int) {
      guard let start = nextUnassigned, start <= end else { return }
      segments.append(Segment(range: start...end, entry: entry))
    }
    func close(_ closed: (range: ClosedRange<Bound>, entry: Int)) {
      assign(through: closed.range.upperBound, to: closed.entry)
      let end = closed.range.upperBound
      nextUnassigned = end == Bound.max ? nil : end + 1
    }
    for item in sorted {
      while let innermost = enclosing.last, innermost.range.upperBound < item.range.lowerBound {
        close(enclosing.removeLast())
      }
      if let innermost = enclosing.last {
        if innermost.range == item.range { continue }
        if item.range.lowerBound > 0 { assign(through: item.range.lowerBound - 1, to: innermost.entry) }
      }
      nextUnassigned = item.range.lowerBound
      enclosing.append(item)
    }
    while let innermost = enclosing.popLast() {
      close(innermost)
    }
    self.segments = segments
  }

  var covered: IntervalSet<Bound> {
    var builder = RangeListBuilder<Bound>()
    for segment in segments { builder.append(segment.range) }
    return IntervalSet(canonicalRanges: builder.ranges)
  }

  func entry(at value: Bound) -> Int? {
    let index = firstIndex(endingAtOrAfter: value)
    guard index < segments.count, segments[index].range.lowerBound <= value else { return nil }
    return segments[index].entry
  }

  func parts(overlapping range: ClosedRange<Bound>) -> [(entry: Int, part: IntervalSet<Bound>)] {
    var builders: [(entry: Int, ranges: RangeListBuilder<Bound>)] = []
    var positionByEntry: [Int: Int] = [:]
    var index = firstIndex(endingAtOrAfter: range.lowerBound)
    while index < segments.count && segments[index].range.lowerBound <= range.upperBound {
      let segment = segments[index]
      let part = segment.range.clamped(to: range)
      if let position = positionByEntry[segment.entry] {
        builders[position].ranges.append(part)
      } else {
        positionByEntry[segment.entry] = builders.count
        var builder = RangeListBuilder<Bound>()
        builder.append(part)
        builders.append((segment.entry, builder))
      }
      index += 1
    }
    return builders.map { ($0.entry, IntervalSet(canonicalRanges: $0.ranges.ranges)) }
  }

  func gaps(in range: ClosedRange<Bound>) -> IntervalSet<Bound> {
    var gaps: [ClosedRange<Bound>] = []
    var nextUncovered: Bound? = range.lowerBound
    var index = firstIndex(endingAtOrAfter: range.lowerBound)
    while let start = nextUncovered, index < segments.count, segments[index].range.lowerBound <= range.upperBound {
      let segment = segments[index].range
      if segment.lowerBound > start { gaps.append(start...(segment.lowerBound - 1)) }
      nextUncovered = segment.upperBound >= range.upperBound ? nil : segment.upperBound + 1
      index += 1
    }
    if let start = nextUncovered { gaps.append(start...range.upperBound) }
    return IntervalSet(canonicalRanges: gaps)
  }

  private func firstIndex(endingAtOrAfter value: Bound) -> Int {
    var low = 0
    var high = segments.count
    while low < high {
      let middle = low + (high - low) / 2
      if segments[middle].range.upperBound >= value { high = middle } else { low = middle + 1 }
    }
    return low
  }
}
