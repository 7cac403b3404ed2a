import FlowSpace

/// One part of the difference between two flow tables: flows one forwards and the other does not.
public struct FlowTableChange: Hashable, Sendable {
  public var family: AddressFamily
  public var kind: MatchKind
  public var sources: AddressRange
  public var destinations: AddressRange
  public var selectors: ClosedRange<UInt16>
  /// The conduit chain (its index in the table that forwards the flows) the flows go to.
  public var chain: Int
}

/// The exact difference between the flows two artifacts' tables forward, whatever chain forwards them: empty exactly
/// when they forward the same new connections (what `conduit diff` reports of two policies).
public struct FlowTableDifference: Sendable {
  /// Flows the new table forwards and the old one does not (chains of the new table).
  public var added: [FlowTableChange] = []
  /// Flows the old table forwards and the new one does not (chains of the old table).
  public var removed: [FlowTableChange] = []

  /// Whether both tables forward the same flows.
  public var isEmpty: Bool { added.isEmpty && removed.isEmpty }

  /// The difference from `old` to `new`: per family and protocol, one region of both tables' records (each covered
  /// by its chain, the new table's shifted past every chain of the old), split into disjoint boxes; a box covered by
  /// one side only is added or removed. Built with one sort per dimension, so near O(n log n) in the records.
  public init(from old: FlowTable, to new: FlowTable) {
    let offset = Int(UInt16.max) + 1
    var v4: [Group: [FlowRegion<UInt32>.RuleFlows]] = [:]
    var v6: [Group: [FlowRegion<UInt128>.RuleFlows]] = [:]
    for (table, shift) in [(old, 0), (new, offset)] {
      let bytes = table.bytes
      for start in stride(from: 0, to: bytes.count, by: FlowTable.recordSize) {
        let group = Group(family: bytes[start], protocolNumber: bytes[start + 1])
        let chain = Int(UInt16(bytes[start + 2]) << 8 | UInt16(bytes[start + 3])) + shift
        let lowest = UInt16(bytes[start + 4]) << 8 | UInt16(bytes[start + 5])
        let highest = UInt16(bytes[start + 6]) << 8 | UInt16(bytes[start + 7])
        if group.family == 4 {
          let values = (0..<4).map { FlowTableIndex.u32(bytes, start + 8 + $0 * 16) }
          v4[group, default: []].append(
            FlowRegion.RuleFlows(
              sources: IntervalSet(values[0]...values[1]), destinations: IntervalSet(values[2]...values[3]),
              selectors: IntervalSet(lowest...highest), rule: chain))
        } else {
          let values = (0..<4).map { FlowTableIndex.u128(bytes, start + 8 + $0 * 16) }
          v6[group, default: []].append(
            FlowRegion.RuleFlows(
              sources: IntervalSet(values[0]...values[1]), destinations: IntervalSet(values[2]...values[3]),
              selectors: IntervalSet(lowest...highest), rule: chain))
        }
      }
    }
    for group in v4.keys.sorted() {
      add(FlowRegion.union(of: v4[group]!), group, .ipv4, offset, range: AddressRange.init)
    }
    for group in v6.keys.sorted() {
      add(FlowRegion.union(of: v6[group]!), group, .ipv6, offset, range: AddressRange.init)
    }
  }

  struct Group: Hashable, Comparable {
    var family: UInt8
    var protocolNumber: UInt8

    var kind: MatchKind {
      switch protocolNumber {
      case 6: .tcp
      case 17: .udp
      case 1: .icmp
      case 58: .icmpv6
      default: .proto
      }
    }

    static func < (lhs: Group, rhs: Group) -> Bool { (lhs.family, lhs.kind) < (rhs.family, rhs.kind) }
  }

  private mutating func add<Address>(
    _ region: FlowRegion<Address>, _ group: Group, _ family: AddressFamily, _ offset: Int,
    range: (ClosedRange<Address>) -> AddressRange
  ) {
    for box in region.boxes {
      let oldChains = box.cover.rules.filter { $0 < offset }
      let newChains = box.cover.rules.filter { $0 >= offset }
      guard oldChains.isEmpty != newChains.isEmpty else { continue }
      let change = FlowTableChange(
        family: family, kind: group.kind, sources: range(box.sources), destinations: range(box.destinations),
        selectors: box.selectors, chain: oldChains.first ?? (newChains[0] - offset))
      if oldChains.isEmpty { added.append(change) } else { removed.append(change) }
    }
  }
}
