/// A set of IPv4 and IPv6 addresses as two interval sets, one per family.
public struct AddressSet: Hashable, Sendable, CustomStringConvertible {
  /// The IPv4 addresses, by integer value.
  public var v4: IntervalSet<UInt32>
  /// The IPv6 addresses, by integer value.
  public var v6: IntervalSet<UInt128>

  /// Creates the empty set.
  public init() {
    v4 = IntervalSet()
    v6 = IntervalSet()
  }

  /// Creates the set of the addresses in `prefix`.
  public init(_ prefix: IPPrefix) {
    self.init()
    if let range = prefix.v4Range { v4 = IntervalSet(range) }
    if let range = prefix.v6Range { v6 = IntervalSet(range) }
  }

  /// Creates the set of the addresses in any of `prefixes`. O(n log n).
  public init(_ prefixes: some Sequence<IPPrefix>) {
    var v4Ranges: [ClosedRange<UInt32>] = []
    var v6Ranges: [ClosedRange<UInt128>] = []
    for prefix in prefixes {
      if let range = prefix.v4Range { v4Ranges.append(range) }
      if let range = prefix.v6Range { v6Ranges.append(range) }
    }
    v4 = IntervalSet(v4Ranges)
    v6 = IntervalSet(v6Ranges)
  }

  /// Creates the set holding the single `address`.
  public init(_ address: IPAddress) {
    self.init(IPPrefix(host: address))
  }

  /// Creates the set from its per-family interval sets.
  public init(v4: IntervalSet<UInt32>, v6: IntervalSet<UInt128>) {
    self.v4 = v4
    self.v6 = v6
  }

  /// Every IPv4 and every IPv6 address.
  public static var all: AddressSet {
    AddressSet(v4: .full, v6: .full)
  }

  /// Whether the set has no address of either family.
  public var isEmpty: Bool {
    v4.isEmpty && v6.isEmpty
  }

  /// The families with at least one address in the set.
  public var families: Set<AddressFamily> {
    var families: Set<AddressFamily> = []
    if !v4.isEmpty { families.insert(.ipv4) }
    if !v6.isEmpty { families.insert(.ipv6) }
    return families
  }

  /// The addresses of the set that belong to `family`.
  public func restricted(to family: AddressFamily) -> AddressSet {
    switch family {
    case .ipv4: AddressSet(v4: v4, v6: IntervalSet())
    case .ipv6: AddressSet(v4: IntervalSet(), v6: v6)
    }
  }

  /// Whether `address` is in the set. O(log n).
  public func contains(_ address: IPAddress) -> Bool {
    switch address {
    case .v4(let address): v4.contains(address.value)
    case .v6(let address): v6.contains(address.value)
    }
  }

  /// Whether every address of `prefix` is in the set. O(log n).
  public func contains(_ prefix: IPPrefix) -> Bool {
    if let range = prefix.v4Range { return v4.contains(range) }
    if let range = prefix.v6Range { return v6.contains(range) }
    return false
  }

  /// Whether some address of `prefix` is in the set. O(log n).
  public func intersects(_ prefix: IPPrefix) -> Bool {
    if let range = prefix.v4Range { return v4.intersects(range) }
    if let range = prefix.v6Range { return v6.intersects(range) }
    return false
  }

  /// Whether every address of this set is in `other`.
  public func isSubset(of other: AddressSet) -> Bool {
    v4.isSubset(of: other.v4) && v6.isSubset(of: other.v6)
  }

  /// Whether the two sets share no address.
  public func isDisjoint(with other: AddressSet) -> Bool {
    v4.isDisjoint(with: other.v4) && v6.isDisjoint(with: other.v6)
  }

  /// The addresses in either set.
  public func union(_ other: AddressSet) -> AddressSet {
    AddressSet(v4: v4.union(other.v4), v6: v6.union(other.v6))
  }

  /// The addresses in any of `sets`. O(N log N) for N ranges in all (a fold of `union(_:)` is O(N²)).
  public static func union(of sets: some Collection<AddressSet>) -> AddressSet {
    AddressSet(v4: .union(of: sets.lazy.map(\.v4)), v6: .union(of: sets.lazy.map(\.v6)))
  }

  /// The addresses in both sets.
  public func intersection(_ other: AddressSet) -> AddressSet {
    AddressSet(v4: v4.intersection(other.v4), v6: v6.intersection(other.v6))
  }

  /// The addresses in this set but not in `other`.
  public func subtracting(_ other: AddressSet) -> AddressSet {
    AddressSet(v4: v4.subtracting(other.v4), v6: v6.subtracting(other.v6))
  }

  /// Every address of both families that is not in the set.
  public func complement() -> AddressSet {
    AddressSet(v4: v4.complement(), v6: v6.complement())
  }

  /// Adds the addresses of `other`.
  public mutating func formUnion(_ other: AddressSet) {
    self = union(other)
  }

  /// Keeps only the addresses also in `other`.
  public mutating func formIntersection(_ other: AddressSet) {
    self = intersection(other)
  }

  /// Removes the addresses of `other`.
  public mutating func subtract(_ other: AddressSet) {
    self = subtracting(other)
  }

  /// Adds the addresses of `prefix`.
  public mutating func insert(_ prefix: IPPrefix) {
    if let range = prefix.v4Range { v4.insert(range) }
    if let range = prefix.v6Range { v6.insert(range) }
  }

  /// Removes the addresses of `prefix`.
  public mutating func remove(_ prefix: IPPrefix) {
    if let range = prefix.v4Range { v4.remove(range) }
    if let range = prefix.v6Range { v6.remove(range) }
  }

  /// The minimal CIDR decomposition of every range, IPv4 first, ascending.
  public var prefixes: [IPPrefix] {
    v4.ranges.flatMap { FlowSpace.prefixes(covering: $0) } + v6.ranges.flatMap { FlowSpace.prefixes(covering: $0) }
  }

  /// The prefixes joined by `, `, host prefixes as bare addresses (`10.0.0.0/24, 10.0.1.7, fd00::/64`);
  /// empty for the empty set.
  public var description: String {
    prefixes.map(\.addressDescription).joined(separator: ", ")
  }
}

/// Splits a closed range of IPv4 addresses (by integer value) into the minimal list of CIDR prefixes, ascending.
public func prefixes(covering range: ClosedRange<UInt32>) -> [IPPrefix] {
  cidrBlocks(covering: range).map { IPPrefix(uncheckedAddress: .v4(IPv4Address($0.network)), length: $0.length) }
}

/// Splits a closed range of IPv6 addresses (by integer value) into the minimal list of CIDR prefixes, ascending.
public func prefixes(covering range: ClosedRange<UInt128>) -> [IPPrefix] {
  cidrBlocks(covering: range).map { IPPrefix(uncheckedAddress: .v6(IPv6Address($0.network)), length: $0.length) }
}

/// Splits a closed range of IP addresses of one family into the minimal list of CIDR prefixes, ascending;
/// empty if the bounds belong to different families or `last` is below `first`.
public func prefixes(from first: IPAddress, through last: IPAddress) -> [IPPrefix] {
  switch (first, last) {
  case (.v4(let low), .v4(let high)) where low <= high: prefixes(covering: low.value...high.value)
  case (.v6(let low), .v6(let high)) where low <= high: prefixes(covering: low.value...high.value)
  default: []
  }
}

/// The aligned power-of-two blocks covering `range`, each as its first value and prefix length.
/// Each step takes the largest block aligned at the current start that stays inside the range.
func cidrBlocks<Bound: FixedWidthInteger & UnsignedInteger>(
  covering range: ClosedRange<Bound>
) -> [(network: Bound, length: Int)] {
  var blocks: [(network: Bound, length: Int)] = []
  var start = range.lowerBound
  while true {
    var hostBits = Swift.min(start.trailingZeroBitCount, Bound.bitWidth)
    while start | hostMask(length: Bound.bitWidth - hostBits, as: Bound.self) > range.upperBound {
      hostBits -= 1
    }
    let end = start | hostMask(length: Bound.bitWidth - hostBits, as: Bound.self)
    blocks.append((start, Bound.bitWidth - hostBits))
    guard end < range.upperBound else { return blocks }
    start = end + 1
  }
}
