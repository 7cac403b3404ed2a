/// A CIDR prefix: a network address whose host bits are zero, and a prefix length.
///
/// Prefixes sort by network address (so IPv4 before IPv6), then by length, shorter (larger) prefixes first.
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The network address; its host bits are always zero.
  public let address: IPAddress
  /// The number of leading network bits: 0...32 for IPv4, 0...128 for IPv6.
  public let length: Int

  /// Why a prefix text was rejected by `parse(_:)`.
  public enum ParseError: Error, Hashable, Sendable {
    /// The part before `/` is not a valid address.
    case invalidAddress
    /// The part after `/` is not a decimal length without leading zeros within the family's range.
    case invalidLength
    /// The address has bits set after the prefix length; `network` is the prefix with those bits cleared.
    case hostBitsSet(network: IPPrefix)
  }

  /// Creates a prefix, or nil if `length` is out of range for the family or `address` has host bits set.
  public init?(address: IPAddress, length: Int) {
    guard (0...address.family.bitWidth).contains(length) else { return nil }
    let network = Self.network(of: address, length: length)
    guard network == address else { return nil }
    self.address = address
    self.length = length
  }

  /// Creates the prefix of the given length that contains `address`, clearing its host bits;
  /// nil if `length` is out of range for the family.
  public init?(truncating address: IPAddress, length: Int) {
    guard (0...address.family.bitWidth).contains(length) else { return nil }
    self.address = Self.network(of: address, length: length)
    self.length = length
  }

  /// Creates the single-address prefix (`/32` or `/128`) for `host`.
  public init(host: IPAddress) {
    address = host
    length = host.family.bitWidth
  }

  /// Parses a prefix text as `parse(_:)` does, returning nil on any error.
  public init?(_ text: some StringProtocol) {
    guard case .success(let prefix) = Self.parse(text) else { return nil }
    self = prefix
  }

  /// Parses `address/length` (e.g. `10.1.0.0/16`, `fd00:40::/64`); a bare address yields its host prefix.
  ///
  /// The address is checked first (`invalidAddress`), then the length (`invalidLength` for an empty length, non-digits,
  /// leading zeros, or a value beyond the family's bit width), then the host bits (`hostBitsSet`).
  public static func parse(_ text: some StringProtocol) -> Result<IPPrefix, ParseError> {
    guard let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")) else {
      guard let address = IPAddress(text) else { return .failure(.invalidAddress) }
      return .success(IPPrefix(host: address))
    }
    guard let address = IPAddress(text[..<slash]) else { return .failure(.invalidAddress) }
    guard let length = parseLength(text[text.index(after: slash)...], maximum: address.family.bitWidth) else {
      return .failure(.invalidLength)
    }
    let network = IPPrefix(truncating: address, length: length)!
    guard network.address == address else { return .failure(.hostBitsSet(network: network)) }
    return .success(network)
  }

  /// The family of the prefix's address.
  public var family: AddressFamily {
    address.family
  }

  /// Whether the prefix covers exactly one address.
  public var isHost: Bool {
    length == family.bitWidth
  }

  /// The lowest address in the prefix (the network address).
  public var first: IPAddress {
    address
  }

  /// The highest address in the prefix.
  public var last: IPAddress {
    switch address {
    case .v4(let network): .v4(IPv4Address(network.value | hostMask(length: length, as: UInt32.self)))
    case .v6(let network): .v6(IPv6Address(network.value | hostMask(length: length, as: UInt128.self)))
    }
  }

  /// Whether `address` lies inside the prefix; addresses of the other family never do.
  public func contains(_ address: IPAddress) -> Bool {
    Self.network(of: address, length: length) == self.address
  }

  /// Whether every address of `other` lies inside this prefix.
  public func contains(_ other: IPPrefix) -> Bool {
    other.length >= length && contains(other.address)
  }

  /// Whether the two prefixes share an address, which for prefixes means one contains the other.
  public func overlaps(_ other: IPPrefix) -> Bool {
    contains(other) || other.contains(self)
  }

  /// The text form `address/length`, including `/32` or `/128` for host prefixes.
  public var description: String {
    "\(address)/\(length)"
  }

  /// The bare address for a host prefix, otherwise the same as `description`.
  public var addressDescription: String {
    isHost ? address.description : description
  }

  /// Orders by network address, then shorter prefixes first.
  public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
    lhs.address != rhs.address ? lhs.address < rhs.address : lhs.length < rhs.length
  }

  var v4Range: ClosedRange<UInt32>? {
    guard case .v4(let network) = address else { return nil }
    return network.value...(network.value | hostMask(length: length, as: UInt32.self))
  }

  var v6Range: ClosedRange<UInt128>? {
    guard case .v6(let network) = address else { return nil }
    return network.value...(network.value | hostMask(length: length, as: UInt128.self))
  }

  init(uncheckedAddress address: IPAddress, length: Int) {
    self.address = address
    self.length = length
  }

  private static func network(of address: IPAddress, length: Int) -> IPAddress {
    switch address {
    case .v4(let host): .v4(IPv4Address(host.value & ~hostMask(length: length, as: UInt32.self)))
    case .v6(let host): .v6(IPv6Address(host.value & ~hostMask(length: length, as: UInt128.self)))
    }
  }

  private static func parseLength(_ text: some StringProtocol, maximum: Int) -> Int? {
    let digits = text.utf8
    guard (1...3).contains(digits.count), digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
    else { return nil }
    guard digits.count == 1 || digits.first != UInt8(ascii: "0") else { return nil }
    guard let length = Int(text), length <= maximum else { return nil }
    return length
  }
}

/// The mask of the bits after the first `length` bits; all ones for length 0, zero for the full bit width.
func hostMask<Bound: FixedWidthInteger & UnsignedInteger>(length: Int, as _: Bound.Type) -> Bound {
  length >= Bound.bitWidth ? 0 : Bound.max >> length
}
