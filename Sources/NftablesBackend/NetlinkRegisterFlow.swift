import CNetlink

/// The sets a batch creates, found as the kernel finds them (`nft_set_lookup_global`): by name among the sets of
/// the table, else by the set ID of a set created in the batch. A numbered name (`__set%d`) is numbered by the
/// kernel, so only its ID finds it. Sets are known only once the batch has deleted the table: before that, a name
/// could find a set of the live table that the batch does not show.
struct NetlinkSetDirectory {
  struct Entry {
    var name: String
    /// Bytes of a key.
    var keyLength: Int
    /// Bytes a lookup writes into its destination register: 16 for a verdict map, 0 for a set.
    var dataLength: Int
    var isInterval: Bool
    /// Whether the packet path adds its elements (`NFT_SET_EVAL`): only such a set may be updated by a rule, and
    /// none may be looked up.
    var isDynamic = false
    /// Byte offsets in the key of the fields that hold interface names.
    var interfaceFields: Set<Int> = []
  }

  private(set) var entries: [Entry] = []
  private var byName: [String: Int] = [:]
  private var byID: [UInt32: Int] = [:]
  /// The (prefix, suffix) around `%d` of the numbered names created.
  private var numberedNames: [(prefix: String, suffix: String)] = []
  private var tableDeleted = false

  /// The table is deleted: the sets created before are gone, and from now on the batch creates every set.
  mutating func deleteTable() {
    self = NetlinkSetDirectory()
    tableDeleted = true
  }

  /// Records the set created by a NEWSET message; two sets of one name or one ID are refused, since which one the
  /// kernel then uses depends on more than the batch.
  mutating func add(_ bytes: [UInt8], _ attributes: [NetlinkBatchLayout.Attribute], message: Int)
    throws(NetlinkBatchError)
  {
    guard let nameAttribute = attributes.first(where: { $0.type == UInt16(NFTA_SET_NAME.rawValue) }),
      let name = NetlinkBatchLayout.string(bytes, nameAttribute.range)
    else { throw NetlinkBatchError(description: "message \(message) creates a set without a name") }
    let id = NetlinkBatchLayout.u32Attribute(bytes, attributes, type: UInt16(NFTA_SET_ID.rawValue))
    guard let keyLength = NetlinkBatchLayout.u32Attribute(bytes, attributes, type: UInt16(NFTA_SET_KEY_LEN.rawValue)),
      (1...64).contains(keyLength)
    else { throw NetlinkBatchError(description: "message \(message) creates a set without a valid key length") }
    let flags = NetlinkBatchLayout.u32Attribute(bytes, attributes, type: UInt16(NFTA_SET_FLAGS.rawValue)) ?? 0
    let dataType = NetlinkBatchLayout.u32Attribute(bytes, attributes, type: UInt16(NFTA_SET_DATA_TYPE.rawValue))
    let isMap = flags & NetlinkConstant.setMap != 0
    guard !isMap || dataType == NetlinkConstant.dataVerdict else {
      throw NetlinkBatchError(description: "message \(message) creates a map whose data is not a verdict")
    }
    guard tableDeleted else {
      throw NetlinkBatchError(description: "message \(message) creates a set before the batch deletes the table")
    }
    let index = entries.count
    if let percent = name.firstIndex(of: "%") {
      let suffix = name[name.index(after: percent)...].dropFirst()
      guard name[name.index(after: percent)...].first == "d", !suffix.contains("%"), id != nil else {
        throw NetlinkBatchError(description: "message \(message) creates a set with a malformed numbered name")
      }
      let numbered = (prefix: String(name[..<percent]), suffix: String(suffix))
      guard !byName.keys.contains(where: { Self.name($0, isNumberedBy: numbered) }) else {
        throw NetlinkBatchError(description: "message \(message) creates a set the kernel may number as another's name")
      }
      numberedNames.append(numbered)
    } else {
      guard !couldBeNumbered(name) else {
        throw NetlinkBatchError(description: "message \(message) creates a set named as the kernel numbers others")
      }
      guard byName.updateValue(index, forKey: name) == nil else {
        throw NetlinkBatchError(description: "message \(message) creates a second set named '\(name)'")
      }
    }
    if let id {
      guard byID.updateValue(index, forKey: id) == nil else {
        throw NetlinkBatchError(description: "message \(message) creates a second set with set ID \(id)")
      }
    }
    entries.append(
      Entry(
        name: name, keyLength: Int(keyLength), dataLength: isMap ? 16 : 0,
        isInterval: flags & NetlinkConstant.setInterval != 0, isDynamic: flags & NetlinkConstant.setDynamic != 0))
  }

  /// The set a message names by `name` and, optionally, `id`; nil when the batch creates no such set, or when the
  /// name may be one the kernel gave a numbered set.
  func resolve(name: String, id: UInt32?) -> Int? {
    if let index = byName[name] { return index }
    guard tableDeleted, let id, !couldBeNumbered(name) else { return nil }
    return byID[id]
  }

  private func couldBeNumbered(_ name: String) -> Bool {
    numberedNames.contains { Self.name(name, isNumberedBy: $0) }
  }

  private static func name(_ name: String, isNumberedBy numbered: (prefix: String, suffix: String)) -> Bool {
    guard name.hasPrefix(numbered.prefix), name.hasSuffix(numbered.suffix),
      name.utf8.count > numbered.prefix.utf8.count + numbered.suffix.utf8.count
    else { return false }
    let digits = name.utf8.dropFirst(numbered.prefix.utf8.count).dropLast(numbered.suffix.utf8.count)
    return digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
  }

  mutating func addInterfaceField(_ set: Int, at offset: Int) {
    entries[set].interfaceFields.insert(offset)
  }
}

/// What the expressions of one rule do with the registers, followed from the first expression to the last: every
/// register a rule reads must have been written earlier in that rule (registers keep their values from one rule to
/// the next, so a rule could otherwise read what another one loaded), and an interface name loaded from the packet
/// (`meta iifname`, `meta oifname`) may be read only whole and only by a lookup, so the interfaces a ruleset matches
/// are exactly the names in the interface fields of the keys of the sets it looks them up in. A direct comparison, a
/// mask (a wildcard such as `eth*`) or part of a name would match interfaces no set names.
enum NetlinkRegisterFlow {
  /// The state of one 32-bit register.
  private enum Register: Equatable {
    case unwritten
    case value
    /// Word `part` (0-3) of the interface name loaded by the rule's `load`-th interface load.
    case interface(load: Int, part: Int)
    /// What is left of an interface name after part of it was overwritten.
    case partOfInterface
  }

  /// The 32-bit registers: 0-3 hold the verdict, 4-19 data (NFT_REG32_NUM).
  private static let registerCount = 20

  /// Follows the expressions of a NEWRULE message and records, in `sets`, the key offsets at which each set looked
  /// up is given an interface name.
  static func follow(
    _ bytes: [UInt8], expressions: [NetlinkBatchLayout.Attribute], sets: inout NetlinkSetDirectory, message: Int
  ) throws(NetlinkBatchError) {
    var registers = [Register](repeating: .unwritten, count: registerCount)
    var loads = 0
    for item in expressions {
      let expression = try NetlinkBatchLayout.attributes(bytes, item.range, message: message)
      guard let nameAttribute = expression.first(where: { $0.type == UInt16(NFTA_EXPR_NAME.rawValue) }),
        let name = NetlinkBatchLayout.string(bytes, nameAttribute.range)
      else { throw error(message, "holds an expression without a name") }
      let data =
        try expression.first(where: { $0.type == UInt16(NFTA_EXPR_DATA.rawValue) }).map {
          attribute throws(NetlinkBatchError) in
          try NetlinkBatchLayout.attributes(bytes, attribute.range, message: message)
        } ?? []
      let flow = ExpressionData(bytes: bytes, attributes: data, message: message)
      switch name {
      case "meta":
        let key = try flow.u32(UInt16(NFTA_META_KEY.rawValue))
        let destination = try flow.register(UInt16(NFTA_META_DREG.rawValue))
        switch key {
        case UInt32(NFT_META_IIFNAME.rawValue), UInt32(NFT_META_OIFNAME.rawValue):
          try write(&registers, destination, bytes: 16, message: message)
          for part in 0..<4 { registers[destination + part] = .interface(load: loads, part: part) }
          loads += 1
        case UInt32(NFT_META_NFPROTO.rawValue), UInt32(NFT_META_L4PROTO.rawValue), UInt32(NFT_META_IIF.rawValue):
          try write(&registers, destination, bytes: 4, message: message)
        case UInt32(NFT_META_TIME_NS.rawValue):
          try write(&registers, destination, bytes: 8, message: message)
        default: throw error(message, "loads meta key \(key), which conduit never loads")
        }
      case "ct":
        guard try flow.u32(UInt16(NFTA_CT_KEY.rawValue)) == UInt32(NFT_CT_STATE.rawValue) else {
          throw error(message, "loads a conntrack key conduit never loads")
        }
        try write(&registers, try flow.register(UInt16(NFTA_CT_DREG.rawValue)), bytes: 4, message: message)
      case "payload":
        let length = Int(try flow.u32(UInt16(NFTA_PAYLOAD_LEN.rawValue)))
        try write(&registers, try flow.register(UInt16(NFTA_PAYLOAD_DREG.rawValue)), bytes: length, message: message)
      case "bitwise", "byteorder":
        let isBitwise = name == "bitwise"
        let length = Int(try flow.u32(UInt16(isBitwise ? NFTA_BITWISE_LEN.rawValue : NFTA_BYTEORDER_LEN.rawValue)))
        let source = try flow.register(UInt16(isBitwise ? NFTA_BITWISE_SREG.rawValue : NFTA_BYTEORDER_SREG.rawValue))
        let destination = try flow.register(
          UInt16(isBitwise ? NFTA_BITWISE_DREG.rawValue : NFTA_BYTEORDER_DREG.rawValue))
        try readValue(registers, source, bytes: length, by: name, message: message)
        try write(&registers, destination, bytes: length, message: message)
      case "cmp":
        let length = try flow.dataLength(UInt16(NFTA_CMP_DATA.rawValue))
        try readValue(
          registers, try flow.register(UInt16(NFTA_CMP_SREG.rawValue)), bytes: length, by: name,
          message: message)
      case "lookup":
        guard let setName = flow.string(UInt16(NFTA_LOOKUP_SET.rawValue)),
          let set = sets.resolve(name: setName, id: flow.optionalU32(UInt16(NFTA_LOOKUP_SET_ID.rawValue)))
        else { throw error(message, "looks up a set the batch does not create") }
        // The packet path fills a dynamic set: interface names looked up in one would come from packets, not from
        // the batch's elements. conduit only updates its dynamic sets.
        guard !sets.entries[set].isDynamic else { throw error(message, "looks up a dynamic set") }
        let source = try flow.register(UInt16(NFTA_LOOKUP_SREG.rawValue))
        for offset in try readKey(registers, source, bytes: sets.entries[set].keyLength, message: message) {
          sets.addInterfaceField(set, at: offset)
        }
        if flow.has(UInt16(NFTA_LOOKUP_DREG.rawValue)) {
          let destination = try flow.register(UInt16(NFTA_LOOKUP_DREG.rawValue))
          guard sets.entries[set].dataLength > 0 else { throw error(message, "writes the data of a set that has none") }
          try write(
            &registers, destination, bytes: sets.entries[set].dataLength, verdict: destination == 0, message: message)
        }
      case "dynset":
        guard let setName = flow.string(UInt16(NFTA_DYNSET_SET_NAME.rawValue)),
          let set = sets.resolve(name: setName, id: flow.optionalU32(UInt16(NFTA_DYNSET_SET_ID.rawValue)))
        else { throw error(message, "updates a set the batch does not create") }
        guard sets.entries[set].isDynamic else { throw error(message, "updates a set that is not dynamic") }
        let source = try flow.register(UInt16(NFTA_DYNSET_SREG_KEY.rawValue))
        for offset in try readKey(registers, source, bytes: sets.entries[set].keyLength, message: message) {
          sets.addInterfaceField(set, at: offset)
        }
      case "immediate":
        let destination = try flow.register(UInt16(NFTA_IMMEDIATE_DREG.rawValue))
        let length = destination == 0 ? 16 : try flow.dataLength(UInt16(NFTA_IMMEDIATE_DATA.rawValue))
        try write(&registers, destination, bytes: length, verdict: destination == 0, message: message)
      case "counter", "limit", "log": break
      default: throw error(message, "holds an expression conduit never sends")
      }
    }
  }

  /// The attributes of one expression's data.
  private struct ExpressionData {
    var bytes: [UInt8]
    var attributes: [NetlinkBatchLayout.Attribute]
    var message: Int

    func has(_ type: UInt16) -> Bool { attributes.contains { $0.type == type } }

    func optionalU32(_ type: UInt16) -> UInt32? { NetlinkBatchLayout.u32Attribute(bytes, attributes, type: type) }

    func u32(_ type: UInt16) throws(NetlinkBatchError) -> UInt32 {
      guard let value = optionalU32(type) else { throw error(message, "has an expression without attribute \(type)") }
      return value
    }

    func string(_ type: UInt16) -> String? {
      attributes.first { $0.type == type }.flatMap { NetlinkBatchLayout.string(bytes, $0.range) }
    }

    /// The first 32-bit register of the register attribute `type`: 0 for the verdict, NFT_REG_1…4 at 4, 8, 12,
    /// 16, NFT_REG32_00…15 at 4…19.
    func register(_ type: UInt16) throws(NetlinkBatchError) -> Int {
      let value = try u32(type)
      switch value {
      case 0: return 0
      case 1...4: return Int(value) * 4
      case UInt32(NFT_REG32_00.rawValue)...UInt32(NFT_REG32_15.rawValue):
        return Int(value) - Int(NFT_REG32_00.rawValue) + 4
      default: throw error(message, "names register \(value), which does not exist")
      }
    }

    /// Bytes of the value (`NFTA_DATA_VALUE`) nested in attribute `type`.
    func dataLength(_ type: UInt16) throws(NetlinkBatchError) -> Int {
      guard let attribute = attributes.first(where: { $0.type == type }),
        let value = try NetlinkBatchLayout.attributes(bytes, attribute.range, message: message).first(where: {
          $0.type == UInt16(NFTA_DATA_VALUE.rawValue)
        })
      else { throw error(message, "has an expression without the value of attribute \(type)") }
      return value.range.count
    }
  }

  private static func registers(_ first: Int, bytes: Int, message: Int) throws(NetlinkBatchError) -> Range<Int> {
    let count = (bytes + 3) / 4
    guard bytes > 0, first + count <= registerCount else {
      throw error(message, "uses \(bytes) bytes of registers from register \(first), beyond the last one")
    }
    return first..<(first + count)
  }

  private static func write(
    _ registers: inout [Register], _ first: Int, bytes: Int, verdict: Bool = false, message: Int
  ) throws(NetlinkBatchError) {
    guard (first == 0) == verdict else {
      throw error(message, verdict ? "writes a verdict into a data register" : "writes data into the verdict register")
    }
    let written = try Self.registers(first, bytes: bytes, message: message)
    for index in written {
      if case .interface(let load, _) = registers[index] {
        for other in registers.indices where other < written.lowerBound || other >= written.upperBound {
          if case .interface(load, _) = registers[other] { registers[other] = .partOfInterface }
        }
      }
      registers[index] = .value
    }
  }

  /// A read by a comparison, mask or byte-order conversion: it may read no part of an interface name.
  private static func readValue(
    _ registers: [Register], _ first: Int, bytes: Int, by kind: String, message: Int
  ) throws(NetlinkBatchError) {
    for index in try readable(first, bytes: bytes, message: message) {
      switch registers[index] {
      case .value: continue
      case .unwritten: throw error(message, "reads register \(index), which the rule has not written")
      case .interface, .partOfInterface:
        throw error(message, "matches an interface name by \(kind), not by looking it up in a set")
      }
    }
  }

  /// A lookup's key: interface names in it must be whole. Returns the byte offsets in the key where they start.
  private static func readKey(_ registers: [Register], _ first: Int, bytes: Int, message: Int)
    throws(NetlinkBatchError) -> [Int]
  {
    let read = try readable(first, bytes: bytes, message: message)
    var offsets: [Int] = []
    var index = read.lowerBound
    while index < read.upperBound {
      switch registers[index] {
      case .value: index += 1
      case .unwritten: throw error(message, "reads register \(index), which the rule has not written")
      case .partOfInterface: throw error(message, "looks up part of an interface name")
      case .interface(let load, let part):
        let whole =
          part == 0 && index + 4 <= read.upperBound
          && (1..<4).allSatisfy { registers[index + $0] == .interface(load: load, part: $0) }
        guard whole else { throw error(message, "looks up part of an interface name") }
        offsets.append((index - read.lowerBound) * 4)
        index += 4
      }
    }
    return offsets
  }

  private static func readable(_ first: Int, bytes: Int, message: Int) throws(NetlinkBatchError) -> Range<Int> {
    guard first >= 4 else { throw error(message, "reads the verdict register") }
    return try registers(first, bytes: bytes, message: message)
  }

  private static func error(_ message: Int, _ text: String) -> NetlinkBatchError {
    NetlinkBatchError(description: "message \(message) \(text)")
  }
}
