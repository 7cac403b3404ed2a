/// A 128-bit IPv6 address.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The address as an integer whose most significant 16 bits are the first group.
  public var value: UInt128

  /// Creates an address from its integer value.
  public init(_ value: UInt128) {
    self.value = value
  }

  /// Parses RFC 4291 text: eight groups of 1-4 hex digits (any case), optionally with one `::` standing for one or
  /// more zero groups, and optionally ending in an embedded dotted quad that supplies the last 32 bits.
  /// Zone identifiers (`%eth0`), brackets, and anything else malformed are rejected.
  public init?(_ text: some StringProtocol) {
    guard let value = Self.parse(Array(text.utf8)) else { return nil }
    self.value = value
  }

  /// The eight 16-bit groups, most significant first.
  public var groups: [UInt16] {
    (0..<8).map { UInt16(truncatingIfNeeded: value >> (112 - 16 * $0)) }
  }

  /// The RFC 5952 canonical text: lowercase hex without leading zeros, and the longest run of two or more zero groups
  /// (the first one on ties) replaced by `::`.
  public var description: String {
    let groups = groups
    var longestRun = (start: 0, length: 0)
    var runStart = 0
    for index in 0...8 {
      if index < 8 && groups[index] == 0 { continue }
      let length = index - runStart
      if length > longestRun.length { longestRun = (runStart, length) }
      runStart = index + 1
    }
    let hex = groups.map { String($0, radix: 16) }
    guard longestRun.length >= 2 else { return hex.joined(separator: ":") }
    let head = hex[..<longestRun.start].joined(separator: ":")
    let tail = hex[(longestRun.start + longestRun.length)...].joined(separator: ":")
    return head + "::" + tail
  }

  /// Orders addresses numerically.
  public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
    lhs.value < rhs.value
  }

  static func parse(_ bytes: [UInt8]) -> UInt128? {
    let colon = UInt8(ascii: ":")
    var compressionStart: Int?
    var index = 0
    while index + 1 < bytes.count {
      if bytes[index] == colon && bytes[index + 1] == colon {
        guard compressionStart == nil else { return nil }
        compressionStart = index
        index += 2
      } else {
        index += 1
      }
    }
    let groups: [UInt16]
    if let compressionStart {
      guard
        let head = parseGroups(bytes[..<compressionStart], allowsIPv4Tail: false),
        let tail = parseGroups(bytes[(compressionStart + 2)...], allowsIPv4Tail: true),
        head.count + tail.count <= 7
      else { return nil }
      groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    } else {
      guard let all = parseGroups(bytes[...], allowsIPv4Tail: true), all.count == 8 else { return nil }
      groups = all
    }
    return groups.reduce(0) { $0 << 16 | UInt128($1) }
  }

  private static func parseGroups(_ bytes: ArraySlice<UInt8>, allowsIPv4Tail: Bool) -> [UInt16]? {
    guard !bytes.isEmpty else { return [] }
    let parts = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
    var groups: [UInt16] = []
    for (position, part) in parts.enumerated() {
      if allowsIPv4Tail && position == parts.count - 1 && part.contains(UInt8(ascii: ".")) {
        guard let embedded = IPv4Address.parse(part) else { return nil }
        groups.append(UInt16(truncatingIfNeeded: embedded >> 16))
        groups.append(UInt16(truncatingIfNeeded: embedded))
      } else {
        guard let group = parseHexGroup(part) else { return nil }
        groups.append(group)
      }
    }
    return groups
  }

  private static func parseHexGroup(_ bytes: ArraySlice<UInt8>) -> UInt16? {
    guard (1...4).contains(bytes.count) else { return nil }
    var group: UInt16 = 0
    for byte in bytes {
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: return nil
      }
      group = group << 4 | UInt16(digit)
    }
    return group
  }
}
