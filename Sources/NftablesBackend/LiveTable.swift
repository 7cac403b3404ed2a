import CNetlink
import Crypto
import PolicyLanguage

/// One of conduit's tables as the kernel has it, hand edits included: what the kernel listed over netlink,
/// re-encoded as the messages that create it again (the table, its chains, its sets each followed by its elements,
/// then its rules, in the kernel's order). Handles, use counts, rule positions and table ownership are left out:
/// they belong to the object the kernel holds now, not to the one a restore creates.
public struct LiveTable: Sendable, Equatable {
  /// The table's name (`inet NAME`).
  public var name: String
  /// The messages that create it, each a whole netlink message whose sequence number and flags are set when sent.
  public var messages: [[UInt8]]

  /// A table from its parts, validated as `SavedTables` does when it reads them.
  public init(name: String, messages: [[UInt8]]) throws(SavedTablesError) {
    guard LiveTable.isConduitTableName(name) else {
      throw SavedTablesError("'\(TerminalText.escaped(name))' is not the name of a conduit table")
    }
    for (index, message) in messages.enumerated() {
      try Self.validate(message, index: index, table: name, first: index == 0)
    }
    self.name = name
    self.messages = messages
  }

  /// Whether `name` is one conduit gives its tables: `conduit` or `conduit_` followed by letters, digits and `_`.
  public static func isConduitTableName(_ name: String) -> Bool {
    (name == "conduit" || name.hasPrefix("conduit_")) && name.utf8.count <= NftablesNames.maximumNameBytes
      && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || $0.isASCIILetterOrDigit }
  }

  /// What the table's identity chain says: nil when it has none, or one whose comment is not conduit's.
  public var identity: NftablesIdentity? {
    for message in messages where Self.type(of: message) == NetlinkConstant.messageNewChain {
      if let identity = Self.identity(ofChainMessage: message) { return identity }
    }
    return nil
  }

  /// The identity a NEWCHAIN message carries, when it creates the identity chain with conduit's comment.
  static func identity(ofChainMessage message: [UInt8]) -> NftablesIdentity? {
    guard let attributes = try? NetlinkBatchLayout.attributes(message, 20..<message.count, message: 0),
      let name = attributes.first(where: { $0.type == UInt16(NFTA_CHAIN_NAME.rawValue) }),
      NetlinkBatchLayout.string(message, name.range) == NftablesIdentity.chainName,
      let comment = try? NetlinkBatchLayout.chainComment(message, attributes, message: 0)
    else { return nil }
    return NftablesIdentity(comment: comment)
  }

  /// The number of rules, chains, sets and set elements, for messages to the operator.
  public var summary: String {
    var chains = 0
    var sets = 0
    var rules = 0
    var elements = 0
    for message in messages {
      switch Self.type(of: message) {
      case NetlinkConstant.messageNewChain: chains += 1
      case NetlinkConstant.messageNewSet: sets += 1
      case NetlinkConstant.messageNewRule: rules += 1
      case NetlinkConstant.messageNewSetElement:
        let attributes = (try? NetlinkBatchLayout.attributes(message, 20..<message.count, message: 0)) ?? []
        for list in attributes where list.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) {
          elements += (try? NetlinkBatchLayout.attributes(message, list.range, message: 0).count) ?? 0
        }
      default: break
      }
    }
    return "\(chains) chains, \(rules) rules, \(sets) sets, \(elements) set elements"
  }

  static func type(of message: [UInt8]) -> UInt16 {
    message.count >= 20 ? NetlinkBatchLayout.u16(message, 4) & 0xFF : 0
  }

  /// Checks that `message` is one a restore may send: an nf_tables message of the `inet` family that creates a
  /// table, chain, set, set elements or rule of `table` (the first one creating the table itself), framed exactly.
  static func validate(_ message: [UInt8], index: Int, table: String, first: Bool) throws(SavedTablesError) {
    func refuse(_ problem: String) -> SavedTablesError {
      SavedTablesError("message \(index + 1) of table '\(table)' \(problem)")
    }
    guard message.count >= 20, Int(NetlinkBatchLayout.u32(message, 0)) == message.count else {
      throw refuse("is not one whole netlink message")
    }
    let type = NetlinkBatchLayout.u16(message, 4)
    let allowed: Set<UInt16> = [
      NetlinkConstant.messageNewTable, NetlinkConstant.messageNewChain, NetlinkConstant.messageNewSet,
      NetlinkConstant.messageNewSetElement, NetlinkConstant.messageNewRule,
    ]
    guard type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES), allowed.contains(type & 0xFF) else {
      throw refuse("has type \(type), which a restore never sends")
    }
    guard (type & 0xFF == NetlinkConstant.messageNewTable) == first else {
      throw refuse(first ? "does not create the table" : "creates the table a second time")
    }
    guard message[16] == UInt8(NFPROTO_INET) else { throw refuse("is not for the inet family") }
    let attributes: [NetlinkBatchLayout.Attribute]
    do { attributes = try NetlinkBatchLayout.attributes(message, 20..<message.count, message: index) } catch {
      throw refuse("has malformed attributes (\(error))")
    }
    let tableAttributes = attributes.filter { $0.type == 1 }
    guard tableAttributes.count == 1, NetlinkBatchLayout.string(message, tableAttributes[0].range) == table else {
      throw refuse("does not name the table exactly once")
    }
  }

  /// The message of a dumped object re-encoded to create it: its attributes but those naming the object the kernel
  /// holds now (handle, use count, rule position, table owner), and the table's ownership flags cleared, so the
  /// restored table belongs to nobody's socket. A set gets `setID` as its transaction id: kernel 6.18 refuses a new
  /// set without one (EINVAL), as measured here.
  static func recreation(of reply: ArraySlice<UInt8>, setID: UInt32 = 1) -> [UInt8]? {
    let bytes = Array(reply)
    guard bytes.count >= 20 else { return nil }
    let type = NetlinkBatchLayout.u16(bytes, 4)
    let dropped: Set<UInt16>
    switch type & 0xFF {
    case NetlinkConstant.messageNewTable:
      dropped = [
        UInt16(NFTA_TABLE_USE.rawValue), UInt16(NFTA_TABLE_HANDLE.rawValue), UInt16(NFTA_TABLE_OWNER.rawValue),
      ]
    case NetlinkConstant.messageNewChain:
      dropped = [UInt16(NFTA_CHAIN_HANDLE.rawValue), UInt16(NFTA_CHAIN_USE.rawValue), UInt16(NFTA_CHAIN_ID.rawValue)]
    case NetlinkConstant.messageNewSet:
      dropped = [
        UInt16(NFTA_SET_HANDLE.rawValue), UInt16(NFTA_SET_ID.rawValue), NetlinkConstant.setBackendTypeAttribute,
        NetlinkConstant.setElementCountAttribute,
      ]
    case NetlinkConstant.messageNewRule:
      dropped = [
        UInt16(NFTA_RULE_HANDLE.rawValue), UInt16(NFTA_RULE_POSITION.rawValue), UInt16(NFTA_RULE_ID.rawValue),
        UInt16(NFTA_RULE_POSITION_ID.rawValue),
      ]
    case NetlinkConstant.messageNewSetElement: dropped = []
    default: return nil
    }
    guard let attributes = try? NetlinkBatchLayout.attributes(bytes, 20..<bytes.count, message: 0) else { return nil }
    var out = Array(bytes[0..<20])
    for attribute in attributes where !dropped.contains(attribute.type) {
      let header = attribute.range.lowerBound - 4
      var value = Array(bytes[attribute.range])
      if type & 0xFF == NetlinkConstant.messageNewTable, attribute.type == UInt16(NFTA_TABLE_FLAGS.rawValue),
        value.count == 4
      {
        value[3] &= ~UInt8(truncatingIfNeeded: NetlinkConstant.tableFlagsOfTheSocket)
      }
      if type & 0xFF == NetlinkConstant.messageNewRule, attribute.type == UInt16(NFTA_RULE_EXPRESSIONS.rawValue) {
        guard let expressions = expressionsWithoutZeroDynsetTimeouts(bytes, attribute.range) else { return nil }
        value = expressions
      }
      out += withUnsafeBytes(of: UInt16(value.count + 4).littleEndian) { Array($0) }
      out += bytes[(header + 2)..<(header + 4)]
      out += value
      out += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }
    if type & 0xFF == NetlinkConstant.messageNewSet {
      out += withUnsafeBytes(of: UInt16(8).littleEndian) { Array($0) }
      out += withUnsafeBytes(of: UInt16(NFTA_SET_ID.rawValue).littleEndian) { Array($0) }
      out += withUnsafeBytes(of: setID.bigEndian) { Array($0) }
    }
    let length = UInt32(out.count)
    out.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })
    out.replaceSubrange(6..<16, with: [UInt8](repeating: 0, count: 10))
    out[18] = 0
    out[19] = 0
    return out
  }
}

extension LiveTable {
  /// A rule's expression list as the kernel dumped it, without the zero timeout the kernel lists in every `dynset`:
  /// sent back, kernel 6.18 refuses the rule (EOPNOTSUPP, measured: a rollback failed so) for a dynamic set without
  /// `flags timeout`, such as `drop_interfaces`, and a zero timeout means the set's own anyway.
  static func expressionsWithoutZeroDynsetTimeouts(_ bytes: [UInt8], _ range: Range<Int>) -> [UInt8]? {
    guard let items = try? NetlinkBatchLayout.attributes(bytes, range, message: 0) else { return nil }
    var out: [UInt8] = []
    for item in items {
      guard let parts = try? NetlinkBatchLayout.attributes(bytes, item.range, message: 0) else { return nil }
      let isDynset = parts.contains {
        $0.type == UInt16(NFTA_EXPR_NAME.rawValue) && NetlinkBatchLayout.string(bytes, $0.range) == "dynset"
      }
      guard isDynset else {
        out += attributeBytes(bytes, item)
        continue
      }
      var expression: [UInt8] = []
      for part in parts {
        guard part.type == UInt16(NFTA_EXPR_DATA.rawValue) else {
          expression += attributeBytes(bytes, part)
          continue
        }
        guard let data = try? NetlinkBatchLayout.attributes(bytes, part.range, message: 0) else { return nil }
        let kept = data.filter {
          !($0.type == UInt16(NFTA_DYNSET_TIMEOUT.rawValue) && bytes[$0.range].allSatisfy { $0 == 0 })
        }
        expression += encodedAttribute(like: bytes, part, value: kept.flatMap { attributeBytes(bytes, $0) })
      }
      out += encodedAttribute(like: bytes, item, value: expression)
    }
    return out
  }

  /// An attribute as it stands in `bytes`, header, value and padding.
  private static func attributeBytes(_ bytes: [UInt8], _ attribute: NetlinkBatchLayout.Attribute) -> [UInt8] {
    encodedAttribute(like: bytes, attribute, value: Array(bytes[attribute.range]))
  }

  /// An attribute with the type (and nested flag) of `attribute` in `bytes` and a new value, padded.
  private static func encodedAttribute(like bytes: [UInt8], _ attribute: NetlinkBatchLayout.Attribute, value: [UInt8])
    -> [UInt8]
  {
    let typeField = NetlinkBatchLayout.u16(bytes, attribute.range.lowerBound - 2)
    return withUnsafeBytes(of: UInt16(value.count + 4).littleEndian) { Array($0) }
      + withUnsafeBytes(of: typeField.littleEndian) { Array($0) } + value
      + [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
  }
}

/// Why saved tables cannot be read or built.
public struct SavedTablesError: Error, CustomStringConvertible, Sendable, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// What a restore puts back: conduit's tables as they were before a change (none, when there were none) and the
/// tables the change creates, deleted first. The file that keeps it (`encoded`) is covered by a SHA-256 over every
/// byte before it, and every message is validated when read (`LiveTable.validate`), so a damaged or planted file can
/// neither change anything outside conduit's tables nor send what a restore never sends.
public struct SavedTables: Sendable, Equatable {
  /// The tables to delete before restoring (those the change creates), whether or not they exist then.
  public var removing: [String]
  /// The tables to create again.
  public var tables: [LiveTable]

  static let magic: [UInt8] = Array("CDTSAVE\n".utf8)
  static let formatVersion: UInt32 = 1

  /// Saved tables from their parts; every name must be a conduit table's.
  public init(removing: [String], tables: [LiveTable]) throws(SavedTablesError) {
    for name in removing where !LiveTable.isConduitTableName(name) {
      throw SavedTablesError("'\(TerminalText.escaped(name))' is not the name of a conduit table")
    }
    self.removing = removing
    self.tables = tables
  }

  /// The file's bytes: magic, version, the names to remove, the tables with their messages, then the SHA-256 of
  /// everything before it.
  public func encoded() -> [UInt8] {
    var out = Self.magic
    func u32(_ value: Int) { out += withUnsafeBytes(of: UInt32(value).bigEndian) { Array($0) } }
    func string(_ text: String) {
      u32(text.utf8.count)
      out += Array(text.utf8)
    }
    u32(Int(Self.formatVersion))
    u32(removing.count)
    for name in removing { string(name) }
    u32(tables.count)
    for table in tables {
      string(table.name)
      u32(table.messages.count)
      for message in table.messages {
        u32(message.count)
        out += message
      }
    }
    out += SHA256.hash(data: out)
    return out
  }

  /// Reads a file written by `encoded`, refusing any byte the digest does not cover or the format does not allow.
  public init(decoding bytes: [UInt8]) throws(SavedTablesError) {
    guard bytes.count >= Self.magic.count + 8 + 32, Array(bytes.prefix(Self.magic.count)) == Self.magic else {
      throw SavedTablesError("it is not a file of saved conduit tables")
    }
    let body = bytes[0..<(bytes.count - 32)]
    guard Array(SHA256.hash(data: body)) == Array(bytes.suffix(32)) else {
      throw SavedTablesError("its SHA-256 does not match its contents")
    }
    var offset = Self.magic.count
    func u32() throws(SavedTablesError) -> Int {
      guard body.endIndex - offset >= 4 else { throw SavedTablesError("it is truncated at byte \(offset)") }
      let value = body[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
      offset += 4
      return value
    }
    func take(_ count: Int) throws(SavedTablesError) -> [UInt8] {
      guard count >= 0, body.endIndex - offset >= count else {
        throw SavedTablesError("it is truncated at byte \(offset)")
      }
      defer { offset += count }
      return Array(body[offset..<(offset + count)])
    }
    func string() throws(SavedTablesError) -> String {
      let length = try u32()
      guard length <= NftablesNames.maximumNameBytes, let text = String(validating: try take(length), as: UTF8.self)
      else { throw SavedTablesError("it holds a malformed name at byte \(offset)") }
      return text
    }
    guard try u32() == Int(Self.formatVersion) else { throw SavedTablesError("its format version is not 1") }
    var removing: [String] = []
    let removingCount = try u32()
    guard removingCount <= 1 << 16 else { throw SavedTablesError("it claims \(removingCount) tables to remove") }
    for _ in 0..<removingCount { removing.append(try string()) }
    var tables: [LiveTable] = []
    let tableCount = try u32()
    guard tableCount <= 1 << 16 else { throw SavedTablesError("it claims \(tableCount) tables") }
    for _ in 0..<tableCount {
      let name = try string()
      var messages: [[UInt8]] = []
      let count = try u32()
      guard count >= 1, count <= body.count / 20 else {
        throw SavedTablesError("table '\(name)' has \(count) messages")
      }
      for _ in 0..<count { messages.append(try take(try u32())) }
      tables.append(try LiveTable(name: name, messages: messages))
    }
    guard offset == body.endIndex else { throw SavedTablesError("bytes follow its last table") }
    try self.init(removing: removing, tables: tables)
  }
}

/// A batch written message by message from raw nf_tables messages: begin, messages each asking for an
/// acknowledgement (rules appended, so they keep their order), end.
struct RawBatchWriter {
  private(set) var bytes: [UInt8] = []
  private(set) var acknowledged: [UInt32] = []
  private var sequence: UInt32 = 1

  init() {
    bytes += Self.control(UInt16(NFNL_MSG_BATCH_BEGIN), sequence: sequence)
  }

  mutating func tableMessage(_ type: UInt16, _ name: String) {
    var message = [UInt8](repeating: 0, count: 20)
    message[4] = UInt8(type & 0xFF)
    message[5] = UInt8(NFNL_SUBSYS_NFTABLES)
    message[16] = UInt8(NFPROTO_INET)
    let value = Array(name.utf8) + [0]
    message += withUnsafeBytes(of: UInt16(value.count + 4).littleEndian) { Array($0) }
    message += withUnsafeBytes(of: UInt16(NFTA_TABLE_NAME.rawValue).littleEndian) { Array($0) }
    message += value + [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    message.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(message.count).littleEndian) { Array($0) })
    append(message)
  }

  mutating func append(_ message: [UInt8]) {
    sequence += 1
    var message = message
    let type = NetlinkBatchLayout.u16(message, 4) & 0xFF
    var flags = UInt16(NLM_F_REQUEST) | NetlinkConstant.flagAck
    if type != NetlinkConstant.messageDeleteTable { flags |= NetlinkConstant.flagCreate }
    if type == NetlinkConstant.messageNewRule { flags |= NetlinkConstant.flagAppend }
    message.replaceSubrange(6..<8, with: withUnsafeBytes(of: flags.littleEndian) { Array($0) })
    message.replaceSubrange(8..<12, with: withUnsafeBytes(of: sequence.littleEndian) { Array($0) })
    bytes += message
    acknowledged.append(sequence)
  }

  /// Appends a message of a validated batch with its own flags, renumbered.
  mutating func appendKeepingFlags(_ message: [UInt8]) {
    sequence += 1
    var message = message
    message.replaceSubrange(8..<12, with: withUnsafeBytes(of: sequence.littleEndian) { Array($0) })
    bytes += message
    acknowledged.append(sequence)
  }

  mutating func finished() -> [UInt8] {
    sequence += 1
    bytes += Self.control(UInt16(NFNL_MSG_BATCH_END), sequence: sequence)
    return bytes
  }

  static func control(_ type: UInt16, sequence: UInt32) -> [UInt8] {
    var message = [UInt8](repeating: 0, count: 20)
    message[0] = 20
    message[4] = UInt8(type)
    message[6] = UInt8(NLM_F_REQUEST)
    message.replaceSubrange(8..<12, with: withUnsafeBytes(of: sequence.littleEndian) { Array($0) })
    message[18] = 0
    message[19] = UInt8(NFNL_SUBSYS_NFTABLES)
    return message
  }
}
