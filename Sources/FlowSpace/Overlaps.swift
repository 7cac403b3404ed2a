/// For prefixes given in declaration order, finds every prefix that overlaps (contains, is contained by, or equals)
/// an earlier-declared one. Prefixes of different families never overlap.
///
/// Each such later prefix is reported once, paired with the earliest-declared prefix it overlaps; the result is
/// sorted by `later`. O(n log n): prefixes are sorted into their containment forest, and a single sweep finds for each
/// prefix the lowest index among its ancestors (containing prefixes) and among its descendants (contained prefixes).
public func findOverlaps(in prefixes: [IPPrefix]) -> [(later: Int, earlier: Int)] {
  struct Item {
    var family: AddressFamily
    var range: ClosedRange<UInt128>
    var index: Int
  }
  struct OpenItem {
    var item: Item
    var lowestAncestorIndex: Int
    var lowestDescendantIndex: Int
  }

  let items = prefixes.enumerated().map { index, prefix in
    let range = prefix.v4Range.map { UInt128($0.lowerBound)...UInt128($0.upperBound) } ?? prefix.v6Range!
    return Item(family: prefix.family, range: range, index: index)
  }
  let sorted = items.sorted { left, right in
    if left.family != right.family { return left.family < right.family }
    if left.range.lowerBound != right.range.lowerBound { return left.range.lowerBound < right.range.lowerBound }
    if left.range.upperBound != right.range.upperBound { return left.range.upperBound > right.range.upperBound }
    return left.index < right.index
  }

  var earliestOverlapping = [Int](repeating: Int.max, count: prefixes.count)
  var open: [OpenItem] = []
  func closeInnermost() {
    let closed = open.removeLast()
    earliestOverlapping[closed.item.index] = min(closed.lowestAncestorIndex, closed.lowestDescendantIndex)
    if !open.isEmpty {
      open[open.count - 1].lowestDescendantIndex = min(
        open[open.count - 1].lowestDescendantIndex, closed.lowestDescendantIndex, closed.item.index)
    }
  }
  for item in sorted {
    while let innermost = open.last?.item,
      innermost.family != item.family || innermost.range.upperBound < item.range.upperBound
    {
      closeInnermost()
    }
    let lowestAncestorIndex = open.last.map { min($0.lowestAncestorIndex, $0.item.index) } ?? Int.max
    open.append(OpenItem(item: item, lowestAncestorIndex: lowestAncestorIndex, lowestDescendantIndex: Int.max))
  }
  while !open.isEmpty {
    closeInnermost()
  }

  return earliestOverlapping.enumerated().compactMap { later, earlier in
    earlier < later ? (later: later, earlier: earlier) : nil
  }
}
