import Crypto
import FirewallIR
import Foundation

/// The `nft` target: a versioned header, the raw netlink batch, then the table of flows the batch forwards (which
/// `apply` needs to cut connections the new ruleset no longer allows). `conduit apply` verifies the header and both
/// SHA-256 digests before anything reaches the kernel, and refuses a damaged or foreign file.
public struct NftablesArtifact: Sendable, Equatable {
  /// The first bytes of every artifact.
  public static let magic: [UInt8] = Array("CDTNFT\r\n".utf8)
  /// The format this build writes and reads.
  public static let formatVersion: UInt16 = 1

  /// What the header records.
  public struct Header: Codable, Sendable, Equatable {
    /// The table the batch replaces (`inet NAME`).
    public var table: String
    /// The gateway's interface names the ruleset matches (checked before applying).
    public var interfaces: [String]
    /// SHA-256 of the payload, hex.
    public var payloadSHA256: String
    /// Length of the payload in bytes.
    public var payloadLength: Int
    /// SHA-256 of the flow table, hex.
    public var flowTableSHA256: String
    /// SHA-256 over the policy files and the baseline it was compiled from, hex.
    public var policySHA256: String
    public var site: String?
    public var gateway: String?
    public var mitigations: [String]
    /// Messages the kernel acknowledges.
    public var acknowledgedMessages: Int
    /// Sequence number (decimal text) to the policy place behind the message.
    public var origins: [String: String]
    /// The program and version that wrote the artifact.
    public var compiler: String
  }

  /// Why an artifact is refused.
  public struct ReadError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  public var header: Header
  public var payload: [UInt8]
  /// The flows the batch forwards.
  public var flowTable: FlowTable

  /// Builds an artifact from a batch.
  public init(
    batch: NftablesBatch, flowTable: FlowTable, table: String, interfaces: [String], policySHA256: String,
    site: String?, gateway: String?, mitigations: [String], compiler: String
  ) {
    header = Header(
      table: table, interfaces: interfaces, payloadSHA256: Self.sha256(batch.bytes), payloadLength: batch.bytes.count,
      flowTableSHA256: Self.sha256(flowTable.bytes), policySHA256: policySHA256,
      site: site, gateway: gateway, mitigations: mitigations, acknowledgedMessages: batch.acknowledgedMessages,
      origins: Dictionary(uniqueKeysWithValues: batch.origins.map { (String($0.key), $0.value) }), compiler: compiler)
    payload = batch.bytes
    self.flowTable = flowTable
  }

  /// The batch the artifact carries.
  public var batch: NftablesBatch {
    NftablesBatch(
      bytes: payload, acknowledgedMessages: header.acknowledgedMessages,
      origins: Dictionary(
        uniqueKeysWithValues: header.origins.compactMap { key, value in UInt32(key).map { ($0, value) } }))
  }

  /// The file's bytes.
  public func encoded() -> [UInt8] {
    Array(encodedParts().joined())
  }

  /// The file in its three parts, one after the other: magic, version and header; the batch; the flow table. A
  /// large artifact is written part by part without joining them first.
  public func encodedParts() -> [[UInt8]] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let headerBytes = Array((try? encoder.encode(header)) ?? Data())
    var start: [UInt8] = []
    start.reserveCapacity(Self.magic.count + 6 + headerBytes.count)
    start += Self.magic
    start += [UInt8(Self.formatVersion >> 8), UInt8(Self.formatVersion & 0xFF)]
    let length = UInt32(headerBytes.count)
    start += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
    start += headerBytes
    return [start, payload, flowTable.bytes]
  }

  /// Reads and verifies an artifact.
  public init(decoding bytes: [UInt8]) throws(ReadError) {
    guard bytes.count >= Self.magic.count + 6, Array(bytes.prefix(Self.magic.count)) == Self.magic else {
      throw ReadError(description: "not a conduit nft artifact (wrong magic)")
    }
    var offset = Self.magic.count
    let version = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    guard version == Self.formatVersion else {
      throw ReadError(
        description: "artifact format version \(version) is not supported (this conduit reads \(Self.formatVersion))")
    }
    offset += 2
    let length = Int(
      UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
        | UInt32(bytes[offset + 3]))
    offset += 4
    guard length <= bytes.count - offset else { throw ReadError(description: "the artifact is truncated (header)") }
    guard let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[offset..<(offset + length)])) else {
      throw ReadError(description: "the artifact's header is damaged")
    }
    let payloadStart = offset + length
    guard header.payloadLength >= 0, header.payloadLength <= bytes.count - payloadStart else {
      throw ReadError(description: "the artifact is truncated (payload)")
    }
    let payload = Array(bytes[payloadStart..<(payloadStart + header.payloadLength)])
    guard Self.sha256(payload) == header.payloadSHA256 else {
      throw ReadError(description: "the artifact is damaged: its payload does not match the SHA-256 in its header")
    }
    let flowBytes = Array(bytes[(payloadStart + header.payloadLength)...])
    guard Self.sha256(flowBytes) == header.flowTableSHA256, let flowTable = FlowTable(bytes: flowBytes) else {
      throw ReadError(description: "the artifact is damaged: its flow table does not match the SHA-256 in its header")
    }
    guard header.acknowledgedMessages > 0, !payload.isEmpty else {
      throw ReadError(description: "the artifact holds no batch")
    }
    self.header = header
    self.payload = payload
    self.flowTable = flowTable
  }

  /// Hex SHA-256.
  public static func sha256(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
  }

  /// SHA-256 over named inputs (path and contents of each).
  public static func sha256(of files: [(path: String, bytes: [UInt8])]) -> String {
    var hasher = SHA256()
    for file in files {
      hasher.update(data: Array(file.path.utf8) + [0])
      hasher.update(data: withUnsafeBytes(of: UInt64(file.bytes.count).bigEndian) { Array($0) })
      hasher.update(data: file.bytes)
    }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
  }
}
