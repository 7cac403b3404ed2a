import Crypto
import FirewallIR
import Foundation

/// The filter tables of both families as `iptables-restore` text, in one file under a SHA-256 of every byte: what
/// `apply --target iptables` loads (`pending.iptb`, `confirmed.iptb`, with the flow table `confirm` cuts
/// connections by) and what it saved to restore (`restore.bin`, without one).
///
/// Layout: the magic, the format version (2 bytes), then three parts (the IPv4 text, the IPv6 text, the flow
/// table), each as its length (4 bytes) and its bytes, then the SHA-256 of everything before it. Numbers are
/// big-endian. An empty text stands for a family without a filter table.
public struct IptablesRulesFile: Sendable, Equatable {
  /// The first bytes of the file.
  public static let magic: [UInt8] = Array("CDTIPT\r\n".utf8)
  static let formatVersion: UInt16 = 1
  /// Far above what a policy renders to, so a damaged length is refused before anything is allocated for it.
  static let maximumPartBytes = 1 << 30

  /// `iptables-restore` input of the IPv4 filter table; empty when there is none.
  public var ipv4: String
  /// `ip6tables-restore` input of the IPv6 filter table; empty when there is none.
  public var ipv6: String
  /// The flows the rules forward (empty for saved tables).
  public var flowTable: FlowTable

  /// Why a file is refused.
  public struct FormatError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  /// A file of the given parts; each text must be a filter table (`problem(inFilterTable:)`).
  public init(ipv4: String, ipv6: String, flowTable: FlowTable) throws(FormatError) {
    for text in [ipv4, ipv6] {
      if let problem = Self.problem(inFilterTable: text) { throw FormatError(description: problem) }
    }
    self.ipv4 = ipv4
    self.ipv6 = ipv6
    self.flowTable = flowTable
  }

  /// Reads and validates a file.
  public init(decoding bytes: [UInt8]) throws(FormatError) {
    let digestSize = 32
    guard bytes.count >= Self.magic.count + 2 + 12 + digestSize, bytes.starts(with: Self.magic) else {
      throw FormatError(description: "it is not a conduit iptables rules file")
    }
    let body = bytes[0..<(bytes.count - digestSize)]
    guard Array(SHA256.hash(data: body)) == Array(bytes[(bytes.count - digestSize)...]) else {
      throw FormatError(description: "its SHA-256 does not match: it is damaged")
    }
    var offset = Self.magic.count
    let version = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    guard version == Self.formatVersion else {
      throw FormatError(description: "it is of format version \(version), not \(Self.formatVersion)")
    }
    offset += 2
    var parts: [[UInt8]] = []
    for _ in 0..<3 {
      guard body.count - offset >= 4 else { throw FormatError(description: "it is truncated") }
      let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
      offset += 4
      guard length <= Self.maximumPartBytes, length <= body.count - offset else {
        throw FormatError(description: "a part claims \(length) bytes")
      }
      parts.append(Array(bytes[offset..<(offset + length)]))
      offset += length
    }
    guard offset == body.count else { throw FormatError(description: "bytes follow its last part") }
    guard let ipv4 = String(validating: parts[0], as: UTF8.self), let ipv6 = String(validating: parts[1], as: UTF8.self)
    else { throw FormatError(description: "a text part is not UTF-8") }
    let flowTable: FlowTable
    switch FlowTable.validating(parts[2]) {
    case .success(let table): flowTable = table
    case .failure(let problem): throw FormatError(description: "its flow table is malformed: \(problem)")
    }
    try self.init(ipv4: ipv4, ipv6: ipv6, flowTable: flowTable)
  }

  /// The file's bytes.
  public func encoded() -> [UInt8] {
    var bytes = Self.magic
    bytes += [UInt8(Self.formatVersion >> 8), UInt8(Self.formatVersion & 0xFF)]
    for part in [Array(ipv4.utf8), Array(ipv6.utf8), flowTable.bytes] {
      let count = UInt32(part.count)
      bytes += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
      bytes += part
    }
    return bytes + Array(SHA256.hash(data: bytes))
  }

  /// Why `text` is not one filter table as `iptables-save -t filter` prints it and `iptables-restore` reads it
  /// (nil when it is, or when it is empty): one `*filter`, then chain declarations, `-A`/`-I`/`-N` rules and
  /// comments, then `COMMIT`, and nothing after it but comments. No other table can be touched through it, and no
  /// line can hold a control character.
  public static func problem(inFilterTable text: String) -> String? {
    guard !text.isEmpty else { return nil }
    var opened = false
    var committed = false
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      if line.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) {
        return "line \(number + 1) holds a control character"
      }
      if line.isEmpty || line.hasPrefix("#") { continue }
      if committed { return "line \(number + 1) follows COMMIT" }
      if !opened {
        guard line == "*filter" else { return "line \(number + 1) is not `*filter`: only the filter table is loaded" }
        opened = true
      } else if line == "COMMIT" {
        committed = true
      } else if !(line.hasPrefix(":") || line.hasPrefix("-A ") || line.hasPrefix("-I ") || line.hasPrefix("-N ")) {
        return "line \(number + 1) is not a chain or a rule of the filter table"
      }
    }
    return committed ? nil : "the filter table is not committed"
  }
}
