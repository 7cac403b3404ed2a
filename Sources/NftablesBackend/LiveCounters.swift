import CNetlink
import FlowSpace
import Foundation

/// A packet and byte count the kernel keeps.
public struct PacketCount: Sendable, Equatable, Codable {
  public var packets: UInt64
  public var bytes: UInt64

  /// A count from its parts.
  public init(packets: UInt64, bytes: UInt64) {
    self.packets = packets
    self.bytes = bytes
  }
}

/// What `conduit status` reads of one of conduit's tables besides its identity: the counters of its rules and the
/// elements of its drop-tracking sets (`NftablesProgram.dropSetNames`). Read from the rules and those small dynamic
/// sets only, never from the flow maps, so it costs the same whatever their size.
public struct LiveCounters: Sendable, Equatable {
  /// A conduit chain (`c_NAME`, the one with a logging chain `c_NAME_log` beside it).
  public struct Conduit: Sendable, Equatable {
    /// The chain's name.
    public var chain: String
    /// The conduit's name as the logging chain's prefix carries it (the chain's name when it carries none).
    public var conduit: String
    /// New connections admitted (the `counter accept` rule).
    public var accepted: PacketCount
    /// New connections dropped since the conduit expired (`meta time >= … counter drop`), when it expires.
    public var expiredDrops: PacketCount?
    /// The instant (seconds since 1970, UTC) from which the chain drops, when it expires.
    public var expiresAt: Int64?
  }

  /// The packets a base chain dropped because no rule admitted them (its final `counter … log` rule).
  public struct ChainDrops: Sendable, Equatable {
    public var chain: String
    public var count: PacketCount
  }

  /// Drops of the base chains per (input interface, output interface); the output is empty for the input chain's.
  public struct InterfaceDrops: Sendable, Equatable {
    public var input: String
    public var output: String
    public var count: PacketCount?
  }

  /// One of the last dropped flows.
  public struct DroppedFlow: Sendable, Equatable {
    public var source: IPAddress
    public var destination: IPAddress
    /// The IP protocol number.
    public var transportProtocol: UInt8
    /// The destination port (TCP and UDP only).
    public var port: UInt16?
    public var count: PacketCount?
    /// Milliseconds since its last dropped packet (the set's timeout less what is left of the element's).
    public var millisecondsSinceLastDrop: UInt64?
  }

  public var conduits: [Conduit] = []
  public var chainDrops: [ChainDrops] = []
  /// Per interface pair, most packets first.
  public var interfaceDrops: [InterfaceDrops] = []
  /// The flows still kept, most recent first.
  public var droppedFlows: [DroppedFlow] = []
  /// Whether the table has the drop-tracking sets (an older conduit's table has none).
  public var tracksDrops = false
}

extension KernelSession {
  /// The counters of table `inet NAME` (`LiveCounters`), or nil when there is no such table. Lists its rules and the
  /// elements of its drop-tracking sets; a dump the kernel marks interrupted is taken again.
  public func counters(ofTable name: String) throws(KernelSessionError) -> LiveCounters? {
    guard LiveTable.isConduitTableName(name) else {
      throw .malformed("'\(name)' is not the name of a conduit table")
    }
    for _ in 0..<8 {
      var interrupted = false
      let counters = try readCounters(name, interrupted: &interrupted)
      if !interrupted { return counters }
    }
    throw .system("the ruleset kept changing while table '\(name)' was listed", errno: EAGAIN)
  }

  private func readCounters(_ name: String, interrupted: inout Bool) throws(KernelSessionError) -> LiveCounters? {
    let table: [(UInt16, [UInt8])] = [(1, Array(name.utf8) + [0])]
    let sets = try dump(UInt16(NFT_MSG_GETSET.rawValue), table, interrupted: &interrupted).filter {
      Self.string(1, of: $0) == name
    }
    let rules = try dump(UInt16(NFT_MSG_GETRULE.rawValue), table, interrupted: &interrupted).filter {
      Self.string(1, of: $0) == name
    }
    if sets.isEmpty, rules.isEmpty, try !inetTableNames().contains(name) { return nil }
    var counters = LiveCounters()
    var setTimeouts: [String: UInt64?] = [:]
    for set in sets {
      guard let setName = Self.string(UInt16(NFTA_SET_NAME.rawValue), of: set) else { continue }
      setTimeouts[setName] = .some(
        Self.attribute(UInt16(NFTA_SET_TIMEOUT.rawValue), of: set).map { Self.bigEndian(set[$0]) })
    }
    let dropSets = Set(NftablesProgram.dropSetNames)
    counters.tracksDrops = dropSets.isSubset(of: setTimeouts.keys)
    for setName in NftablesProgram.dropSetNames where setTimeouts.keys.contains(setName) {
      let replies = try dump(
        UInt16(NFT_MSG_GETSETELEM.rawValue), table + [(2, Array(setName.utf8) + [0])], interrupted: &interrupted)
      for reply in replies where Self.string(1, of: reply) == name {
        for element in Self.elements(of: reply) {
          record(element, of: setName, timeout: setTimeouts[setName] ?? nil, into: &counters)
        }
      }
    }
    counters.interfaceDrops.sort {
      ($0.count?.packets ?? 0, $1.input, $1.output) > ($1.count?.packets ?? 0, $0.input, $0.output)
    }
    counters.droppedFlows.sort { ($0.millisecondsSinceLastDrop ?? .max) < ($1.millisecondsSinceLastDrop ?? .max) }
    var byChain: [String: [[Expression]]] = [:]
    var chainOrder: [String] = []
    for rule in rules {
      guard let chain = Self.string(UInt16(NFTA_RULE_CHAIN.rawValue), of: rule) else { continue }
      if byChain[chain] == nil { chainOrder.append(chain) }
      byChain[chain, default: []].append(Self.expressions(of: rule))
    }
    for chain in chainOrder {
      guard let logRules = byChain[chain + "_log"] else { continue }
      let prefix = logRules.lazy.flatMap { $0 }.compactMap(\.logPrefix).first
      var conduit = chain
      if let prefix, prefix.hasPrefix("conduit "), prefix.count > "conduit ".count {
        conduit = String(prefix.dropFirst("conduit ".count))
        while conduit.last == " " { conduit.removeLast() }
      }
      var entry = LiveCounters.Conduit(
        chain: chain, conduit: conduit, accepted: PacketCount(packets: 0, bytes: 0), expiredDrops: nil, expiresAt: nil)
      for rule in byChain[chain] ?? [] {
        let count = rule.compactMap(\.count).first
        let time = rule.compactMap(\.timeAtLeast).first
        if rule.contains(where: { $0.verdict == NetlinkConstant.verdictAccept }), let count {
          entry.accepted = count
        } else if let time {
          entry.expiresAt = time
          if rule.contains(where: { $0.verdict == NetlinkConstant.verdictDrop }), let count {
            entry.expiredDrops = count
          }
        }
      }
      counters.conduits.append(entry)
    }
    for chain in ["forward", "input"] {
      guard let last = byChain[chain]?.last, last.contains(where: { $0.logPrefix != nil }),
        let count = last.compactMap(\.count).first
      else { continue }
      counters.chainDrops.append(LiveCounters.ChainDrops(chain: chain, count: count))
    }
    return counters
  }

  private func record(_ element: Element, of set: String, timeout: UInt64?, into counters: inout LiveCounters) {
    let key = element.key
    let since = timeout.flatMap { timeout in element.expiration.map { timeout > $0 ? timeout - $0 : 0 } }
    if set == NftablesProgram.dropInterfacesSetName {
      guard key.count == 32 else { return }
      counters.interfaceDrops.append(
        LiveCounters.InterfaceDrops(
          input: Self.interfaceName(key[0..<16]), output: Self.interfaceName(key[16..<32]), count: element.count))
      return
    }
    let v4 = set.hasSuffix("_v4")
    let addressLength = v4 ? 4 : 16
    let withPort = !set.hasPrefix("drops_proto_")
    guard key.count == addressLength * 2 + 4 + (withPort ? 4 : 0) else { return }
    func address(_ start: Int) -> IPAddress {
      let bytes = key[start..<(start + addressLength)]
      if v4 { return .v4(IPv4Address(UInt32(truncatingIfNeeded: Self.bigEndian(bytes)))) }
      return .v6(IPv6Address(bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }))
    }
    let protocolOffset = addressLength * 2
    counters.droppedFlows.append(
      LiveCounters.DroppedFlow(
        source: address(0), destination: address(addressLength), transportProtocol: key[protocolOffset],
        port: withPort ? UInt16(key[protocolOffset + 4]) << 8 | UInt16(key[protocolOffset + 5]) : nil,
        count: element.count, millisecondsSinceLastDrop: since))
  }

  /// One expression of a dumped rule, reduced to what the counters need.
  private struct Expression {
    var count: PacketCount?
    var logPrefix: String?
    var verdict: UInt32?
    /// A `meta time >=` comparison's instant, in seconds.
    var timeAtLeast: Int64?
  }

  private struct Element {
    var key: [UInt8]
    var count: PacketCount?
    /// Milliseconds left before the element times out.
    var expiration: UInt64?
  }

  private static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    bytes.reduce(0) { $0 << 8 | UInt64($1) }
  }

  private static func interfaceName(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
  }

  private static func nested(_ bytes: [UInt8], _ range: Range<Int>) -> [NetlinkBatchLayout.Attribute] {
    (try? NetlinkBatchLayout.attributes(bytes, range, message: 0)) ?? []
  }

  private static func value(_ bytes: [UInt8], _ attributes: [NetlinkBatchLayout.Attribute], _ type: UInt16)
    -> ArraySlice<UInt8>?
  {
    attributes.first { $0.type == type }.map { bytes[$0.range] }
  }

  private static func counter(_ bytes: [UInt8], _ data: [NetlinkBatchLayout.Attribute]) -> PacketCount? {
    guard let packets = value(bytes, data, UInt16(NFTA_COUNTER_PACKETS.rawValue)),
      let octets = value(bytes, data, UInt16(NFTA_COUNTER_BYTES.rawValue))
    else { return nil }
    return PacketCount(packets: bigEndian(packets), bytes: bigEndian(octets))
  }

  /// The expression's name and data attributes.
  private static func expression(_ bytes: [UInt8], _ range: Range<Int>) -> (String, [NetlinkBatchLayout.Attribute])? {
    let parts = nested(bytes, range)
    guard let name = parts.first(where: { $0.type == UInt16(NFTA_EXPR_NAME.rawValue) }),
      let text = NetlinkBatchLayout.string(bytes, name.range)
    else { return nil }
    let data = parts.first { $0.type == UInt16(NFTA_EXPR_DATA.rawValue) }.map { nested(bytes, $0.range) } ?? []
    return (text, data)
  }

  private static func expressions(of rule: [UInt8]) -> [Expression] {
    guard let list = attribute(UInt16(NFTA_RULE_EXPRESSIONS.rawValue), of: rule) else { return [] }
    var out: [Expression] = []
    var loadsTime = false
    for item in nested(rule, list) {
      guard let (name, data) = expression(rule, item.range) else { continue }
      var entry = Expression()
      switch name {
      case "counter": entry.count = counter(rule, data)
      case "log":
        entry.logPrefix = data.first { $0.type == UInt16(NFTA_LOG_PREFIX.rawValue) }.flatMap {
          NetlinkBatchLayout.string(rule, $0.range)
        }
      case "meta":
        if let key = value(rule, data, UInt16(NFTA_META_KEY.rawValue)) {
          loadsTime = bigEndian(key) == UInt64(NFT_META_TIME_NS.rawValue)
        }
      case "cmp":
        if loadsTime, let operation = value(rule, data, UInt16(NFTA_CMP_OP.rawValue)),
          bigEndian(operation) == UInt64(NFT_CMP_GTE.rawValue),
          let compared = data.first(where: { $0.type == UInt16(NFTA_CMP_DATA.rawValue) }),
          let nanoseconds = value(rule, nested(rule, compared.range), UInt16(NFTA_DATA_VALUE.rawValue)),
          nanoseconds.count == 8
        {
          entry.timeAtLeast = Int64(clamping: bigEndian(nanoseconds) / 1_000_000_000)
        }
      case "immediate":
        if let immediate = data.first(where: { $0.type == UInt16(NFTA_IMMEDIATE_DATA.rawValue) }),
          let verdict = nested(rule, immediate.range).first(where: { $0.type == UInt16(NFTA_DATA_VERDICT.rawValue) }),
          let code = value(rule, nested(rule, verdict.range), UInt16(NFTA_VERDICT_CODE.rawValue))
        {
          entry.verdict = UInt32(truncatingIfNeeded: bigEndian(code))
        }
      default: break
      }
      out.append(entry)
    }
    return out
  }

  /// The elements of a NEWSETELEM reply: key, counter and what is left of their timeout.
  private static func elements(of reply: [UInt8]) -> [Element] {
    var out: [Element] = []
    for list in nested(reply, 20..<reply.count) where list.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) {
      for item in nested(reply, list.range) {
        let parts = nested(reply, item.range)
        guard let key = parts.first(where: { $0.type == UInt16(NFTA_SET_ELEM_KEY.rawValue) }),
          let keyValue = value(reply, nested(reply, key.range), UInt16(NFTA_DATA_VALUE.rawValue))
        else { continue }
        var element = Element(key: Array(keyValue))
        element.expiration = value(reply, parts, UInt16(NFTA_SET_ELEM_EXPIRATION.rawValue)).map(bigEndian)
        for part in parts {
          if part.type == UInt16(NFTA_SET_ELEM_EXPR.rawValue), let (name, data) = expression(reply, part.range),
            name == "counter"
          {
            element.count = counter(reply, data)
          } else if part.type == UInt16(NFTA_SET_ELEM_EXPRESSIONS.rawValue) {
            for inner in nested(reply, part.range) {
              if let (name, data) = expression(reply, inner.range), name == "counter" {
                element.count = counter(reply, data)
              }
            }
          }
        }
        out.append(element)
      }
    }
    return out
  }
}
