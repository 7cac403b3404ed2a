import CNetlink
import FirewallIR
import FlowSpace
import PolicyLanguage

/// One of conduit's tables reduced to what drift and `apply --dry-run` compare (OPERATIONS.md): its chains with
/// their rules in order, its named sets with their declarations and their elements as a set, and the identity
/// chain's comment. Handles, use counts, positions, transaction ids, counter values, element order, timeouts and
/// the elements of dynamic sets (`NFT_SET_EVAL`, filled from the packet path) and what nft keeps in a set's user
/// data for its own listing (byte order, `typeof`) are left out, and so are the defaults the kernel lists for what a
/// batch leaves unsaid (log level warn, a boolean bitwise, lookup flags 0, a dynset's timeout and flags 0, a verdict map's data length); an anonymous set is
/// compared as part of the rule that looks it up. Built from a `LiveTable` (the kernel's dump) or from a batch (an
/// artifact's), so the two compare object by object.
public struct ComparableTable: Sendable, Equatable {
  /// The table's name (`inet NAME`).
  public private(set) var name: String
  /// The table's own attributes (its flags, without the socket-ownership ones), canonically encoded.
  var declaration: [UInt8] = []
  /// The chains, in the order they were created.
  public private(set) var chains: [Chain] = []
  /// The named sets, in the order they were created.
  public private(set) var sets: [NamedSet] = []

  /// A chain: its declaration (hook, priority, type, policy), its comment and its rules in order.
  public struct Chain: Sendable, Equatable {
    public var name: String
    /// Whether the chain is attached to a hook.
    public var isBase: Bool
    /// The chain's comment (the identity chain's only).
    public var comment: String?
    /// The prefix of the first `log` statement of the chain's rules, if any.
    public var logPrefix: String?
    var declaration: [UInt8]
    var rules: [[UInt8]] = []

    /// The number of rules.
    public var ruleCount: Int { rules.count }
  }

  /// A named set or map: its declaration and its elements, each canonically encoded.
  public struct NamedSet: Sendable, Equatable {
    public var name: String
    /// Whether the packet path adds the elements (`NFT_SET_EVAL`): they are not compared.
    public var isDynamic: Bool
    var declaration: [UInt8]
    var key: ElementKey
    var elements: Set<[UInt8]> = []

    /// The number of elements (a dynamic set's are not kept).
    public var elementCount: Int { elements.count }
  }

  /// Why messages cannot be compared.
  public struct Error: Swift.Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
  }

  /// The table a live dump holds.
  public init(live table: LiveTable) throws(Error) {
    try self.init(name: table.name, messages: table.messages)
  }

  /// The table a batch creates (an artifact's: begin, the table created, deleted and created again, its objects,
  /// end); what comes before the batch's last table deletion is what it replaces.
  public init(batch bytes: [UInt8]) throws(Error) {
    var messages: [[UInt8]] = []
    var offset = 0
    var name: String?
    while offset + 20 <= bytes.count {
      let length = Int(NetlinkBatchLayout.u32(bytes, offset))
      guard length >= 20, offset + length <= bytes.count else {
        throw Error(description: "the batch holds a truncated message at offset \(offset)")
      }
      let message = Array(bytes[offset..<(offset + length)])
      offset += (length + 3) & ~3
      let type = NetlinkBatchLayout.u16(message, 4)
      guard type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES) else { continue }
      if type & 0xFF == NetlinkConstant.messageDeleteTable {
        messages = []
        continue
      }
      if type & 0xFF == NetlinkConstant.messageNewTable {
        name = KernelSession.string(UInt16(NFTA_TABLE_NAME.rawValue), of: message)
        messages = []
      }
      messages.append(message)
    }
    guard let name else { throw Error(description: "the batch creates no table") }
    try self.init(name: name, messages: messages)
  }

  private init(name: String, messages: [[UInt8]]) throws(Error) {
    self.name = name
    var setsByName: [String: Int] = [:]
    var setsByID: [UInt32: Int] = [:]
    var anonymous: [AnonymousSet] = []
    var chainIndex: [String: Int] = [:]
    var pendingRules: [(chain: String, message: [UInt8])] = []
    for (index, message) in messages.enumerated() {
      let attributes: [NetlinkBatchLayout.Attribute]
      do { attributes = try NetlinkBatchLayout.attributes(message, 20..<message.count, message: index) } catch {
        throw Error(description: error.description)
      }
      switch LiveTable.type(of: message) {
      case NetlinkConstant.messageNewTable:
        declaration = Canonical.encode(
          message, attributes, drop: [NFTA_TABLE_NAME, NFTA_TABLE_HANDLE, NFTA_TABLE_USE, NFTA_TABLE_OWNER],
          adjust: { type, value in
            guard type == UInt16(NFTA_TABLE_FLAGS.rawValue), value.count == 4 else { return value }
            var flags = value
            flags[3] &= ~UInt8(truncatingIfNeeded: NetlinkConstant.tableFlagsOfTheSocket)
            return flags == [0, 0, 0, 0] ? nil : flags
          })
      case NetlinkConstant.messageNewChain:
        guard let chainName = Self.string(message, attributes, NFTA_CHAIN_NAME) else {
          throw Error(description: "message \(index + 1) creates a chain without a name")
        }
        let comment = try? NetlinkBatchLayout.chainComment(message, attributes, message: index)
        let isBase = attributes.contains { $0.type == UInt16(NFTA_CHAIN_HOOK.rawValue) }
        let chainDeclaration = Canonical.encode(
          message, attributes,
          drop: [
            NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, NFTA_CHAIN_HANDLE, NFTA_CHAIN_USE, NFTA_CHAIN_ID, NFTA_CHAIN_COUNTERS,
            NFTA_CHAIN_USERDATA,
          ],
          nested: [UInt16(NFTA_CHAIN_HOOK.rawValue): .attributes([:])],
          adjust: { type, value in
            guard type == UInt16(NFTA_CHAIN_FLAGS.rawValue), value.count == 4 else { return value }
            var flags = value
            flags[3] &= ~UInt8(NFT_CHAIN_BASE.rawValue)
            return flags == [0, 0, 0, 0] ? nil : flags
          })
        chainIndex[chainName] = chains.count
        chains.append(
          Chain(
            name: chainName, isBase: isBase, comment: comment, logPrefix: nil, declaration: chainDeclaration))
      case NetlinkConstant.messageNewSet:
        guard let setName = Self.string(message, attributes, NFTA_SET_NAME) else {
          throw Error(description: "message \(index + 1) creates a set without a name")
        }
        let flags = NetlinkBatchLayout.u32Attribute(message, attributes, type: UInt16(NFTA_SET_FLAGS.rawValue)) ?? 0
        let verdictMap =
          NetlinkBatchLayout.u32Attribute(message, attributes, type: UInt16(NFTA_SET_DATA_TYPE.rawValue))
          == NFT_DATA_VERDICT.rawValue
        let setDeclaration = Canonical.encode(
          message, attributes.filter { !verdictMap || $0.type != UInt16(NFTA_SET_DATA_LEN.rawValue) },
          drop: [NFTA_SET_TABLE, NFTA_SET_NAME, NFTA_SET_HANDLE, NFTA_SET_ID, NFTA_SET_USERDATA]
            + [NetlinkConstant.setBackendTypeAttribute, NetlinkConstant.setElementCountAttribute].map {
              nft_set_attributes(UInt32($0))
            },
          nested: [
            UInt16(NFTA_SET_DESC.rawValue): .attributes([UInt16(NFTA_SET_DESC_CONCAT.rawValue): .list(.attributes([:]))]
            ),
            UInt16(NFTA_SET_EXPR.rawValue): .expression, UInt16(NFTA_SET_EXPRESSIONS.rawValue): .list(.expression),
          ])
        let key = ElementKey(message, attributes)
        let id = NetlinkBatchLayout.u32Attribute(message, attributes, type: UInt16(NFTA_SET_ID.rawValue))
        if flags & NetlinkConstant.setAnonymous != 0 || setName.hasPrefix("__set") {
          let entry = anonymous.count
          anonymous.append(AnonymousSet(declaration: setDeclaration, elements: []))
          if !setName.contains("%") { setsByName["\u{0}" + setName] = entry }
          if let id { setsByID[id] = entry }
        } else {
          setsByName[setName] = sets.count
          sets.append(
            NamedSet(
              name: setName, isDynamic: flags & UInt32(NFT_SET_EVAL.rawValue) != 0, declaration: setDeclaration,
              key: key))
        }
      case NetlinkConstant.messageNewSetElement:
        guard let setName = Self.string(message, attributes, NFTA_SET_ELEM_LIST_SET) else {
          throw Error(description: "message \(index + 1) adds elements without naming their set")
        }
        let id = NetlinkBatchLayout.u32Attribute(message, attributes, type: UInt16(NFTA_SET_ELEM_LIST_SET_ID.rawValue))
        var elements: [[UInt8]] = []
        for list in attributes where list.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) {
          guard let items = try? NetlinkBatchLayout.attributes(message, list.range, message: index) else {
            throw Error(description: "message \(index + 1) has malformed elements")
          }
          for item in items { elements.append(Canonical.element(message, item.range)) }
        }
        if let set = setsByName[setName] {
          if !sets[set].isDynamic { sets[set].elements.formUnion(elements) }
        } else if let entry = setsByName["\u{0}" + setName] ?? id.flatMap({ setsByID[$0] }),
          setName.hasPrefix("__set")
        {
          anonymous[entry].elements += elements
        } else {
          throw Error(
            description: "message \(index + 1) adds elements to set '\(TerminalText.escaped(setName))', "
              + "which the table does not hold")
        }
      case NetlinkConstant.messageNewRule:
        guard let chain = Self.string(message, attributes, NFTA_RULE_CHAIN) else {
          throw Error(description: "message \(index + 1) adds a rule without naming its chain")
        }
        pendingRules.append((chain, message))
      default:
        throw Error(description: "message \(index + 1) is of a kind a table dump never holds")
      }
    }
    let anonymousContents = anonymous.map { $0.contents }
    for (chain, message) in pendingRules {
      guard let position = chainIndex[chain] else {
        throw Error(description: "a rule names chain '\(TerminalText.escaped(chain))', which the table does not hold")
      }
      let attributes = (try? NetlinkBatchLayout.attributes(message, 20..<message.count, message: 0)) ?? []
      var logPrefix: String?
      let rule = Canonical.rule(
        message, attributes,
        anonymousSet: { name, id in
          guard name.hasPrefix("__set") else { return nil }
          guard let entry = setsByName["\u{0}" + name] ?? id.flatMap({ setsByID[$0] }) else { return [] }
          return anonymousContents[entry]
        }, logPrefix: &logPrefix)
      chains[position].rules.append(rule)
      if chains[position].logPrefix == nil { chains[position].logPrefix = logPrefix }
    }
  }

  private struct AnonymousSet {
    var declaration: [UInt8]
    var elements: [[UInt8]]

    var contents: [UInt8] {
      declaration + elements.sorted { $0.lexicographicallyPrecedes($1) }.flatMap { Canonical.field(0, $0) }
    }
  }

  private static func string<T: RawRepresentable>(
    _ message: [UInt8], _ attributes: [NetlinkBatchLayout.Attribute], _ type: T
  ) -> String? where T.RawValue: BinaryInteger {
    attributes.first { $0.type == UInt16(type.rawValue) }.flatMap { NetlinkBatchLayout.string(message, $0.range) }
  }

  /// The names of the maps that send forwarded flows to conduit chains: what an artifact's flow table describes.
  public static let flowMapNames: Set<String> = Set(
    AddressFamily.allCases.flatMap { family in
      NftablesProgram.mapKinds(family).flatMap { kind in
        [NftablesProgram.flowMapName(family, kind), NftablesProgram.exactFlowMapName(family, kind)]
      }
    })

  /// The conduit chains in the order they were created (the order of a flow table's chain indices): the chains
  /// that have a logging chain (`NAME_log`) beside them, each with the conduit's name its logging chain's prefix
  /// carries (`conduit NAME `; the chain's name when there is none).
  public var conduitChains: [(chain: String, conduit: String)] {
    let byName = Dictionary(chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    return chains.compactMap { chain in
      guard !chain.isBase, let log = byName[chain.name + "_log"] else { return nil }
      var conduit = chain.name
      if let prefix = log.logPrefix, prefix.hasPrefix("conduit "), prefix.count > "conduit ".count {
        conduit = String(prefix.dropFirst("conduit ".count))
        while conduit.last == " " { conduit.removeLast() }
      }
      return (chain.name, conduit)
    }
  }

  /// The identity the identity chain's comment carries, if any.
  public var identity: NftablesIdentity? {
    chains.first { $0.name == NftablesIdentity.chainName }?.comment.flatMap(NftablesIdentity.init(comment:))
  }

  /// The number of rules of every chain together.
  public var ruleCount: Int { chains.reduce(0) { $0 + $1.rules.count } }

  /// The number of elements of every named set together.
  public var elementCount: Int { sets.reduce(0) { $0 + $1.elements.count } }

  /// What differs from `self` to `other`, object by object: "added" is what `other` holds and `self` does not.
  /// Linear in the number of elements (each set's elements are compared as hash sets).
  public func differences(to other: ComparableTable) -> [TableDifference] {
    var result: [TableDifference] = []
    if declaration != other.declaration { result.append(TableDifference(.table(other.name), .declarationDiffers)) }
    let old = Dictionary(chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let new = Set(other.chains.map(\.name))
    for chain in other.chains {
      guard let before = old[chain.name] else {
        result.append(TableDifference(.chain(chain.name), .added(count: chain.rules.count)))
        continue
      }
      if before.declaration != chain.declaration {
        result.append(TableDifference(.chain(chain.name), .declarationDiffers))
      }
      if before.comment != chain.comment {
        result.append(TableDifference(.chain(chain.name), .commentDiffers(from: before.comment, to: chain.comment)))
      }
      result += Self.ruleDifferences(before.rules, chain.rules).map { TableDifference(.chain(chain.name), $0) }
    }
    for chain in chains where !new.contains(chain.name) {
      result.append(TableDifference(.chain(chain.name), .removed(count: chain.rules.count)))
    }
    let oldSets = Dictionary(sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let newSets = Set(other.sets.map(\.name))
    for set in other.sets {
      guard let before = oldSets[set.name] else {
        result.append(TableDifference(.set(set.name), .added(count: set.elements.count)))
        continue
      }
      if before.declaration != set.declaration {
        result.append(TableDifference(.set(set.name), .declarationDiffers))
      }
      let added = set.elements.subtracting(before.elements).sorted { $0.lexicographicallyPrecedes($1) }
      let removed = before.elements.subtracting(set.elements).sorted { $0.lexicographicallyPrecedes($1) }
      result += added.map { TableDifference(.set(set.name), .elementAdded(set.key.describe($0))) }
      result += removed.map { TableDifference(.set(set.name), .elementRemoved(before.key.describe($0))) }
    }
    for set in sets where !newSets.contains(set.name) {
      result.append(TableDifference(.set(set.name), .removed(count: set.elements.count)))
    }
    return result
  }

  /// Rules compared in order: a common beginning and end, then the rules between them pairwise (differs), with
  /// what one side has beyond the other added or removed. Positions count from 1 (in `new`, for removed rules in
  /// `old`).
  private static func ruleDifferences(_ old: [[UInt8]], _ new: [[UInt8]]) -> [TableDifference.Change] {
    var prefix = 0
    while prefix < old.count, prefix < new.count, old[prefix] == new[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < old.count - prefix, suffix < new.count - prefix,
      old[old.count - 1 - suffix] == new[new.count - 1 - suffix]
    {
      suffix += 1
    }
    let oldMiddle = old.count - prefix - suffix
    let newMiddle = new.count - prefix - suffix
    var changes: [TableDifference.Change] = []
    for offset in 0..<max(oldMiddle, newMiddle) {
      if offset < oldMiddle, offset < newMiddle {
        changes.append(.ruleDiffers(position: prefix + offset + 1))
      } else if offset < newMiddle {
        changes.append(.ruleAdded(position: prefix + offset + 1))
      } else {
        changes.append(.ruleRemoved(position: prefix + offset + 1))
      }
    }
    return changes
  }
}

/// One difference between two `ComparableTable`s, naming the object: `set zones_v4: element "eth1" . 10.0.0.0/24
/// added`, `chain forward: rule 3 differs`. Names from the kernel are shown escaped (`TerminalText`).
public struct TableDifference: Sendable, Hashable, CustomStringConvertible {
  /// The object that differs.
  public enum Object: Sendable, Hashable {
    case table(String)
    case chain(String)
    case set(String)
  }

  /// How it differs.
  public enum Change: Sendable, Hashable {
    /// The object exists only on the side compared to, with this many rules (a chain) or elements (a set).
    case added(count: Int)
    /// The object exists only on the side compared from.
    case removed(count: Int)
    /// Its declaration (flags, hook, priority, policy, key and data types…) differs.
    case declarationDiffers
    /// The chain's comment differs (the identity chain's).
    case commentDiffers(from: String?, to: String?)
    case ruleAdded(position: Int)
    case ruleRemoved(position: Int)
    case ruleDiffers(position: Int)
    /// An element (described as nft lists it) only the side compared to holds.
    case elementAdded(String)
    /// An element only the side compared from holds.
    case elementRemoved(String)
  }

  public var object: Object
  public var change: Change

  /// A difference of `object`.
  public init(_ object: Object, _ change: Change) {
    self.object = object
    self.change = change
  }

  /// The set's name when the difference is one of a set's elements.
  public var elementSet: String? {
    guard case .set(let name) = object else { return nil }
    switch change {
    case .elementAdded, .elementRemoved: return name
    default: return nil
    }
  }

  public var description: String {
    let name: String
    let noun: String
    switch object {
    case .table(let table): (noun, name) = ("table inet", table)
    case .chain(let chain): (noun, name) = ("chain", chain)
    case .set(let set): (noun, name) = ("set", set)
    }
    let subject = "\(noun) \(TerminalText.escaped(name))"
    func counted(_ count: Int) -> String {
      if case .chain = object { return "\(count) rule\(count == 1 ? "" : "s")" }
      return "\(count) element\(count == 1 ? "" : "s")"
    }
    switch change {
    case .added(let count): return "\(subject) added (\(counted(count)))"
    case .removed(let count): return "\(subject) removed (\(counted(count)))"
    case .declarationDiffers: return "\(subject): declaration differs"
    case .commentDiffers(let from, let to):
      func quoted(_ text: String?) -> String { text.map { "\"\(TerminalText.escaped($0))\"" } ?? "none" }
      return "\(subject): comment \(quoted(from)) becomes \(quoted(to))"
    case .ruleAdded(let position): return "\(subject): rule \(position) added"
    case .ruleRemoved(let position): return "\(subject): rule \(position) removed"
    case .ruleDiffers(let position): return "\(subject): rule \(position) differs"
    case .elementAdded(let element): return "\(subject): element \(element) added"
    case .elementRemoved(let element): return "\(subject): element \(element) removed"
    }
  }
}

extension ComparableTable {
  /// What an element's key holds, field by field, to describe elements as nft lists them.
  struct ElementKey: Sendable, Equatable {
    var types: [UInt32] = []
    var length = 0

    init(_ message: [UInt8], _ attributes: [NetlinkBatchLayout.Attribute]) {
      length = Int(NetlinkBatchLayout.u32Attribute(message, attributes, type: UInt16(NFTA_SET_KEY_LEN.rawValue)) ?? 0)
      var type = NetlinkBatchLayout.u32Attribute(message, attributes, type: UInt16(NFTA_SET_KEY_TYPE.rawValue)) ?? 0
      var reversed: [UInt32] = []
      while type != 0 {
        reversed.append(type & 0x3F)
        type >>= 6
      }
      types = reversed.reversed()
    }

    /// `"eth1" . 10.0.0.0/24 : jump c_x`: the key (a range per field where the element has a key end), the data
    /// (a verdict), the comment; hex where the key does not fit its declared types.
    func describe(_ element: [UInt8]) -> String {
      let fields = Canonical.fields(element)
      let key = fields.first { $0.type == UInt16(NFTA_SET_ELEM_KEY.rawValue) }.flatMap { Canonical.dataValue($0.value) }
      let end = fields.first { $0.type == UInt16(NFTA_SET_ELEM_KEY_END.rawValue) }.flatMap {
        Canonical.dataValue($0.value)
      }
      var text = key.map { describeKey($0, end: end) } ?? "(no key)"
      let flags = fields.first { $0.type == UInt16(NFTA_SET_ELEM_FLAGS.rawValue) }?.value ?? []
      if flags.count == 4, flags[3] & UInt8(NFT_SET_ELEM_INTERVAL_END.rawValue) != 0 { text += " (interval end)" }
      if let data = fields.first(where: { $0.type == UInt16(NFTA_SET_ELEM_DATA.rawValue) }) {
        text += " : " + Canonical.describeData(data.value)
      }
      if let userData = fields.first(where: { $0.type == UInt16(NFTA_SET_ELEM_USERDATA.rawValue) })?.value,
        userData.count >= 3, userData[0] == 0, Int(userData[1]) == userData.count - 2
      {
        let comment = String(decoding: userData[2...].prefix { $0 != 0 }, as: UTF8.self)
        text += " comment \"\(TerminalText.escaped(comment))\""
      }
      return text
    }

    private func describeKey(_ key: [UInt8], end: [UInt8]?) -> String {
      let known = types.compactMap { NftDataType(rawValue: $0) }
      let concatenated = known.count > 1
      let widths = known.map { concatenated ? ($0.length + 3) & ~3 : $0.length }
      guard known.count == types.count, !known.isEmpty, widths.reduce(0, +) == key.count,
        end.map({ $0.count == key.count }) ?? true
      else {
        return Self.hex(key) + (end.map { $0 == key ? "" : "-" + Self.hex($0) } ?? "")
      }
      var offset = 0
      var parts: [String] = []
      for (type, width) in zip(known, widths) {
        let low = Array(key[offset..<(offset + type.length)])
        let high = end.map { Array($0[offset..<(offset + type.length)]) } ?? low
        parts.append(Self.describe(type, low, high))
        offset += width
      }
      return parts.joined(separator: " . ")
    }

    private static func describe(_ type: NftDataType, _ low: [UInt8], _ high: [UInt8]) -> String {
      func number(_ bytes: [UInt8], bigEndian: Bool) -> UInt64 {
        (bigEndian ? bytes : bytes.reversed()).reduce(0) { $0 << 8 | UInt64($1) }
      }
      switch type {
      case .interfaceName:
        func name(_ bytes: [UInt8]) -> String {
          "\"" + TerminalText.escaped(String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)) + "\""
        }
        return low == high ? name(low) : name(low) + "-" + name(high)
      case .ipv4Address, .ipv6Address:
        func address(_ bytes: [UInt8]) -> IPAddress {
          bytes.count == 4
            ? .v4(IPv4Address(UInt32(number(bytes, bigEndian: true))))
            : .v6(IPv6Address(bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }))
        }
        let first = address(low)
        let last = address(high)
        if low == high { return first.description }
        let bits = low.count * 8
        let lowValue = low.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        let span = lowValue ^ high.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        if span & (span &+ 1) == 0, lowValue & span == 0,
          let prefix = IPPrefix(address: first, length: bits - (UInt128.bitWidth - span.leadingZeroBitCount))
        {
          return prefix.description
        }
        return "\(first)-\(last)"
      case .inetProtocol:
        func name(_ value: UInt64) -> String {
          switch value {
          case 1: "icmp"
          case 6: "tcp"
          case 17: "udp"
          case 58: "ipv6-icmp"
          default: String(value)
          }
        }
        let first = number(low, bigEndian: true)
        let last = number(high, bigEndian: true)
        return first == last ? name(first) : "\(first)-\(last)"
      case .inetService, .icmpType, .icmpv6Type:
        let first = number(low, bigEndian: true)
        let last = number(high, bigEndian: true)
        return first == last ? String(first) : "\(first)-\(last)"
      case .verdict, .integer, .string:
        return low == high ? hex(low) : hex(low) + "-" + hex(high)
      }
    }

    static func hex(_ bytes: [UInt8]) -> String {
      "0x" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
  }
}

/// Attributes in one canonical form: each as its type (2 bytes), length (4 bytes) and value, big-endian, those of
/// one nested attribute sorted by type (a list keeps its order), the flags of attribute types dropped; so the kernel's
/// dump and the batch that created it encode alike.
enum Canonical {
  /// How a nested attribute is read.
  indirect enum Nested: Sendable {
    /// Attributes in any order; those of the types given are nested as said, the others are leaves.
    case attributes([UInt16: Nested])
    /// Items in order.
    case list(Nested)
    /// One expression: its name and its data, read as the expression's kind holds it.
    case expression
  }

  static func field(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [UInt8(type >> 8), UInt8(type & 0xFF)]
    let length = UInt32(value.count)
    out += [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
    return out + value
  }

  /// The fields of a canonical encoding, one level deep.
  static func fields(_ bytes: [UInt8]) -> [(type: UInt16, value: [UInt8])] {
    var result: [(UInt16, [UInt8])] = []
    var offset = 0
    while offset + 6 <= bytes.count {
      let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
      let length = bytes[(offset + 2)..<(offset + 6)].reduce(0) { $0 << 8 | Int($1) }
      guard offset + 6 + length <= bytes.count else { break }
      result.append((type, Array(bytes[(offset + 6)..<(offset + 6 + length)])))
      offset += 6 + length
    }
    return result
  }

  /// The top-level attributes of a message without those of the types in `drop` and the nested ones that hold
  /// nothing (the kernel lists an empty set description), each leaf passed through `adjust` (nil drops it), sorted
  /// by type.
  static func encode<T: RawRepresentable>(
    _ message: [UInt8], _ attributes: [NetlinkBatchLayout.Attribute], drop: [T],
    nested: [UInt16: Nested] = [:], adjust: (UInt16, [UInt8]) -> [UInt8]? = { $1 }
  ) -> [UInt8] where T.RawValue: BinaryInteger {
    let dropped = Set(drop.map { UInt16($0.rawValue) })
    var parts: [(UInt16, [UInt8])] = []
    for attribute in attributes where !dropped.contains(attribute.type) {
      let value: [UInt8]
      if let shape = nested[attribute.type] {
        value = encode(message, attribute.range, shape)
        if value.isEmpty { continue }
      } else {
        guard let adjusted = adjust(attribute.type, Array(message[attribute.range])) else { continue }
        value = adjusted
      }
      parts.append((attribute.type, value))
    }
    return sorted(parts)
  }

  private static func sorted(_ parts: [(UInt16, [UInt8])]) -> [UInt8] {
    parts.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.flatMap {
      field($0.element.0, $0.element.1)
    }
  }

  /// A nested attribute's value read as `shape` says.
  static func encode(_ message: [UInt8], _ range: Range<Int>, _ shape: Nested) -> [UInt8] {
    guard let inner = try? NetlinkBatchLayout.attributes(message, range, message: 0) else {
      return field(0xFFFF, Array(message[range]))
    }
    switch shape {
    case .attributes(let nested):
      return sorted(
        inner.map { attribute in
          (
            attribute.type,
            nested[attribute.type].map { encode(message, attribute.range, $0) } ?? Array(message[attribute.range])
          )
        })
    case .list(let item):
      return inner.flatMap { field(0, encode(message, $0.range, item)) }
    case .expression:
      var prefix: String?
      return expression(message, inner, anonymousSet: { _, _ in nil }, logPrefix: &prefix)
    }
  }

  /// The data of an expression: a value, or a verdict.
  private static let dataShape = Nested.attributes([UInt16(NFTA_DATA_VERDICT.rawValue): .attributes([:])])

  /// One expression (`NFTA_EXPR_NAME`, `NFTA_EXPR_DATA`): a counter without its values, a lookup of an anonymous set
  /// with that set's contents in place of its name, no transaction ids.
  static func expression(
    _ message: [UInt8], _ attributes: [NetlinkBatchLayout.Attribute],
    anonymousSet: (String, UInt32?) -> [UInt8]?, logPrefix: inout String?
  ) -> [UInt8] {
    let name = attributes.first { $0.type == UInt16(NFTA_EXPR_NAME.rawValue) }.flatMap {
      NetlinkBatchLayout.string(message, $0.range)
    }
    guard let name else { return field(0xFFFF, attributes.flatMap { Array(message[$0.range]) }) }
    var out = field(UInt16(NFTA_EXPR_NAME.rawValue), Array(name.utf8))
    guard name != "counter",
      let data = attributes.first(where: { $0.type == UInt16(NFTA_EXPR_DATA.rawValue) }),
      let inner = try? NetlinkBatchLayout.attributes(message, data.range, message: 0)
    else { return out }
    let values = NetlinkMessageGrammar.expressionValues[name] ?? []
    var parts: [(UInt16, [UInt8])] = []
    for attribute in inner {
      let value = Array(message[attribute.range])
      switch (name, attribute.type) {
      case ("lookup", UInt16(NFTA_LOOKUP_SET_ID.rawValue)), ("dynset", UInt16(NFTA_DYNSET_SET_ID.rawValue)):
        continue
      case ("lookup", UInt16(NFTA_LOOKUP_SET.rawValue)):
        let setName = NetlinkBatchLayout.string(message, attribute.range) ?? ""
        let id = NetlinkBatchLayout.u32Attribute(message, inner, type: UInt16(NFTA_LOOKUP_SET_ID.rawValue))
        if let contents = anonymousSet(setName, id) {
          parts.append((0xFFFE, contents))
        } else {
          parts.append((attribute.type, value))
        }
      case ("lookup", UInt16(NFTA_LOOKUP_FLAGS.rawValue)) where value == [0, 0, 0, 0],
        ("bitwise", UInt16(NFTA_BITWISE_OP.rawValue)) where value == [0, 0, 0, 0],
        ("log", UInt16(NFTA_LOG_LEVEL.rawValue)) where value == [0, 0, 0, UInt8(NFT_LOGLEVEL_WARNING.rawValue)],
        ("dynset", UInt16(NFTA_DYNSET_TIMEOUT.rawValue)) where value.allSatisfy({ $0 == 0 }),
        ("dynset", UInt16(NFTA_DYNSET_FLAGS.rawValue)) where value.allSatisfy({ $0 == 0 }):
        continue
      case ("log", UInt16(NFTA_LOG_PREFIX.rawValue)):
        if logPrefix == nil { logPrefix = NetlinkBatchLayout.string(message, attribute.range) }
        parts.append((attribute.type, value))
      case (_, let type) where values.contains(type):
        parts.append((type, encode(message, attribute.range, dataShape)))
      default:
        parts.append((attribute.type, value))
      }
    }
    out += field(UInt16(NFTA_EXPR_DATA.rawValue), sorted(parts))
    return out
  }

  /// A rule: its expressions in order and its user data (comment); the table, chain, handle, position and ids
  /// dropped.
  static func rule(
    _ message: [UInt8], _ attributes: [NetlinkBatchLayout.Attribute],
    anonymousSet: (String, UInt32?) -> [UInt8]?, logPrefix: inout String?
  ) -> [UInt8] {
    var out: [UInt8] = []
    for attribute in attributes {
      switch attribute.type {
      case UInt16(NFTA_RULE_EXPRESSIONS.rawValue):
        let items = (try? NetlinkBatchLayout.attributes(message, attribute.range, message: 0)) ?? []
        for item in items {
          let inner = (try? NetlinkBatchLayout.attributes(message, item.range, message: 0)) ?? []
          out += field(0, expression(message, inner, anonymousSet: anonymousSet, logPrefix: &logPrefix))
        }
      case UInt16(NFTA_RULE_USERDATA.rawValue), UInt16(NFTA_RULE_COMPAT.rawValue):
        out += field(attribute.type, Array(message[attribute.range]))
      default:
        continue
      }
    }
    return out
  }

  /// One set element: key, key end, data, flags and comment; counters, timeouts and expirations dropped.
  static func element(_ message: [UInt8], _ range: Range<Int>) -> [UInt8] {
    let inner = (try? NetlinkBatchLayout.attributes(message, range, message: 0)) ?? []
    var parts: [(UInt16, [UInt8])] = []
    for attribute in inner {
      switch attribute.type {
      case UInt16(NFTA_SET_ELEM_KEY.rawValue), UInt16(NFTA_SET_ELEM_KEY_END.rawValue),
        UInt16(NFTA_SET_ELEM_DATA.rawValue):
        parts.append((attribute.type, encode(message, attribute.range, dataShape)))
      case UInt16(NFTA_SET_ELEM_TIMEOUT.rawValue), UInt16(NFTA_SET_ELEM_EXPIRATION.rawValue):
        continue
      case UInt16(NFTA_SET_ELEM_EXPR.rawValue):
        let expression = encode(message, attribute.range, .expression)
        if expression != field(UInt16(NFTA_EXPR_NAME.rawValue), Array("counter".utf8)) {
          parts.append((attribute.type, expression))
        }
      case UInt16(NFTA_SET_ELEM_EXPRESSIONS.rawValue):
        let items = (try? NetlinkBatchLayout.attributes(message, attribute.range, message: 0)) ?? []
        let counter = field(UInt16(NFTA_EXPR_NAME.rawValue), Array("counter".utf8))
        let kept = items.map { encode(message, $0.range, .expression) }.filter { $0 != counter }
        if !kept.isEmpty { parts.append((attribute.type, kept.flatMap { field(0, $0) })) }
      case UInt16(NFTA_SET_ELEM_FLAGS.rawValue) where Array(message[attribute.range]) == [0, 0, 0, 0]:
        continue
      default:
        parts.append((attribute.type, Array(message[attribute.range])))
      }
    }
    return sorted(parts)
  }

  /// The value of canonical data (`NFTA_DATA_VALUE`), nil for a verdict.
  static func dataValue(_ data: [UInt8]) -> [UInt8]? {
    fields(data).first { $0.type == UInt16(NFTA_DATA_VALUE.rawValue) }?.value
  }

  /// A verdict as nft writes it (`jump c_x`), or a value in hex.
  static func describeData(_ data: [UInt8]) -> String {
    if let value = dataValue(data) { return ComparableTable.ElementKey.hex(value) }
    guard let verdict = fields(data).first(where: { $0.type == UInt16(NFTA_DATA_VERDICT.rawValue) }) else {
      return "?"
    }
    let parts = fields(verdict.value)
    let code = parts.first { $0.type == UInt16(NFTA_VERDICT_CODE.rawValue) }.map { part in
      Int32(bitPattern: part.value.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }
    let chain = parts.first { $0.type == UInt16(NFTA_VERDICT_CHAIN.rawValue) }.map {
      " " + TerminalText.escaped(String(decoding: $0.value.prefix { $0 != 0 }, as: UTF8.self))
    }
    let name: String
    switch code {
    case 0: name = "drop"
    case 1: name = "accept"
    case -1: name = "continue"
    case -2: name = "break"
    case -3: name = "jump"
    case -4: name = "goto"
    case -5: name = "return"
    case let other: name = "verdict \(other.map(String.init) ?? "?")"
    }
    return name + (chain ?? "")
  }
}
