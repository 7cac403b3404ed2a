/// A closed range of addresses of one family, printed as a prefix when it is one (`10.40.0.0/24`, `10.40.0.7`)
/// and as `first-last` otherwise.
public struct AddressRange: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The first address.
  public var first: IPAddress
  /// The last address (same family as `first`).
  public var last: IPAddress

  /// Creates a range; `first` and `last` must be of one family with `first <= last`.
  public init(first: IPAddress, last: IPAddress) {
    precondition(first.family == last.family && first <= last)
    self.first = first
    self.last = last
  }

  /// An IPv4 range.
  public init(_ range: ClosedRange<UInt32>) {
    self.init(first: .v4(IPv4Address(range.lowerBound)), last: .v4(IPv4Address(range.upperBound)))
  }

  /// An IPv6 range.
  public init(_ range: ClosedRange<UInt128>) {
    self.init(first: .v6(IPv6Address(range.lowerBound)), last: .v6(IPv6Address(range.upperBound)))
  }

  /// The family of both ends.
  public var family: AddressFamily { first.family }

  /// The single prefix the range equals, if any.
  public var prefix: IPPrefix? {
    let covering = prefixes(from: first, through: last)
    return covering.count == 1 ? covering[0] : nil
  }

  public var description: String {
    if let prefix { return prefix.addressDescription }
    return "\(first)-\(last)"
  }

  public static func < (lhs: AddressRange, rhs: AddressRange) -> Bool {
    (lhs.first, lhs.last) < (rhs.first, rhs.last)
  }
}
