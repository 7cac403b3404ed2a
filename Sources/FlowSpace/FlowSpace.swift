// FlowSpace: IP addresses, prefixes, and the interval sets that describe which addresses and ports a flow covers.

/// The two IP address families. IPv4 sorts before IPv6.
public enum AddressFamily: String, Sendable, Hashable, Comparable, CaseIterable {
  /// 32-bit Internet Protocol version 4.
  case ipv4
  /// 128-bit Internet Protocol version 6.
  case ipv6

  /// The number of bits in an address of this family (32 or 128).
  public var bitWidth: Int {
    switch self {
    case .ipv4: 32
    case .ipv6: 128
    }
  }

  /// IPv4 sorts before IPv6.
  public static func < (lhs: AddressFamily, rhs: AddressFamily) -> Bool {
    lhs == .ipv4 && rhs == .ipv6
  }
}

/// An IPv4 or IPv6 address. All IPv4 addresses sort before all IPv6 addresses.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// An IPv4 address.
  case v4(IPv4Address)
  /// An IPv6 address.
  case v6(IPv6Address)

  /// Parses an address: text containing `:` is parsed as IPv6, anything else as a strict IPv4 dotted quad.
  public init?(_ text: some StringProtocol) {
    if text.utf8.contains(UInt8(ascii: ":")) {
      guard let address = IPv6Address(text) else { return nil }
      self = .v6(address)
    } else {
      guard let address = IPv4Address(text) else { return nil }
      self = .v4(address)
    }
  }

  /// The family of this address.
  public var family: AddressFamily {
    switch self {
    case .v4: .ipv4
    case .v6: .ipv6
    }
  }

  /// The dotted quad for IPv4, the RFC 5952 canonical text for IPv6.
  public var description: String {
    switch self {
    case .v4(let address): address.description
    case .v6(let address): address.description
    }
  }

  /// Orders IPv4 before IPv6, then numerically within a family.
  public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
    switch (lhs, rhs) {
    case (.v4(let left), .v4(let right)): left < right
    case (.v6(let left), .v6(let right)): left < right
    case (.v4, .v6): true
    case (.v6, .v4): false
    }
  }
}
