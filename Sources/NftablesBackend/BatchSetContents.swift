import CNetlink
import FirewallIR
import FlowSpace

/// One element a batch adds to a set, as its key bytes.
public struct BatchSetElement: Sendable, Equatable {
  /// The element's key (for an interval set, its first key).
  public var key: [UInt8]
  /// The last key of an interval element; the key itself for a single one.
  public var keyEnd: [UInt8]
  /// The element's place among all the elements the batch adds, in order (the index its origin has).
  public var index: Int
}

extension NetlinkBatchLayout {
  /// The elements the batch adds to each of the sets `names`, in order, read in one pass over the batch. The batch
  /// must be one the layout validated (an artifact's): its framing is trusted, and a malformed attribute is still
  /// refused.
  public static func elements(ofSets names: Set<String>, in bytes: [UInt8]) throws(NetlinkBatchError)
    -> [String: [BatchSetElement]]
  {
    var result: [String: [BatchSetElement]] = [:]
    var index = 0
    try forEachMessage(bytes) { (type, attributes, message) throws(NetlinkBatchError) in
      guard type == NetlinkConstant.messageNewSetElement else { return }
      let named = attributes.first { $0.type == UInt16(NFTA_SET_ELEM_LIST_SET.rawValue) }.flatMap {
        string(bytes, $0.range)
      }
      for list in attributes where list.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) {
        try forEachAttribute(bytes, list.range, message: message) { (element) throws(NetlinkBatchError) in
          defer { index += 1 }
          guard let named, names.contains(named) else { return }
          var key: [UInt8]?
          var keyEnd: [UInt8]?
          for field in try Self.attributes(bytes, element.range, message: message) {
            let isKey = field.type == UInt16(NFTA_SET_ELEM_KEY.rawValue)
            guard isKey || field.type == UInt16(NFTA_SET_ELEM_KEY_END.rawValue) else { continue }
            for value in try Self.attributes(bytes, field.range, message: message)
            where value.type == UInt16(NFTA_DATA_VALUE.rawValue) {
              if isKey { key = Array(bytes[value.range]) } else { keyEnd = Array(bytes[value.range]) }
            }
          }
          guard let key else { throw NetlinkBatchError(description: "message \(message) has an element without a key") }
          result[named, default: []].append(BatchSetElement(key: key, keyEnd: keyEnd ?? key, index: index))
        }
      }
    }
    return result
  }

  /// The base chains the batch creates, by name, with the netfilter hook each is attached to.
  public static func baseChainHooks(in bytes: [UInt8]) throws(NetlinkBatchError) -> [String: UInt32] {
    var hooks: [String: UInt32] = [:]
    try forEachMessage(bytes) { (type, attributes, message) throws(NetlinkBatchError) in
      guard type == NetlinkConstant.messageNewChain,
        let hook = attributes.first(where: { $0.type == UInt16(NFTA_CHAIN_HOOK.rawValue) }),
        let name = attributes.first(where: { $0.type == UInt16(NFTA_CHAIN_NAME.rawValue) }).flatMap({
          string(bytes, $0.range)
        })
      else { return }
      let nested = try Self.attributes(bytes, hook.range, message: message)
      if let number = u32Attribute(bytes, nested, type: UInt16(NFTA_HOOK_HOOKNUM.rawValue)) { hooks[name] = number }
    }
    return hooks
  }

  /// Calls `body` with the nf_tables message type (the low byte), the attributes and the index of every message
  /// between the batch begin and end.
  private static func forEachMessage(
    _ bytes: [UInt8], _ body: (UInt16, [Attribute], Int) throws(NetlinkBatchError) -> Void
  ) throws(NetlinkBatchError) {
    var offset = 0
    var message = 0
    while bytes.count - offset >= 20 {
      let length = Int(u32(bytes, offset))
      guard length >= 20, length <= bytes.count - offset else {
        throw NetlinkBatchError(description: "message \(message) at offset \(offset) has an impossible length")
      }
      let type = u16(bytes, offset + 4)
      if type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES) {
        try body(type & 0xFF, try attributes(bytes, (offset + 20)..<(offset + length), message: message), message)
      }
      offset += (length + 3) & ~3
      message += 1
    }
  }
}

extension GatewayAdmission {
  /// What the batch of `artifact` admits to the gateway itself: its input base chain, the anti-spoofing sets and the
  /// management sets, read from the batch's bytes (what the kernel will run, not what the header says).
  public init(_ artifact: NftablesArtifact) throws(NetlinkBatchError) {
    let bytes = artifact.batch.bytes
    let hooks = try NetlinkBatchLayout.baseChainHooks(in: bytes)
    let sets = try NetlinkBatchLayout.elements(
      ofSets: Set(
        AddressFamily.allCases.flatMap { family in
          [NftablesProgram.zonesSetName(family)]
            + [MatchKind.tcp, .proto].map { NftablesProgram.managementSetName(family, $0) }
        }), in: bytes)
    var zones: [Zone] = []
    var services: [Service] = []
    for family in AddressFamily.allCases {
      let width = family == .ipv4 ? 4 : 16
      for element in sets[NftablesProgram.zonesSetName(family)] ?? [] {
        guard element.key.count == 16 + width, element.keyEnd.count == 16 + width,
          element.key[0..<16] == element.keyEnd[0..<16]
        else { throw Self.malformed(NftablesProgram.zonesSetName(family)) }
        let name = element.key[0..<16].prefix { $0 != 0 }
        guard let addresses = Self.range(element.key[16...], element.keyEnd[16...]) else {
          throw Self.malformed(NftablesProgram.zonesSetName(family))
        }
        zones.append(Zone(interface: String(decoding: name, as: UTF8.self), family: family, addresses: addresses))
      }
      for kind in [MatchKind.tcp, .proto] {
        let set = NftablesProgram.managementSetName(family, kind)
        let keyLength = width + (kind == .tcp ? 8 : 4)
        for element in sets[set] ?? [] {
          guard element.key.count == keyLength, element.keyEnd.count == keyLength else { throw Self.malformed(set) }
          let ports =
            kind == .tcp
            ? Self.range(element.key[(width + 4)..<(width + 6)], element.keyEnd[(width + 4)..<(width + 6)]) : 0...65535
          guard let ports, let sources = Self.range(element.key[0..<width], element.keyEnd[0..<width]),
            element.key[width] <= element.keyEnd[width]
          else { throw Self.malformed(set) }
          services.append(
            Service(
              family: family, protocols: element.key[width]...element.keyEnd[width], sources: sources,
              ports: UInt16(ports.lowerBound)...UInt16(ports.upperBound), element: element.index))
        }
      }
    }
    self.init(
      filtersInput: hooks.values.contains(UInt32(NF_INET_LOCAL_IN.rawValue)), zones: zones, services: services,
      isolated: artifact.isolated)
  }

  /// The big-endian integers `first` and `last` as a range; nil when out of order.
  private static func range(_ first: ArraySlice<UInt8>, _ last: ArraySlice<UInt8>) -> ClosedRange<UInt128>? {
    let lower = first.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
    let upper = last.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
    return lower <= upper ? lower...upper : nil
  }

  private static func malformed(_ set: String) -> NetlinkBatchError {
    NetlinkBatchError(description: "the batch's set \(set) holds an element conduit does not write")
  }
}
