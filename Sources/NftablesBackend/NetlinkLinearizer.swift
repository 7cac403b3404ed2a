import CNftnl
import FirewallIR
import FlowSpace
import PolicyModel

/// The nf_tables batch of a ruleset: the same table as `NftablesTextRenderer` writes, as netlink messages.
public struct NftablesBatch: Sendable {
  /// The batch: begin, the table created, deleted and defined again, end.
  public var bytes: [UInt8]
  /// Messages that ask for an acknowledgement (every message but begin and end).
  public var acknowledgedMessages: Int
  /// Sequence number to the policy place (`file:line:col`) behind the message.
  public var origins: [UInt32: String]

  /// A batch from its parts.
  public init(bytes: [UInt8], acknowledgedMessages: Int, origins: [UInt32: String]) {
    self.bytes = bytes
    self.acknowledgedMessages = acknowledgedMessages
    self.origins = origins
  }
}

/// Linearizes a ruleset into libnftnl objects and a netlink batch, expression by expression as nft does.
public struct NetlinkLinearizer {
  /// Creates a linearizer.
  public init() {}

  /// The batch that replaces conduit's table with the ruleset.
  public func batch(_ ruleset: Ruleset, names: NftablesNames) -> NftablesBatch {
    var program = Program(ruleset: ruleset, names: names)
    program.build()
    var writer = NetlinkBatchWriter(table: names.table)
    writer.begin()
    writer.newTable()
    writer.deleteTable()
    writer.newTable()
    for chain in program.chains { writer.newChain(chain) }
    for set in program.namedSets { writer.newSet(set) }
    for rule in program.rules {
      for set in program.anonymousSets[rule.index] ?? [] { writer.newSet(set) }
      writer.newRule(rule.rule)
    }
    writer.end()
    return NftablesBatch(bytes: writer.bytes, acknowledgedMessages: writer.messageCount, origins: writer.origins)
  }
}

/// The table's sets, chains and rules in the order nft creates them.
private struct Program {
  let ruleset: Ruleset
  let names: NftablesNames
  var namedSets: [NftSet] = []
  var chains: [NftChain] = []
  var rules: [(index: Int, rule: NftRule)] = []
  var anonymousSets: [Int: [NftSet]] = [:]
  var setIDs: [String: UInt32] = [:]
  var nextSetID: UInt32 = 1

  init(ruleset: Ruleset, names: NftablesNames) {
    self.ruleset = ruleset
    self.names = names
  }

  mutating func build() {
    if !ruleset.interfaces.isEmpty {
      for family in AddressFamily.allCases { zonesSet(family) }
    }
    for family in AddressFamily.allCases {
      for kind in MatchKind.kinds(of: family) { flowMap(family, kind) }
    }
    if let management = ruleset.management {
      for family in AddressFamily.allCases {
        for kind in MatchKind.kinds(of: family) { managementSet(management, family, kind) }
      }
    }
    for (index, chain) in ruleset.chains.enumerated() {
      let conduitChain = names.conduitChains[index]
      chains.append(NftChain(name: conduitChain, hook: nil))
      chains.append(NftChain(name: names.logChains[index], hook: nil))
      addRule(NftRule(chain: conduitChain, expressions: [.counter, .verdict(code: NetlinkConstant.verdictAccept, chain: nil)]))
      addRule(
        NftRule(
          chain: names.logChains[index],
          expressions: [
            .log(prefix: "conduit \(chain.conduit) "), .verdict(code: NetlinkConstant.verdictGoto, chain: conduitChain),
          ]))
    }
    forwardChain()
    if ruleset.management != nil { inputChain() }
  }

  // MARK: Sets

  mutating func setID(_ name: String) -> UInt32 {
    if let id = setIDs[name] { return id }
    let id = nextSetID
    nextSetID += 1
    setIDs[name] = id
    return id
  }

  mutating func zonesSet(_ family: AddressFamily) {
    let name = NftablesTextRenderer.zonesSet(family)
    let elements = ruleset.interfaceZones.filter { $0.addresses.family == family }.map { member in
      NftSetElement(
        key: Key.interface(member.interface) + Key.address(member.addresses.first),
        keyEnd: Key.interface(member.interface) + Key.address(member.addresses.last), verdict: nil)
    }
    namedSets.append(
      NftSet(
        name: name, id: setID(name), key: [.interfaceName, Key.addressType(family)],
        flags: NetlinkConstant.setInterval | NetlinkConstant.setConcat, isVerdictMap: false, counter: false,
        elements: elements, origin: nil))
  }

  mutating func flowMap(_ family: AddressFamily, _ kind: MatchKind) {
    guard let name = NftablesTextRenderer.flowMapName(family, kind) else { return }
    let members = ruleset.elements.filter {
      $0.family == family && (kind == $0.kind || NftablesTextRenderer.sharesMap(kind, $0.kind))
    }
    let elements = members.map { element in
      let chain = element.log ? names.logChains[element.chain] : names.conduitChains[element.chain]
      return NftSetElement(
        key: Key.address(element.sources.first) + Key.address(element.destinations.first)
          + Key.selector(element.kind, element.selectors.lowerBound),
        keyEnd: Key.address(element.sources.last) + Key.address(element.destinations.last)
          + Key.selector(element.kind, element.selectors.upperBound),
        verdict: (NetlinkConstant.verdictJump, chain))
    }
    let addressType = Key.addressType(family)
    namedSets.append(
      NftSet(
        name: name, id: setID(name), key: [addressType, addressType] + Key.selectorTypes(kind),
        flags: NetlinkConstant.setInterval | NetlinkConstant.setConcat | NetlinkConstant.setMap, isVerdictMap: true,
        counter: true, elements: elements,
        origin: members.first.map { ruleset.rules[$0.rules[0]].preciseLocation }))
  }

  mutating func managementSet(_ management: [ManagementElement], _ family: AddressFamily, _ kind: MatchKind) {
    guard let name = NftablesTextRenderer.managementSetName(family, kind) else { return }
    let members = management.filter {
      $0.family == family && (kind == $0.kind || NftablesTextRenderer.sharesMap(kind, $0.kind))
    }
    let elements = members.map { element in
      NftSetElement(
        key: Key.address(element.sources.first) + Key.selector(element.kind, element.selectors.lowerBound),
        keyEnd: Key.address(element.sources.last) + Key.selector(element.kind, element.selectors.upperBound),
        verdict: nil)
    }
    namedSets.append(
      NftSet(
        name: name, id: setID(name), key: [Key.addressType(family)] + Key.selectorTypes(kind),
        flags: NetlinkConstant.setInterval | NetlinkConstant.setConcat, isVerdictMap: false, counter: false,
        elements: elements, origin: nil))
  }

  mutating func anonymousSet(_ type: NftDataType, _ values: [UInt8], for ruleIndex: Int) -> (String, UInt32) {
    let id = nextSetID
    nextSetID += 1
    let set = NftSet(
      name: "__set%d", id: id, key: [type], flags: NetlinkConstant.setAnonymous | NetlinkConstant.setConstant,
      isVerdictMap: false, counter: false, elements: values.map { NftSetElement(key: [$0], keyEnd: nil, verdict: nil) },
      origin: nil)
    anonymousSets[ruleIndex, default: []].append(set)
    return ("__set%d", id)
  }

  // MARK: Chains

  mutating func addRule(_ rule: NftRule) {
    rules.append((rules.count, rule))
  }

  mutating func forwardChain() {
    chains.append(
      NftChain(name: "forward", hook: (UInt32(NF_INET_FORWARD.rawValue), 0, NetlinkConstant.verdictDrop)))
    addRule(NftRule(chain: "forward", expressions: Expressions.ctState(0x06) + [.verdict(code: NetlinkConstant.verdictAccept, chain: nil)]))
    addRule(NftRule(chain: "forward", expressions: Expressions.ctState(0x01) + [.counter, .verdict(code: NetlinkConstant.verdictDrop, chain: nil)]))
    if !ruleset.interfaces.isEmpty {
      for family in AddressFamily.allCases {
        for direction in [Expressions.Direction.ingress, .egress] {
          addRule(NftRule(chain: "forward", expressions: antiSpoofing(family, direction)))
        }
      }
    }
    for family in AddressFamily.allCases {
      let suffix = family == .ipv4 ? "v4" : "v6"
      let addresses = Expressions.addressFields(family)
      var transport = Expressions.nfproto(family)
      let protocols = anonymousSet(.inetProtocol, [6, 17], for: rules.count)
      transport += [
        .meta(key: UInt32(NFT_META_L4PROTO.rawValue), register: NetlinkConstant.register(wordOffset: 0)),
        .lookup(register: NetlinkConstant.register(wordOffset: 0), set: protocols.0, setID: protocols.1, destination: nil, inverted: false),
      ]
      transport += Expressions.concatenation(addresses + [.l4proto, .destinationPort])
      transport.append(lookupVerdict("flows_\(suffix)"))
      addRule(NftRule(chain: "forward", expressions: transport))

      let icmp: UInt8 = family == .ipv4 ? 1 : 58
      let icmpName = family == .ipv4 ? "icmp_v4" : "icmpv6_v6"
      addRule(
        NftRule(
          chain: "forward",
          expressions: Expressions.nfproto(family) + Expressions.l4proto(icmp)
            + Expressions.concatenation(addresses + [.icmpType]) + [lookupVerdict(icmpName)]))
      addRule(
        NftRule(
          chain: "forward",
          expressions: Expressions.nfproto(family) + Expressions.concatenation(addresses + [.l4proto])
            + [lookupVerdict("proto_\(suffix)")]))
    }
    addRule(
      NftRule(
        chain: "forward",
        expressions: [.counter, .limit(rate: 10, unit: 1, burst: 5), .log(prefix: "conduit drop ")]))
  }

  mutating func inputChain() {
    chains.append(
      NftChain(name: "input", hook: (UInt32(NF_INET_LOCAL_IN.rawValue), 0, NetlinkConstant.verdictDrop)))
    addRule(
      NftRule(
        chain: "input",
        expressions: [
          .meta(key: UInt32(NFT_META_IIF.rawValue), register: NetlinkConstant.register(wordOffset: 0)),
          .compare(operation: UInt32(NFT_CMP_EQ.rawValue), register: NetlinkConstant.register(wordOffset: 0), data: Key.u32Host(1)),
          .verdict(code: NetlinkConstant.verdictAccept, chain: nil),
        ]))
    addRule(NftRule(chain: "input", expressions: Expressions.ctState(0x06) + [.verdict(code: NetlinkConstant.verdictAccept, chain: nil)]))
    addRule(NftRule(chain: "input", expressions: Expressions.ctState(0x01) + [.verdict(code: NetlinkConstant.verdictDrop, chain: nil)]))
    let neighbourDiscovery = anonymousSet(.icmpv6Type, [135, 136, 133, 134], for: rules.count)
    addRule(
      NftRule(
        chain: "input",
        expressions: Expressions.nfproto(.ipv6) + Expressions.l4proto(58) + [
          .payload(base: UInt32(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue), offset: 0, length: 1, register: NetlinkConstant.register(wordOffset: 0)),
          .lookup(register: NetlinkConstant.register(wordOffset: 0), set: neighbourDiscovery.0, setID: neighbourDiscovery.1, destination: nil, inverted: false),
          .payload(base: UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue), offset: 7, length: 1, register: NetlinkConstant.register(wordOffset: 0)),
          .compare(operation: UInt32(NFT_CMP_EQ.rawValue), register: NetlinkConstant.register(wordOffset: 0), data: [255]),
          .verdict(code: NetlinkConstant.verdictAccept, chain: nil),
        ]))
    if !ruleset.interfaces.isEmpty {
      for family in AddressFamily.allCases {
        addRule(NftRule(chain: "input", expressions: antiSpoofing(family, .ingress)))
      }
    }
    for family in AddressFamily.allCases {
      let suffix = family == .ipv4 ? "v4" : "v6"
      let source = Expressions.addressFields(family)[0]
      var transport = Expressions.nfproto(family)
      let protocols = anonymousSet(.inetProtocol, [6, 17], for: rules.count)
      transport += [
        .meta(key: UInt32(NFT_META_L4PROTO.rawValue), register: NetlinkConstant.register(wordOffset: 0)),
        .lookup(register: NetlinkConstant.register(wordOffset: 0), set: protocols.0, setID: protocols.1, destination: nil, inverted: false),
      ]
      transport += Expressions.concatenation([source, .l4proto, .destinationPort])
      transport += [lookupMembership("management_\(suffix)"), .verdict(code: NetlinkConstant.verdictAccept, chain: nil)]
      addRule(NftRule(chain: "input", expressions: transport))
      let icmp: UInt8 = family == .ipv4 ? 1 : 58
      let icmpName = family == .ipv4 ? "management_icmp_v4" : "management_icmpv6_v6"
      addRule(
        NftRule(
          chain: "input",
          expressions: Expressions.nfproto(family) + Expressions.l4proto(icmp)
            + Expressions.concatenation([source, .icmpType])
            + [lookupMembership(icmpName), .verdict(code: NetlinkConstant.verdictAccept, chain: nil)]))
      addRule(
        NftRule(
          chain: "input",
          expressions: Expressions.nfproto(family) + Expressions.concatenation([source, .l4proto])
            + [lookupMembership("management_proto_\(suffix)"), .verdict(code: NetlinkConstant.verdictAccept, chain: nil)]))
    }
    addRule(
      NftRule(
        chain: "input",
        expressions: [.counter, .limit(rate: 10, unit: 1, burst: 5), .log(prefix: "conduit input drop ")]))
  }

  mutating func antiSpoofing(_ family: AddressFamily, _ direction: Expressions.Direction) -> [NftExpression] {
    let name = NftablesTextRenderer.zonesSet(family)
    let interface: Expressions.Field = direction == .ingress ? .inputInterface : .outputInterface
    let address = Expressions.addressFields(family)[direction == .ingress ? 0 : 1]
    return Expressions.nfproto(family) + Expressions.concatenation([interface, address]) + [
      .lookup(register: NetlinkConstant.register(wordOffset: 0), set: name, setID: setID(name), destination: nil, inverted: true),
      .counter, .verdict(code: NetlinkConstant.verdictDrop, chain: nil),
    ]
  }

  mutating func lookupVerdict(_ name: String) -> NftExpression {
    .lookup(
      register: NetlinkConstant.register(wordOffset: 0), set: name, setID: setID(name),
      destination: NetlinkConstant.registerVerdict, inverted: false)
  }

  mutating func lookupMembership(_ name: String) -> NftExpression {
    .lookup(register: NetlinkConstant.register(wordOffset: 0), set: name, setID: setID(name), destination: nil, inverted: false)
  }
}

/// The expressions nft emits for the matches conduit uses.
enum Expressions {
  enum Direction { case ingress, egress }

  /// One field of a concatenation, loaded into its registers.
  enum Field {
    case inputInterface, outputInterface
    case ipv4Source, ipv4Destination, ipv6Source, ipv6Destination
    case l4proto, destinationPort, icmpType

    var words: Int {
      switch self {
      case .inputInterface, .outputInterface, .ipv6Source, .ipv6Destination: 4
      default: 1
      }
    }

    func load(into register: UInt32) -> [NftExpression] {
      let network = UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue)
      let transport = UInt32(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue)
      switch self {
      case .inputInterface: return [.meta(key: UInt32(NFT_META_IIFNAME.rawValue), register: register)]
      case .outputInterface: return [.meta(key: UInt32(NFT_META_OIFNAME.rawValue), register: register)]
      case .ipv4Source: return [.payload(base: network, offset: 12, length: 4, register: register)]
      case .ipv4Destination: return [.payload(base: network, offset: 16, length: 4, register: register)]
      case .ipv6Source: return [.payload(base: network, offset: 8, length: 16, register: register)]
      case .ipv6Destination: return [.payload(base: network, offset: 24, length: 16, register: register)]
      case .l4proto:
        return [
          .meta(key: UInt32(NFT_META_L4PROTO.rawValue), register: register),
          .byteOrder(register: register, operation: UInt32(NFT_BYTEORDER_HTON.rawValue), length: 1, size: 2),
        ]
      case .destinationPort: return [.payload(base: transport, offset: 2, length: 2, register: register)]
      case .icmpType: return [.payload(base: transport, offset: 0, length: 1, register: register)]
      }
    }
  }

  static func addressFields(_ family: AddressFamily) -> [Field] {
    family == .ipv4 ? [.ipv4Source, .ipv4Destination] : [.ipv6Source, .ipv6Destination]
  }

  static func concatenation(_ fields: [Field]) -> [NftExpression] {
    var offset = 0
    var expressions: [NftExpression] = []
    for field in fields {
      expressions += field.load(into: NetlinkConstant.register(wordOffset: offset))
      offset += field.words
    }
    return expressions
  }

  static func nfproto(_ family: AddressFamily) -> [NftExpression] {
    [
      .meta(key: UInt32(NFT_META_NFPROTO.rawValue), register: NetlinkConstant.register(wordOffset: 0)),
      .compare(
        operation: UInt32(NFT_CMP_EQ.rawValue), register: NetlinkConstant.register(wordOffset: 0),
        data: [family == .ipv4 ? NetlinkConstant.nfprotoIPv4 : NetlinkConstant.nfprotoIPv6]),
    ]
  }

  static func l4proto(_ number: UInt8) -> [NftExpression] {
    [
      .meta(key: UInt32(NFT_META_L4PROTO.rawValue), register: NetlinkConstant.register(wordOffset: 0)),
      .compare(operation: UInt32(NFT_CMP_EQ.rawValue), register: NetlinkConstant.register(wordOffset: 0), data: [number]),
    ]
  }

  static func ctState(_ mask: UInt32) -> [NftExpression] {
    let register = NetlinkConstant.register(wordOffset: 0)
    return [
      .conntrack(key: UInt32(NFT_CT_STATE.rawValue), register: register),
      .bitwise(register: register, length: 4, mask: Key.u32Host(mask), xor: Key.u32Host(0)),
      .compare(operation: UInt32(NFT_CMP_NEQ.rawValue), register: register, data: Key.u32Host(0)),
    ]
  }
}

/// Set key bytes: each field of a concatenation padded to whole 32-bit words, values in network byte order.
enum Key {
  static func addressType(_ family: AddressFamily) -> NftDataType {
    family == .ipv4 ? .ipv4Address : .ipv6Address
  }

  static func selectorTypes(_ kind: MatchKind) -> [NftDataType] {
    switch kind {
    case .transport: [.inetProtocol, .inetService]
    case .icmp: [.icmpType]
    case .icmpv6: [.icmpv6Type]
    case .proto: [.inetProtocol]
    }
  }

  static func address(_ address: IPAddress) -> [UInt8] {
    switch address {
    case .v4(let v4): withUnsafeBytes(of: v4.value.bigEndian) { Array($0) }
    case .v6(let v6): withUnsafeBytes(of: v6.value.bigEndian) { Array($0) }
    }
  }

  static func interface(_ name: String) -> [UInt8] {
    let bytes = Array(name.utf8.prefix(15))
    return bytes + [UInt8](repeating: 0, count: 16 - bytes.count)
  }

  static func selector(_ kind: MatchKind, _ value: UInt16) -> [UInt8] {
    switch kind {
    case .transport(let transport):
      return [transport.number, 0, 0, 0, UInt8(value >> 8), UInt8(value & 0xFF), 0, 0]
    case .icmp, .icmpv6, .proto:
      return [UInt8(value), 0, 0, 0]
    }
  }

  static func u32Host(_ value: UInt32) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
  }
}

extension RuleOrigin {
  /// `file:line:col` of the rule.
  var preciseLocation: String {
    let start = range.startLocation
    return "\(range.file.path):\(start.line):\(start.column)"
  }
}
