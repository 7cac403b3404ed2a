import FlowSpace

/// The flows a ruleset forwards, in a compact binary form an artifact carries so that `apply` can tell which
/// tracked connections the new ruleset no longer allows.
public struct FlowTable: Sendable, Equatable {
  /// Bytes of one record: family, protocol, chain, selector range, source range, destination range.
  static let recordSize = 72

  /// The encoded records.
  public private(set) var bytes: [UInt8]

  /// The table of a ruleset's elements.
  public init(_ ruleset: Ruleset) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(ruleset.elements.count * Self.recordSize)
    for element in ruleset.elements {
      bytes.append(element.family == .ipv4 ? 4 : 6)
      bytes.append(Self.protocolNumber(element.kind))
      Self.append(UInt16(truncatingIfNeeded: element.chain), to: &bytes)
      Self.append(element.selectors.lowerBound, to: &bytes)
      Self.append(element.selectors.upperBound, to: &bytes)
      Self.append(element.sources.first, to: &bytes)
      Self.append(element.sources.last, to: &bytes)
      Self.append(element.destinations.first, to: &bytes)
      Self.append(element.destinations.last, to: &bytes)
    }
    self.bytes = bytes
  }

  /// Why bytes read back are not a flow table.
  public struct FormatError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  /// A table read back from an artifact, every record checked: a known family and protocol, selectors within their
  /// protocol's range, IPv4 addresses padded with zeros, and every range in order.
  public static func validating(_ bytes: [UInt8]) -> Result<FlowTable, FormatError> {
    guard bytes.count % recordSize == 0 else {
      return .failure(FormatError(description: "\(bytes.count) bytes are not a whole number of records"))
    }
    for (index, start) in stride(from: 0, to: bytes.count, by: recordSize).enumerated() {
      if let problem = problem(inRecordAt: start, of: bytes) {
        return .failure(FormatError(description: "record \(index): \(problem)"))
      }
    }
    return .success(FlowTable(validated: bytes))
  }

  private init(validated bytes: [UInt8]) {
    self.bytes = bytes
  }

  private static func problem(inRecordAt start: Int, of bytes: [UInt8]) -> String? {
    let family = bytes[start]
    let protocolNumber = bytes[start + 1]
    guard family == 4 || family == 6 else { return "unknown family \(family)" }
    switch (family, protocolNumber) {
    case (_, 0), (_, 6), (_, 17), (4, 1), (6, 58): break
    default: return "protocol \(protocolNumber) does not belong in a flow table of family \(family)"
    }
    let lowest = UInt16(bytes[start + 4]) << 8 | UInt16(bytes[start + 5])
    let highest = UInt16(bytes[start + 6]) << 8 | UInt16(bytes[start + 7])
    guard lowest <= highest else { return "its selectors are out of order" }
    if protocolNumber != 6, protocolNumber != 17, highest > 255 { return "selector \(highest) is out of range" }
    for address in 0..<4 {
      let field = start + 8 + address * 16
      if family == 4, bytes[(field + 4)..<(field + 16)].contains(where: { $0 != 0 }) {
        return "an IPv4 address is not padded with zeros"
      }
    }
    for pair in [0, 2] {
      let first = start + 8 + pair * 16
      let last = first + 16
      if bytes[last..<(last + 16)].lexicographicallyPrecedes(bytes[first..<(first + 16)]) {
        return "an address range is out of order"
      }
    }
    return nil
  }

  /// The number of flow elements.
  public var count: Int { bytes.count / Self.recordSize }

  /// An index answering whether a new connection would be allowed.
  public func index() -> FlowTableIndex { FlowTableIndex(self) }

  static func protocolNumber(_ kind: MatchKind) -> UInt8 {
    switch kind {
    case .tcp, .udp: kind.transportNumber!
    case .icmp: 1
    case .icmpv6: 58
    case .proto: 0
    }
  }

  /// Big-endian, without a temporary array (the table has a record per flow element).
  static func append<Value: FixedWidthInteger>(_ value: Value, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
  }

  /// 16 bytes: an IPv6 address, or an IPv4 address followed by 12 zero bytes.
  static func append(_ address: IPAddress, to bytes: inout [UInt8]) {
    switch address {
    case .v4(let v4):
      append(v4.value, to: &bytes)
      bytes.append(contentsOf: repeatElement(0, count: 12))
    case .v6(let v6): append(v6.value, to: &bytes)
    }
  }
}

/// Point queries over a `FlowTable`: one region per (family, protocol, conduit), each rebuilt in linear time. Every
/// range of a table is in order: a table is built from a ruleset or validated when read back.
public struct FlowTableIndex: Sendable {
  struct Group: Hashable {
    var family: UInt8
    var protocolNumber: UInt8
    var chain: UInt16
  }

  private var v4: [(Group, FlowRegion<UInt32>)] = []
  private var v6: [(Group, FlowRegion<UInt128>)] = []

  init(_ table: FlowTable) {
    var boxes4: [Group: [FlowBox<UInt32>]] = [:]
    var boxes6: [Group: [FlowBox<UInt128>]] = [:]
    var order: [Group] = []
    let bytes = table.bytes
    for start in stride(from: 0, to: bytes.count, by: FlowTable.recordSize) {
      let group = Group(
        family: bytes[start], protocolNumber: bytes[start + 1],
        chain: UInt16(bytes[start + 2]) << 8 | UInt16(bytes[start + 3]))
      let lowest = UInt16(bytes[start + 4]) << 8 | UInt16(bytes[start + 5])
      let highest = UInt16(bytes[start + 6]) << 8 | UInt16(bytes[start + 7])
      let selectors = lowest...highest
      let cover = RuleCover(Int(group.chain))
      if boxes4[group] == nil, boxes6[group] == nil { order.append(group) }
      if group.family == 4 {
        let values = (0..<4).map { Self.u32(bytes, start + 8 + $0 * 16) }
        boxes4[group, default: []].append(
          FlowBox(
            sources: values[0]...values[1], destinations: values[2]...values[3], selectors: selectors, cover: cover))
      } else {
        let values = (0..<4).map { Self.u128(bytes, start + 8 + $0 * 16) }
        boxes6[group, default: []].append(
          FlowBox(
            sources: values[0]...values[1], destinations: values[2]...values[3], selectors: selectors, cover: cover))
      }
    }
    for group in order {
      if let boxes = boxes4[group] { v4.append((group, FlowRegion(boxesOfARegion: boxes))) }
      if let boxes = boxes6[group] { v6.append((group, FlowRegion(boxesOfARegion: boxes))) }
    }
  }

  /// Whether a new connection from `source` to `destination` of IP protocol `protocolNumber` with destination port
  /// or ICMP type `selector` is forwarded.
  public func allows(source: IPAddress, destination: IPAddress, protocolNumber: UInt8, selector: UInt16?) -> Bool {
    let (tableProtocol, tableSelector): (UInt8, UInt16)
    switch protocolNumber {
    case 6, 17, 1, 58: (tableProtocol, tableSelector) = (protocolNumber, selector ?? 0)
    default: (tableProtocol, tableSelector) = (0, UInt16(protocolNumber))
    }
    switch (source, destination) {
    case (.v4(let from), .v4(let to)):
      return v4.contains { group, region in
        group.protocolNumber == tableProtocol
          && region.cover(source: from.value, destination: to.value, selector: tableSelector) != nil
      }
    case (.v6(let from), .v6(let to)):
      return v6.contains { group, region in
        group.protocolNumber == tableProtocol
          && region.cover(source: from.value, destination: to.value, selector: tableSelector) != nil
      }
    default:
      return false
    }
  }

  static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[at + $1]) }
  }

  static func u128(_ bytes: [UInt8], _ at: Int) -> UInt128 {
    (0..<16).reduce(UInt128(0)) { $0 << 8 | UInt128(bytes[at + $1]) }
  }
}
