import CNetlink
import PolicyLanguage

/// Why a netlink batch is refused before it is sent.
public struct NetlinkBatchError: Error, CustomStringConvertible, Sendable, Equatable {
  public var description: String
}

/// What a netlink batch holds, read from its bytes alone: the messages the kernel will acknowledge, the table they
/// touch and the interface names the ruleset matches. Reading it validates the batch's framing: one batch begin,
/// then nf_tables messages of the `inet` family that each ask for an acknowledgement and name one and the same
/// table, then one batch end, with nothing between or after them; every message carries only the attributes conduit
/// writes for its kind, each once (`NetlinkMessageGrammar`); every set is created after the table is deleted, and
/// every rule reads only registers it wrote and interface names only through set lookups (`NetlinkRegisterFlow`).
///
/// Whatever a header says about a batch is derived from or checked against this, so a damaged or forged header
/// cannot make `apply` wait for fewer answers than the kernel sends, touch another table, or skip the check that the
/// ruleset's interfaces exist.
public struct NetlinkBatchLayout: Sendable, Equatable {
  /// The sequence numbers of the messages the kernel acknowledges, in the order sent.
  public private(set) var acknowledgedSequences: [UInt32] = []
  /// The table every message names.
  public private(set) var table: String = ""
  /// The interface names the ruleset matches, sorted: those in the interface fields of the keys of the sets its
  /// rules look interface names up in (`NetlinkRegisterFlow`), and of the sets declared as keyed by interface.
  public private(set) var interfaces: [String] = []
  /// The number of set elements the element messages add, all together.
  public private(set) var elementCount = 0
  /// What the comment of the identity chain says, when the batch creates one (`NftablesIdentity`).
  public private(set) var identity: NftablesIdentity?

  /// The comment of a new chain (its user data: one `NFTNL_UDATA_CHAIN_COMMENT` string), which only the identity
  /// chain carries; nil without user data.
  static func chainComment(_ bytes: [UInt8], _ attributes: [Attribute], message: Int) throws(NetlinkBatchError)
    -> String?
  {
    guard let userData = attributes.first(where: { $0.type == UInt16(NFTA_CHAIN_USERDATA.rawValue) }) else {
      return nil
    }
    guard let name = attributes.first(where: { $0.type == UInt16(NFTA_CHAIN_NAME.rawValue) }),
      string(bytes, name.range) == NftablesIdentity.chainName
    else { throw error("message \(message) gives a chain other than '\(NftablesIdentity.chainName)' a comment") }
    let range = userData.range
    guard range.count >= 3, bytes[range.lowerBound] == NetlinkConstant.userDataChainComment,
      Int(bytes[range.lowerBound + 1]) == range.count - 2, bytes[range.upperBound - 1] == 0,
      let comment = String(validating: bytes[(range.lowerBound + 2)..<(range.upperBound - 1)], as: UTF8.self),
      !comment.utf8.contains(0)
    else { throw error("message \(message) has a chain comment that is not one NUL-terminated UTF-8 string") }
    return comment
  }

  /// An element's user data as conduit writes it: one `NFTNL_UDATA_SET_ELEM_COMMENT` record holding printable
  /// text (no control characters, no `"` or `\`) and its NUL, within nft's 128 bytes.
  static func checkElementComment(_ bytes: [UInt8], _ range: Range<Int>, message: Int) throws(NetlinkBatchError) {
    guard range.count >= 3, range.count <= 130, bytes[range.lowerBound] == NetlinkConstant.userDataElementComment,
      Int(bytes[range.lowerBound + 1]) == range.count - 2, bytes[range.upperBound - 1] == 0
    else { throw error("message \(message) gives an element user data that is not one printable comment") }
    let text = bytes[(range.lowerBound + 2)..<(range.upperBound - 1)]
    // Printable ASCII other than `"` and `\` is always fine; anything else is read as UTF-8 and its scalars checked.
    if text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) { return }
    guard let text = String(validating: text, as: UTF8.self),
      !text.unicodeScalars.contains(where: { $0 == "\"" || $0 == "\\" || TerminalText.isUnsafe($0) })
    else { throw error("message \(message) gives an element user data that is not one printable comment") }
  }

  /// Reads and validates `bytes`.
  public init(validating bytes: [UInt8]) throws(NetlinkBatchError) {
    try self.init(reading: bytes, checkingAttributes: true)
  }

  /// Reads `bytes` as `init(validating:)` does; without `checkingAttributes`, the attributes of each message are
  /// not held to `NetlinkMessageGrammar` nor element comments checked (for a batch that passed those checks before
  /// and is known by its digest to be the same bytes). Its framing, flags, table and sets are checked either way.
  init(reading bytes: [UInt8], checkingAttributes: Bool) throws(NetlinkBatchError) {
    var offset = 0
    var index = 0
    var previousSequence: UInt32?
    var ended = false
    var tables: Set<String> = []
    var sets = NetlinkSetDirectory()
    var elementMessages: [(set: Int, attributes: [Attribute], message: Int)] = []
    while offset < bytes.count {
      guard !ended else { throw Self.error("bytes follow the batch end at offset \(offset)") }
      guard bytes.count - offset >= 20 else { throw Self.error("message \(index) is truncated at offset \(offset)") }
      let length = Int(Self.u32(bytes, offset))
      guard length >= 20, length <= bytes.count - offset, length % 4 == 0 || offset + length == bytes.count else {
        throw Self.error("message \(index) at offset \(offset) has an impossible length \(length)")
      }
      let type = Self.u16(bytes, offset + 4)
      let flags = Self.u16(bytes, offset + 6)
      let sequence = Self.u32(bytes, offset + 8)
      if let previousSequence, sequence <= previousSequence {
        throw Self.error("message \(index) repeats or reorders sequence number \(sequence)")
      }
      previousSequence = sequence
      let family = bytes[offset + 16]
      let subsystem = UInt16(bytes[offset + 18]) << 8 | UInt16(bytes[offset + 19])
      if index == 0 {
        guard type == UInt16(NFNL_MSG_BATCH_BEGIN), subsystem == UInt16(NFNL_SUBSYS_NFTABLES) else {
          throw Self.error("the batch does not start with an nf_tables batch begin")
        }
      } else if type == UInt16(NFNL_MSG_BATCH_END) {
        guard subsystem == UInt16(NFNL_SUBSYS_NFTABLES) else { throw Self.error("the batch end is not nf_tables'") }
        ended = true
      } else {
        guard type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES), NetlinkMessageGrammar.messages[type & 0xFF] != nil else {
          throw Self.error("message \(index) has type \(type), which conduit never sends")
        }
        guard family == UInt8(NFPROTO_INET) else {
          throw Self.error("message \(index) is for address family \(family), not inet")
        }
        guard flags & UInt16(NLM_F_REQUEST) != 0, flags & NetlinkConstant.flagAck != 0 else {
          throw Self.error("message \(index) does not ask for an acknowledgement")
        }
        let written =
          UInt16(NLM_F_REQUEST) | NetlinkConstant.flagAck | NetlinkConstant.flagCreate
          | NetlinkConstant.flagAppend
        guard flags & ~written == 0 else {
          throw Self.error("message \(index) has flags \(flags), beyond the request, create and append conduit sends")
        }
        let attributes = try Self.attributes(bytes, (offset + 20)..<(offset + length), message: index)
        if checkingAttributes {
          try NetlinkMessageGrammar.check(bytes, attributes, messageType: type & 0xFF, message: index)
        }
        guard let tableAttribute = attributes.first(where: { $0.type == 1 }),
          let tableName = Self.string(bytes, tableAttribute.range)
        else { throw Self.error("message \(index) names no table") }
        tables.insert(tableName)
        acknowledgedSequences.append(sequence)
        switch type & 0xFF {
        case NetlinkConstant.messageNewChain:
          if let comment = try Self.chainComment(bytes, attributes, message: index) {
            guard identity == nil, let parsed = NftablesIdentity(comment: comment) else {
              throw Self.error("message \(index) gives a chain a comment that is not conduit's identity")
            }
            identity = parsed
          }
        case NetlinkConstant.messageDeleteTable:
          sets.deleteTable()
          elementMessages = []
        case NetlinkConstant.messageNewSet:
          try sets.add(bytes, attributes, message: index)
          if try Self.isKeyedByInterface(bytes, attributes, message: index) {
            sets.addInterfaceField(sets.entries.count - 1, at: 0)
          }
        case NetlinkConstant.messageNewSetElement:
          elementMessages.append((try Self.elementSet(bytes, attributes, sets, message: index), attributes, index))
          for list in attributes where list.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) {
            try Self.forEachAttribute(bytes, list.range, message: index) { (element) throws(NetlinkBatchError) in
              elementCount += 1
              guard checkingAttributes else { return }
              try Self.forEachAttribute(bytes, element.range, message: index) { (field) throws(NetlinkBatchError) in
                if field.type == UInt16(NFTA_SET_ELEM_USERDATA.rawValue) {
                  try Self.checkElementComment(bytes, field.range, message: index)
                }
              }
            }
          }
        case NetlinkConstant.messageNewRule:
          if let list = attributes.first(where: { $0.type == UInt16(NFTA_RULE_EXPRESSIONS.rawValue) }) {
            try NetlinkRegisterFlow.follow(
              bytes, expressions: try Self.attributes(bytes, list.range, message: index), sets: &sets, message: index)
          }
        default: break
        }
      }
      offset += (length + 3) & ~3
      index += 1
    }
    guard ended else { throw Self.error("the batch has no end") }
    guard !acknowledgedSequences.isEmpty else { throw Self.error("the batch holds no message") }
    guard tables.count == 1, let table = tables.first else {
      throw Self.error("the batch names \(tables.count) tables (\(tables.sorted().joined(separator: ", ")))")
    }
    self.table = table
    var interfaceNames: Set<String> = []
    for (set, attributes, message) in elementMessages where !sets.entries[set].interfaceFields.isEmpty {
      try Self.collectInterfaces(bytes, attributes, of: sets.entries[set], into: &interfaceNames, message: message)
    }
    interfaces = interfaceNames.sorted()
  }

  private static func error(_ description: String) -> NetlinkBatchError { NetlinkBatchError(description: description) }

  struct Attribute {
    var type: UInt16
    var range: Range<Int>
  }

  /// The attributes in `range`, which they must fill exactly.
  static func attributes(_ bytes: [UInt8], _ range: Range<Int>, message: Int) throws(NetlinkBatchError)
    -> [Attribute]
  {
    var result: [Attribute] = []
    try forEachAttribute(bytes, range, message: message) { result.append($0) }
    return result
  }

  /// Calls `body` with each attribute in `range` in order, once they are known to fill it exactly (`attributes`
  /// without the array).
  @inline(__always)
  static func forEachAttribute(
    _ bytes: [UInt8], _ range: Range<Int>, message: Int, _ body: (Attribute) throws(NetlinkBatchError) -> Void
  ) throws(NetlinkBatchError) {
    var offset = range.lowerBound
    while offset < range.upperBound {
      guard range.upperBound - offset >= 4 else { throw error("message \(message) has a truncated attribute") }
      let length = Int(u16(bytes, offset))
      guard length >= 4, length <= range.upperBound - offset else {
        throw error("message \(message) has an attribute of impossible length \(length)")
      }
      offset = min(range.upperBound, offset + ((length + 3) & ~3))
    }
    offset = range.lowerBound
    while offset < range.upperBound {
      let length = Int(u16(bytes, offset))
      try body(Attribute(type: u16(bytes, offset + 2) & 0x3FFF, range: (offset + 4)..<(offset + length)))
      offset = min(range.upperBound, offset + ((length + 3) & ~3))
    }
  }

  /// Whether the set created by a NEWSET message declares a key that starts with an interface name.
  private static func isKeyedByInterface(_ bytes: [UInt8], _ attributes: [Attribute], message: Int)
    throws(NetlinkBatchError) -> Bool
  {
    guard let keyType = attributes.first(where: { $0.type == UInt16(NFTA_SET_KEY_TYPE.rawValue) }) else { return false }
    guard keyType.range.count == 4 else { throw error("message \(message) has a malformed set key type") }
    var type = UInt32(bytes[keyType.range.lowerBound]) << 24 | UInt32(bytes[keyType.range.lowerBound + 1]) << 16
    type |= UInt32(bytes[keyType.range.lowerBound + 2]) << 8 | UInt32(bytes[keyType.range.lowerBound + 3])
    var first = type
    while first >= 64 { first >>= 6 }
    return first == NftDataType.interfaceName.rawValue
  }

  /// The set a NEWSETELEM message adds to, named or identified by its set ID as the kernel finds it.
  private static func elementSet(
    _ bytes: [UInt8], _ attributes: [Attribute], _ sets: NetlinkSetDirectory, message: Int
  ) throws(NetlinkBatchError) -> Int {
    guard let setAttribute = attributes.first(where: { $0.type == UInt16(NFTA_SET_ELEM_LIST_SET.rawValue) }),
      let name = string(bytes, setAttribute.range)
    else { throw error("message \(message) adds elements without naming their set") }
    let id = u32Attribute(bytes, attributes, type: UInt16(NFTA_SET_ELEM_LIST_SET_ID.rawValue))
    guard let set = sets.resolve(name: name, id: id) else {
      throw error("message \(message) adds elements to a set the batch has not created")
    }
    return set
  }

  /// Adds the interface names in the interface fields of every key of a NEWSETELEM message. In an interval set,
  /// an element's first and last key must hold the same name there: a range of names would match interfaces the
  /// batch does not name.
  private static func collectInterfaces(
    _ bytes: [UInt8], _ attributes: [Attribute], of set: NetlinkSetDirectory.Entry, into names: inout Set<String>,
    message: Int
  ) throws(NetlinkBatchError) {
    for list in attributes where list.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) {
      for element in try Self.attributes(bytes, list.range, message: message) {
        var keys: [Range<Int>] = []
        for key in try Self.attributes(bytes, element.range, message: message)
        where key.type == UInt16(NFTA_SET_ELEM_KEY.rawValue) || key.type == UInt16(NFTA_SET_ELEM_KEY_END.rawValue) {
          for value in try Self.attributes(bytes, key.range, message: message)
          where value.type == UInt16(NFTA_DATA_VALUE.rawValue) {
            guard value.range.count == set.keyLength else {
              throw error("message \(message) has a key of \(value.range.count) bytes for a key of \(set.keyLength)")
            }
            keys.append(value.range)
          }
        }
        for offset in set.interfaceFields {
          guard offset + 16 <= set.keyLength else {
            throw error("message \(message) adds to a set whose key is too short for an interface name")
          }
          let fields = keys.map { ($0.lowerBound + offset)..<($0.lowerBound + offset + 16) }
          guard let first = fields.first else { throw error("message \(message) has an element without a key") }
          guard fields.allSatisfy({ bytes[$0] == bytes[first] }) else {
            throw error("message \(message) has an element that is a range of interface names")
          }
          names.insert(try interfaceName(bytes, first, message: message))
        }
      }
    }
  }

  /// The NUL-padded interface name at the start of a key.
  private static func interfaceName(_ bytes: [UInt8], _ range: Range<Int>, message: Int) throws(NetlinkBatchError)
    -> String
  {
    guard range.count >= 16 else { throw error("message \(message) has an interface key shorter than 16 bytes") }
    let field = bytes[range.lowerBound..<(range.lowerBound + 16)]
    let end = field.firstIndex(of: 0) ?? field.endIndex
    let name = field[field.startIndex..<end]
    guard !name.isEmpty, name.count <= 15, field[end...].allSatisfy({ $0 == 0 }),
      name.allSatisfy({ $0 > 0x20 && $0 < 0x7F || $0 >= 0x80 }), let text = String(validating: name, as: UTF8.self)
    else { throw error("message \(message) has a malformed interface name in a set key") }
    return text
  }

  /// The big-endian 32-bit value of the attribute of `type`, nil when there is none or it is not 4 bytes.
  static func u32Attribute(_ bytes: [UInt8], _ attributes: [Attribute], type: UInt16) -> UInt32? {
    guard let attribute = attributes.first(where: { $0.type == type }), attribute.range.count == 4 else { return nil }
    return bytes[attribute.range].reduce(0) { $0 << 8 | UInt32($1) }
  }

  /// A NUL-terminated string attribute, nil when it is not one.
  /// A string attribute as libnftnl writes it: the text and exactly one NUL (the kernel compares names with one
  /// terminator, so text followed by more NULs would name something else than it shows); nil otherwise.
  static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
    guard !range.isEmpty, bytes[range].firstIndex(of: 0) == range.upperBound - 1 else { return nil }
    return String(validating: bytes[range.lowerBound..<(range.upperBound - 1)], as: UTF8.self)
  }

  static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }

  static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
  }
}
