import CNetlink
import FlowSpace
import Glibc

/// The transaction that turns conduit's live table, when it is the confirmed artifact's, into the table of a new
/// artifact without replacing it (OPERATIONS.md, Incremental apply): the set elements the new artifact lacks are
/// deleted and those it adds are added (deletions first, so overlapping intervals never coexist), chains whose rules
/// change are flushed and refilled, chains it drops are deleted, and the identity chain is deleted and re-added with
/// the new comment. A chain it adds makes a full replace: the kernel lists chains in the order they were created, so
/// an added chain would not list where a full apply puts it. Elements are compared whole (key, key end, verdict and whatever else the
/// artifact writes for them, comments included), so an element that changes in any way is deleted and re-added and
/// an unchanged one keeps its counter.
///
/// It is computed from two validated artifact batches and checked again as it is built (`validated`): every message
/// names conduit's table and is one of the kinds a difference sends.
public struct IncrementalBatch: Sendable {
  /// The batch: begin (pinned to the generation given, when one is), the difference, end.
  public private(set) var bytes: [UInt8] = []
  /// The sequence numbers of the messages the kernel acknowledges.
  public private(set) var acknowledgedSequences: [UInt32] = []
  /// Where its messages and added elements come from, in the new artifact's places.
  public private(set) var origins: BatchOrigins = .empty
  /// The table it changes.
  public let table: String
  /// Elements deleted and added (of named sets; an element that changes counts in both).
  public private(set) var elementsRemoved = 0
  public private(set) var elementsAdded = 0
  /// Chains whose rules are replaced, or that are deleted (the identity chain, always re-added, not counted).
  public private(set) var chainsReplaced = 0

  /// Either the difference, or why the change cannot be one.
  public enum Outcome: Sendable {
    case difference(IncrementalBatch)
    /// A full replace is needed; the text says why (`set flows_v4 is declared differently`).
    case inexpressible(String)
  }

  /// The difference from the table `old` builds to the one `new` builds, both batches of validated artifacts. With
  /// `generation`, the kernel refuses the transaction (ERESTART) unless the ruleset is still at that generation, so
  /// nothing can change the live table between the check that it is `old` and the commit.
  public static func between(_ old: NftablesBatch, _ new: NftablesBatch, generation: UInt32?) -> Outcome {
    // Both batches are read at once, one a core.
    let read = concurrentMap(count: 2) { index in
      Result { () throws(NetlinkBatchError) in try BatchObjects(index == 0 ? old.bytes : new.bytes) }
    }
    let before: BatchObjects
    let after: BatchObjects
    do {
      before = try read[0].get()
      after = try read[1].get()
    } catch {
      return .inexpressible(error.description)
    }
    guard before.table == after.table else {
      return .inexpressible("the table changes name (\(before.table) to \(after.table))")
    }
    guard before.tableDeclaration == after.tableDeclaration else {
      return .inexpressible("the table is declared differently")
    }
    guard before.sets.map(\.name) == after.sets.map(\.name) else {
      let added = Set(after.sets.map(\.name)).subtracting(before.sets.map(\.name)).sorted()
      let removed = Set(before.sets.map(\.name)).subtracting(after.sets.map(\.name)).sorted()
      let what =
        (added.isEmpty ? [] : ["set \(added.joined(separator: ", ")) added"])
        + (removed.isEmpty ? [] : ["set \(removed.joined(separator: ", ")) removed"])
      return .inexpressible(what.isEmpty ? "the sets are declared in another order" : what.joined(separator: ", "))
    }
    for (old, new) in zip(before.sets, after.sets) where old.declaration != new.declaration {
      return .inexpressible("set \(old.name) is declared differently")
    }
    var batch = IncrementalBatch(table: after.table)
    do {
      try batch.build(from: before, to: after, old: old, new: new, generation: generation)
    } catch {
      return .inexpressible(error.description)
    }
    return .difference(batch)
  }

  private init(table: String) { self.table = table }

  // MARK: Building

  private mutating func build(
    from before: BatchObjects, to after: BatchObjects, old: NftablesBatch, new: NftablesBatch, generation: UInt32?
  ) throws(NetlinkBatchError) {
    let identityName = NftablesIdentity.chainName
    let oldChains = Dictionary(
      before.chains.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    let newNames = Set(after.chains.map(\.name))
    var replaced: [ChainEntry] = []
    for chain in after.chains where chain.name != identityName {
      guard let index = oldChains[chain.name] else {
        // The kernel lists chains in the order they were created: an added chain would list after the others,
        // not where a full apply puts it.
        throw Self.error("chain \(chain.name) is added")
      }
      let previous = before.chains[index]
      guard previous.declaration == chain.declaration else {
        throw Self.error("chain \(chain.name) is declared differently")
      }
      if !previous.rules.elementsEqual(chain.rules, by: { before.unitBytes($0) == after.unitBytes($1) }) {
        replaced.append(chain)
      }
    }
    let removed = before.chains.filter { $0.name != identityName && !newNames.contains($0.name) }
    if let base = removed.first(where: \.isBase) { throw Self.error("base chain \(base.name) is removed") }

    let tableOrigin = new.origins.messages[after.tableSequence] ?? BatchOrigins.none
    var writer = DifferenceWriter(table: after.table, generation: generation)
    var elementOrigins: [Int32] = []
    func copy(_ message: Range<Int>, of objects: BatchObjects) {
      let sequence = NetlinkBatchLayout.u32(objects.bytes, message.lowerBound + 8)
      writer.copy(objects.bytes[message], origin: new.origins.messages[sequence] ?? tableOrigin)
      for element in objects.elementOrdinals(inMessage: message) {
        elementOrigins.append(element < new.origins.elements.count ? new.origins.elements[element] : BatchOrigins.none)
      }
    }

    if before.chains.contains(where: { $0.name == identityName }) {
      writer.chainMessage(NetlinkConstant.messageDeleteChain, identityName, origin: tableOrigin)
    }
    for chain in replaced {
      writer.chainMessage(
        NetlinkConstant.messageDeleteRule, chain.name,
        origin: new.origins.messages[NetlinkBatchLayout.u32(after.bytes, chain.message.lowerBound + 8)] ?? tableOrigin)
    }
    for chain in replaced {
      for unit in chain.rules {
        for message in after.units[unit] { copy(message, of: after) }
      }
    }
    chainsReplaced = replaced.count + removed.count

    for (oldSet, newSet) in zip(before.sets, after.sets) {
      let difference = ElementDifference(oldSet, in: before.bytes, newSet, in: after.bytes)
      let origin = new.origins.messages[newSet.sequence] ?? tableOrigin
      let deleted = difference.deleted
      try writer.elementMessages(
        NetlinkConstant.messageDeleteSetElement, set: oldSet.name,
        elements: try deleted.map { (element) throws(NetlinkBatchError) in try Self.keys(of: element, in: before.bytes)
        },
        origin: origin)
      elementsRemoved += deleted.count
      let inserted = difference.inserted
      try writer.elementMessages(
        NetlinkConstant.messageNewSetElement, set: newSet.name, elements: inserted.map { Array(after.bytes[$0.range]) },
        origin: origin)
      for element in inserted {
        elementOrigins.append(
          element.ordinal < new.origins.elements.count ? new.origins.elements[element.ordinal] : BatchOrigins.none)
      }
      elementsAdded += inserted.count
    }

    for chain in removed { writer.chainMessage(NetlinkConstant.messageDeleteRule, chain.name, origin: tableOrigin) }
    for chain in removed { writer.chainMessage(NetlinkConstant.messageDeleteChain, chain.name, origin: tableOrigin) }
    if let identity = after.chains.first(where: { $0.name == identityName }) { copy(identity.message, of: after) }

    bytes = writer.finished()
    acknowledgedSequences = writer.acknowledged
    origins = BatchOrigins(
      files: new.origins.files, places: new.origins.places, messages: writer.origins, elements: elementOrigins)
    try Self.validate(bytes, table: table, acknowledged: acknowledgedSequences)
  }

  /// An element nest holding only the key and key end of `element` (what a deletion names).
  private static func keys(of element: ElementEntry, in bytes: [UInt8]) throws(NetlinkBatchError) -> [UInt8] {
    var nest: [UInt8] = [0, 0, 0, 0]
    for field in try NetlinkBatchLayout.attributes(
      bytes, (element.range.lowerBound + 4)..<element.range.upperBound, message: 0)
    where field.type == UInt16(NFTA_SET_ELEM_KEY.rawValue) || field.type == UInt16(NFTA_SET_ELEM_KEY_END.rawValue) {
      let start = field.range.lowerBound - 4
      nest += bytes[start..<field.range.upperBound]
      nest += repeatElement(0, count: (4 - (field.range.upperBound - start) % 4) % 4)
    }
    guard nest.count > 4 else { throw error("an element to delete has no key") }
    DifferenceWriter.setHeader(&nest, at: 0, length: nest.count, type: 1 | DifferenceWriter.nestedFlag)
    return nest
  }

  /// Checks a difference batch: one begin, then messages of the kinds a difference sends, each for `inet` and the
  /// table, asking for an acknowledgement, in increasing sequence, then one end.
  static func validate(_ bytes: [UInt8], table: String, acknowledged: [UInt32]) throws(NetlinkBatchError) {
    let kinds: Set<UInt16> = [
      NetlinkConstant.messageNewChain, NetlinkConstant.messageDeleteChain, NetlinkConstant.messageNewRule,
      NetlinkConstant.messageDeleteRule, NetlinkConstant.messageNewSet, NetlinkConstant.messageNewSetElement,
      NetlinkConstant.messageDeleteSetElement,
    ]
    var offset = 0
    var index = 0
    var previous: UInt32 = 0
    var asked: [UInt32] = []
    var ended = false
    while offset < bytes.count {
      guard !ended, bytes.count - offset >= 20 else { throw error("difference message \(index) is misplaced") }
      let length = Int(NetlinkBatchLayout.u32(bytes, offset))
      guard length >= 20, length <= bytes.count - offset else { throw error("difference message \(index) is cut") }
      let type = NetlinkBatchLayout.u16(bytes, offset + 4)
      let flags = NetlinkBatchLayout.u16(bytes, offset + 6)
      let sequence = NetlinkBatchLayout.u32(bytes, offset + 8)
      guard index == 0 || sequence > previous else { throw error("difference message \(index) reorders its sequence") }
      previous = sequence
      if index == 0 {
        guard type == UInt16(NFNL_MSG_BATCH_BEGIN) else { throw error("the difference does not begin a batch") }
      } else if type == UInt16(NFNL_MSG_BATCH_END) {
        ended = true
      } else {
        guard type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES), kinds.contains(type & 0xFF),
          bytes[offset + 16] == UInt8(NFPROTO_INET), flags & UInt16(NLM_F_REQUEST) != 0,
          flags & NetlinkConstant.flagAck != 0
        else { throw error("difference message \(index) is not one a difference sends") }
        let attributes = try NetlinkBatchLayout.attributes(bytes, (offset + 20)..<(offset + length), message: index)
        guard let name = attributes.first(where: { $0.type == 1 }),
          NetlinkBatchLayout.string(bytes, name.range) == table
        else { throw error("difference message \(index) does not name table \(table)") }
        if type & 0xFF == NetlinkConstant.messageNewSet {
          let flags = NetlinkBatchLayout.u32Attribute(bytes, attributes, type: UInt16(NFTA_SET_FLAGS.rawValue)) ?? 0
          guard flags & NetlinkConstant.setAnonymous != 0 else {
            throw error("difference message \(index) creates a named set")
          }
        }
        asked.append(sequence)
      }
      offset += (length + 3) & ~3
      index += 1
    }
    guard ended, asked == acknowledged else { throw error("the difference batch is not framed as built") }
  }

  private static func error(_ text: String) -> NetlinkBatchError { NetlinkBatchError(description: text) }
}

extension KernelSession {
  /// Sends an incremental apply's batch as one transaction, after checking it again; throws as `send` does (with
  /// errno ERESTART when the ruleset is no longer at the generation the batch was pinned to).
  public func send(_ difference: IncrementalBatch) throws(KernelSessionError) {
    do {
      try IncrementalBatch.validate(
        difference.bytes, table: difference.table, acknowledged: difference.acknowledgedSequences)
    } catch {
      throw .malformed(error.description)
    }
    try transmit(difference.bytes, acknowledged: difference.acknowledgedSequences, origins: difference.origins)
  }
}

extension NetlinkConstant {
  static let messageDeleteChain = UInt16(NFT_MSG_DELCHAIN.rawValue)
  static let messageDeleteRule = UInt16(NFT_MSG_DELRULE.rawValue)
  static let messageDeleteSetElement = UInt16(NFT_MSG_DELSETELEM.rawValue)
}

// MARK: - What an artifact batch declares

/// The elements of a named set that one batch holds and the other lacks, compared whole, byte for byte. Each
/// element's bytes were hashed once where they lie in the batch (`SetEntry.elementHashes`); the old set's distinct
/// elements go into one open-addressing table of their indices, which every element of the new set is looked up in,
/// so nothing is copied or allocated per element.
struct ElementDifference {
  /// The old set's elements the new set lacks, in batch order.
  private(set) var deleted: [ElementEntry] = []
  /// The new set's elements the old set lacks, in batch order.
  private(set) var inserted: [ElementEntry] = []

  init(_ old: SetEntry, in oldBytes: [UInt8], _ new: SetEntry, in newBytes: [UInt8]) {
    var capacity = 16
    while capacity < 2 * old.elements.count { capacity <<= 1 }
    let mask = capacity - 1
    var slots = [Int32](repeating: -1, count: capacity)
    // The first of the old elements with the same bytes: an element is in the new set when its first one is.
    var first = [Int32](repeating: 0, count: old.elements.count)
    var found = [Bool](repeating: false, count: old.elements.count)
    oldBytes.withUnsafeBytes { oldRaw in
      newBytes.withUnsafeBytes { newRaw in
        func same(_ index: Int, _ range: Range<Int>, in raw: UnsafeRawBufferPointer) -> Bool {
          let held = old.elements[index].range
          return held.count == range.count
            && memcmp(oldRaw.baseAddress! + held.lowerBound, raw.baseAddress! + range.lowerBound, range.count) == 0
        }
        for (index, element) in old.elements.enumerated() {
          let hash = old.elementHashes[index]
          var slot = hash & mask
          while true {
            let held = Int(slots[slot])
            if held < 0 {
              slots[slot] = Int32(index)
              first[index] = Int32(index)
              break
            }
            if old.elementHashes[held] == hash, same(held, element.range, in: oldRaw) {
              first[index] = Int32(held)
              break
            }
            slot = (slot + 1) & mask
          }
        }
        for (index, element) in new.elements.enumerated() {
          let hash = new.elementHashes[index]
          var slot = hash & mask
          var isOld = false
          while slots[slot] >= 0 {
            let held = Int(slots[slot])
            if old.elementHashes[held] == hash, same(held, element.range, in: newRaw) {
              found[held] = true
              isOld = true
              break
            }
            slot = (slot + 1) & mask
          }
          if !isOld { inserted.append(element) }
        }
      }
    }
    for (index, element) in old.elements.enumerated() where !found[Int(first[index])] { deleted.append(element) }
  }

  /// The hash of each element's bytes, for `ElementDifference`.
  static func hashes(of elements: [ElementEntry], in bytes: [UInt8]) -> [Int] {
    bytes.withUnsafeBytes { raw in
      elements.map { element in
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw[element.range]))
        return hasher.finalize()
      }
    }
  }
}

/// One element of a named set: its attribute (header included, unpadded) and its ordinal among all elements of the
/// batch's element messages (the index of its origin).
struct ElementEntry {
  var range: Range<Int>
  var ordinal: Int
}

/// A named set: its declaration without its batch-local id, and its elements with the hash of each one's bytes.
struct SetEntry {
  var name: String
  var declaration: [UInt8]
  var sequence: UInt32
  var elements: [ElementEntry] = []
  var elementHashes: [Int] = []
}

/// A chain: its NEWCHAIN message, its declaration (the message without its header) and its rules, as indices into
/// `BatchObjects.units`.
struct ChainEntry {
  var name: String
  var message: Range<Int>
  var declaration: ArraySlice<UInt8>
  var isBase: Bool
  var rules: [Int] = []
}

/// The objects of an artifact batch after its table is deleted: the table's declaration, named sets with their
/// elements, chains with their rules, each rule with the anonymous sets (and their elements) written before it.
struct BatchObjects {
  let bytes: [UInt8]
  var table = ""
  var tableDeclaration: ArraySlice<UInt8> = []
  var tableSequence: UInt32 = 0
  var sets: [SetEntry] = []
  var chains: [ChainEntry] = []
  /// Each rule's messages: its anonymous sets and their elements, then the rule.
  var units: [[Range<Int>]] = []
  /// For element messages, the ordinal of their first element.
  private var firstOrdinal: [Int: Int] = [:]

  init(_ bytes: [UInt8]) throws(NetlinkBatchError) {
    self.bytes = bytes
    var setIndex: [String: Int] = [:]
    var chainIndex: [String: Int] = [:]
    var pending: [Range<Int>] = []
    var anonymous: Set<String> = []
    var ordinal = 0
    var offset = 0
    var deleted = false
    while bytes.count - offset >= 20 {
      let length = Int(NetlinkBatchLayout.u32(bytes, offset))
      guard length >= 20, length <= bytes.count - offset else {
        throw NetlinkBatchError(description: "the artifact's batch has an impossible length at offset \(offset)")
      }
      let message = offset..<(offset + length)
      offset += (length + 3) & ~3
      let type = NetlinkBatchLayout.u16(bytes, message.lowerBound + 4)
      guard type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES) else { continue }
      let attributes = try NetlinkBatchLayout.attributes(
        bytes, (message.lowerBound + 20)..<message.upperBound, message: 0)
      func text(_ attribute: UInt16) -> String? {
        attributes.first { $0.type == attribute }.flatMap { NetlinkBatchLayout.string(bytes, $0.range) }
      }
      var elements: [NetlinkBatchLayout.Attribute] = []
      if type & 0xFF == NetlinkConstant.messageNewSetElement {
        for list in attributes where list.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) {
          elements += try NetlinkBatchLayout.attributes(bytes, list.range, message: 0)
        }
        firstOrdinal[message.lowerBound] = ordinal
      }
      defer { ordinal += elements.count }
      switch type & 0xFF {
      case NetlinkConstant.messageNewTable:
        table = text(UInt16(NFTA_TABLE_NAME.rawValue)) ?? ""
        tableDeclaration = bytes[(message.lowerBound + 16)..<message.upperBound]
        tableSequence = NetlinkBatchLayout.u32(bytes, message.lowerBound + 8)
      case NetlinkConstant.messageDeleteTable:
        deleted = true
      case _ where !deleted:
        throw NetlinkBatchError(description: "the artifact's batch declares objects before it deletes its table")
      case NetlinkConstant.messageNewChain:
        guard let name = text(UInt16(NFTA_CHAIN_NAME.rawValue)), chainIndex[name] == nil else {
          throw NetlinkBatchError(description: "the artifact's batch declares a chain twice or without a name")
        }
        chainIndex[name] = chains.count
        chains.append(
          ChainEntry(
            name: name, message: message, declaration: bytes[(message.lowerBound + 16)..<message.upperBound],
            isBase: attributes.contains { $0.type == UInt16(NFTA_CHAIN_HOOK.rawValue) }))
      case NetlinkConstant.messageNewSet:
        let flags = NetlinkBatchLayout.u32Attribute(bytes, attributes, type: UInt16(NFTA_SET_FLAGS.rawValue)) ?? 0
        guard let name = text(UInt16(NFTA_SET_NAME.rawValue)) else {
          throw NetlinkBatchError(description: "the artifact's batch declares a set without a name")
        }
        if flags & NetlinkConstant.setAnonymous != 0 {
          anonymous.insert(name)
          pending.append(message)
        } else {
          guard setIndex[name] == nil else {
            throw NetlinkBatchError(description: "the artifact's batch declares set \(name) twice")
          }
          var declaration: [UInt8] = []
          for attribute in attributes where attribute.type != UInt16(NFTA_SET_ID.rawValue) {
            declaration += bytes[(attribute.range.lowerBound - 4)..<attribute.range.upperBound]
          }
          setIndex[name] = sets.count
          sets.append(
            SetEntry(
              name: name, declaration: declaration, sequence: NetlinkBatchLayout.u32(bytes, message.lowerBound + 8)))
        }
      case NetlinkConstant.messageNewSetElement:
        let name = text(UInt16(NFTA_SET_ELEM_LIST_SET.rawValue)) ?? ""
        if let set = setIndex[name], pending.isEmpty {
          for (offset, element) in elements.enumerated() {
            let start = element.range.lowerBound - 4
            sets[set].elements.append(
              ElementEntry(
                range: start..<(start + Int(NetlinkBatchLayout.u16(bytes, start))), ordinal: ordinal + offset))
          }
        } else if anonymous.contains(name), !pending.isEmpty {
          pending.append(message)
        } else {
          throw NetlinkBatchError(description: "the artifact's batch adds elements to a set it has not declared")
        }
      case NetlinkConstant.messageNewRule:
        guard let chain = text(UInt16(NFTA_RULE_CHAIN.rawValue)).flatMap({ chainIndex[$0] }) else {
          throw NetlinkBatchError(description: "the artifact's batch adds a rule to a chain it has not declared")
        }
        units.append(pending + [message])
        pending = []
        chains[chain].rules.append(units.count - 1)
      default:
        throw NetlinkBatchError(description: "the artifact's batch holds a message of type \(type & 0xFF)")
      }
    }
    guard deleted, !table.isEmpty, pending.isEmpty else {
      throw NetlinkBatchError(description: "the artifact's batch is not one table replaced")
    }
    for index in sets.indices {
      sets[index].elementHashes = ElementDifference.hashes(of: sets[index].elements, in: bytes)
    }
  }

  /// The messages of rule `unit` without their headers (sequence numbers differ between batches).
  func unitBytes(_ unit: Int) -> [ArraySlice<UInt8>] {
    units[unit].map { bytes[($0.lowerBound + 16)..<$0.upperBound] }
  }

  /// The ordinals of the elements of the element message `message` (none for other messages).
  func elementOrdinals(inMessage message: Range<Int>) -> Range<Int> {
    guard let first = firstOrdinal[message.lowerBound] else { return 0..<0 }
    let count = BatchOrigins.elementRanges(bytes, message: message).count
    return first..<(first + count)
  }
}

// MARK: - Writing the difference

/// Writes a difference batch: begin (with the generation it is pinned to), messages numbered in order, each asking
/// for an acknowledgement, end; remembers each message's origin.
struct DifferenceWriter {
  static let nestedFlag: UInt16 = 0x8000
  /// The room for elements in one element message: the element list's length is 16 bits.
  static let elementListCapacity = 60_000

  private(set) var bytes: [UInt8] = []
  private(set) var acknowledged: [UInt32] = []
  private(set) var origins: [UInt32: Int32] = [:]
  private var sequence: UInt32 = 1
  let table: String

  init(table: String, generation: UInt32?) {
    self.table = table
    var begin = RawBatchWriter.control(UInt16(NFNL_MSG_BATCH_BEGIN), sequence: sequence)
    if let generation {
      // NFNL_BATCH_GENID: the kernel refuses the batch unless the ruleset is at this generation.
      begin += [8, 0, 1, 0] + withUnsafeBytes(of: generation.bigEndian) { Array($0) }
      Self.setU32(&begin, at: 0, UInt32(begin.count))
    }
    bytes = begin
  }

  /// Appends a message of the new artifact's batch, renumbered, with its own flags.
  mutating func copy(_ message: ArraySlice<UInt8>, origin: Int32) {
    var message = Array(message)
    message += repeatElement(0, count: (4 - message.count % 4) % 4)
    append(&message, origin: origin)
  }

  /// A DELCHAIN (delete the chain) or DELRULE (flush the chain) message naming `chain`.
  mutating func chainMessage(_ type: UInt16, _ chain: String, origin: Int32) {
    var message = Self.header(type, flags: 0)
    let isChain = type == NetlinkConstant.messageDeleteChain
    Self.appendString(
      &message, type: isChain ? UInt16(NFTA_CHAIN_TABLE.rawValue) : UInt16(NFTA_RULE_TABLE.rawValue), table)
    Self.appendString(
      &message, type: isChain ? UInt16(NFTA_CHAIN_NAME.rawValue) : UInt16(NFTA_RULE_CHAIN.rawValue), chain)
    append(&message, origin: origin)
  }

  /// Element messages of `type` for the set `set`, holding the element nests `elements` (padded whole attributes),
  /// as many a message as fit.
  mutating func elementMessages(_ type: UInt16, set: String, elements: [[UInt8]], origin: Int32)
    throws(NetlinkBatchError)
  {
    var start = 0
    while start < elements.count {
      var message = Self.header(type, flags: type == NetlinkConstant.messageNewSetElement ? UInt16(NLM_F_CREATE) : 0)
      Self.appendString(&message, type: UInt16(NFTA_SET_ELEM_LIST_TABLE.rawValue), table)
      Self.appendString(&message, type: UInt16(NFTA_SET_ELEM_LIST_SET.rawValue), set)
      let list = message.count
      message += [0, 0, 0, 0]
      var end = start
      while end < elements.count, message.count - list + elements[end].count <= Self.elementListCapacity {
        message += elements[end]
        message += repeatElement(0, count: (4 - elements[end].count % 4) % 4)
        end += 1
      }
      guard end > start else { throw NetlinkBatchError(description: "a set element is too large for a message") }
      Self.setHeader(
        &message, at: list, length: message.count - list,
        type: UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) | Self.nestedFlag)
      append(&message, origin: origin)
      start = end
    }
  }

  mutating func finished() -> [UInt8] {
    sequence += 1
    return bytes + RawBatchWriter.control(UInt16(NFNL_MSG_BATCH_END), sequence: sequence)
  }

  private mutating func append(_ message: inout [UInt8], origin: Int32) {
    sequence += 1
    Self.setU32(&message, at: 0, UInt32(message.count))
    Self.setU32(&message, at: 8, sequence)
    let flags = NetlinkBatchLayout.u16(message, 6) | UInt16(NLM_F_REQUEST) | NetlinkConstant.flagAck
    message[6] = UInt8(flags & 0xFF)
    message[7] = UInt8(flags >> 8)
    bytes += message
    acknowledged.append(sequence)
    origins[sequence] = origin
  }

  /// An nf_tables message header for `inet` (length and sequence are set when it is appended).
  private static func header(_ type: UInt16, flags: UInt16) -> [UInt8] {
    var message = [UInt8](repeating: 0, count: 20)
    message[4] = UInt8(type & 0xFF)
    message[5] = UInt8(NFNL_SUBSYS_NFTABLES)
    message[6] = UInt8(flags & 0xFF)
    message[7] = UInt8(flags >> 8)
    message[16] = UInt8(NFPROTO_INET)
    return message
  }

  private static func appendString(_ message: inout [UInt8], type: UInt16, _ text: String) {
    let value = Array(text.utf8) + [0]
    let start = message.count
    message += [0, 0, 0, 0] + value
    setHeader(&message, at: start, length: value.count + 4, type: type)
    message += repeatElement(0, count: (4 - value.count % 4) % 4)
  }

  static func setHeader(_ bytes: inout [UInt8], at offset: Int, length: Int, type: UInt16) {
    bytes[offset] = UInt8(length & 0xFF)
    bytes[offset + 1] = UInt8(length >> 8)
    bytes[offset + 2] = UInt8(type & 0xFF)
    bytes[offset + 3] = UInt8(type >> 8)
  }

  private static func setU32(_ bytes: inout [UInt8], at offset: Int, _ value: UInt32) {
    withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
  }
}
