/// A 32-bit IPv4 address.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The address as a big-endian-ordered integer (`10.0.0.1` is `0x0A00_0001`).
  public var value: UInt32

  /// Creates an address from its integer value.
  public init(_ value: UInt32) {
    self.value = value
  }

  /// Parses a strict dotted quad: exactly four decimal parts 0-255 without leading zeros and nothing else.
  public init?(_ text: some StringProtocol) {
    guard let value = Self.parse(text.utf8) else { return nil }
    self.value = value
  }

  /// The dotted-quad text, e.g. `192.0.2.1`.
  public var description: String {
    let octets = [24, 16, 8, 0].map { String(UInt8(truncatingIfNeeded: value >> $0)) }
    return octets.joined(separator: ".")
  }

  /// Orders addresses numerically.
  public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
    lhs.value < rhs.value
  }

  static func parse(_ bytes: some Collection<UInt8>) -> UInt32? {
    var result: UInt32 = 0
    var partCount = 0
    var part: UInt32 = 0
    var digitCount = 0
    var partStartsWithZero = false
    for byte in bytes {
      if byte == UInt8(ascii: ".") {
        guard digitCount > 0 else { return nil }
        result = result << 8 | part
        partCount += 1
        guard partCount < 4 else { return nil }
        part = 0
        digitCount = 0
      } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
        if digitCount == 0 {
          partStartsWithZero = byte == UInt8(ascii: "0")
        } else if partStartsWithZero {
          return nil
        }
        part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
        digitCount += 1
        guard part <= 255 else { return nil }
      } else {
        return nil
      }
    }
    guard digitCount > 0, partCount == 3 else { return nil }
    return result << 8 | part
  }
}
