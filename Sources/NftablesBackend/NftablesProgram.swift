import FirewallIR
import FlowSpace
import PolicyLanguage

/// conduit's nftables table for one ruleset, built once: the sets and maps with their elements, and the chains with
/// their rules as statements. The text renderer and the netlink linearizer both render this program, so the script
/// and the batch describe the same table by construction.
struct NftablesProgram {
  /// The table name (`inet NAME`).
  let table: String
  /// Named sets and maps, in the order they are declared.
  private(set) var sets: [ProgramSet] = []
  /// Chains with their rules, in the order they are declared.
  private(set) var chains: [ProgramChain] = []
  /// The policy places the program's objects name by index (`BatchOrigins`).
  private(set) var places: PolicyPlaces
  /// The place of the table: the gateway.
  let tableOrigin: Int32

  init(_ ruleset: Ruleset, names: NftablesNames, identity: NftablesIdentity?) {
    table = names.table
    places = PolicyPlaces(ruleset)
    tableOrigin = places.index(of: ruleset.gatewayRange)
    if !ruleset.interfaces.isEmpty {
      for family in AddressFamily.allCases { addZonesSet(ruleset, family) }
    }
    var elementsOfMap: [String: [Int]] = [:]
    for (index, element) in ruleset.elements.enumerated() {
      elementsOfMap[Self.flowMapName(element.family, element.kind), default: []].append(index)
    }
    for family in AddressFamily.allCases {
      for kind in Self.mapKinds(family) {
        addFlowMaps(ruleset, elementsOfMap[Self.flowMapName(family, kind)] ?? [], family, kind, names)
      }
    }
    if let management = ruleset.management {
      for family in AddressFamily.allCases {
        for kind in Self.mapKinds(family) { addManagementSet(management, family, kind) }
      }
    }
    addDropSets()
    for (index, chain) in ruleset.chains.enumerated() {
      let origin = places.index(of: chain.range)
      chains.append(
        ProgramChain(
          name: names.conduitChains[index], hook: nil, rules: Self.conduitRules(chain), origin: origin))
      let prefix = NftablesString.logPrefix("conduit", naming: chain.conduit)
      let logRule: [ProgramStatement] = [.log(prefix), .goto(names.conduitChains[index])]
      chains.append(ProgramChain(name: names.logChains[index], hook: nil, rules: [logRule], origin: origin))
    }
    chains.append(forwardChain(usesInterfaces: !ruleset.interfaces.isEmpty))
    if ruleset.management != nil { chains.append(inputChain(usesInterfaces: !ruleset.interfaces.isEmpty)) }
    if let identity {
      chains.append(
        ProgramChain(
          name: NftablesIdentity.chainName, hook: nil, rules: [], origin: tableOrigin, comment: identity.comment))
    }
  }

  /// A conduit chain's rules: new connections are accepted, counted; once an expiring conduit's `expires` day has
  /// ended, they are logged (at most 10 a second) and dropped, counted, instead.
  static func conduitRules(_ chain: ConduitChain) -> [[ProgramStatement]] {
    guard let expiresAt = chain.expiresAt else { return [[.counter, .accept]] }
    return [
      [
        .timeAtLeast(expiresAt), .limitPerSecond(10),
        .log(NftablesString.logPrefix("conduit expired", naming: chain.conduit)),
      ],
      [.timeAtLeast(expiresAt), .counter, .drop],
      [.counter, .accept],
    ]
  }

  /// The kinds that have a map of their own: TCP and UDP share one.
  static func mapKinds(_ family: AddressFamily) -> [MatchKind] {
    MatchKind.kinds(of: family).filter { $0 != .udp }
  }

  static func kind(_ kind: MatchKind, belongsTo mapKind: MatchKind) -> Bool {
    if kind.hasPorts, mapKind.hasPorts { return true }
    return kind == mapKind
  }

  static func zonesSetName(_ family: AddressFamily) -> String { family == .ipv4 ? "zones_v4" : "zones_v6" }

  static func flowMapName(_ family: AddressFamily, _ kind: MatchKind) -> String {
    let suffix = family == .ipv4 ? "v4" : "v6"
    switch kind {
    case .tcp, .udp: return "flows_\(suffix)"
    case .icmp: return "icmp_v4"
    case .icmpv6: return "icmpv6_v6"
    case .proto: return "proto_\(suffix)"
    }
  }

  /// The hash map beside the interval map `flowMapName(family, kind)`, holding its elements that are one value in
  /// every field (one source, one destination, one port or type): a hash lookup costs the same whatever the number
  /// of elements, while the interval map's (the kernel's `pipapo`) grows with it.
  static func exactFlowMapName(_ family: AddressFamily, _ kind: MatchKind) -> String {
    "exact_" + flowMapName(family, kind)
  }

  static func managementSetName(_ family: AddressFamily, _ kind: MatchKind) -> String {
    let name = flowMapName(family, kind)
    return "management_" + (name.hasPrefix("flows_") ? String(name.dropFirst("flows_".count)) : name)
  }

  static func addressType(_ family: AddressFamily) -> NftDataType { family == .ipv4 ? .ipv4Address : .ipv6Address }

  static func selectorTypes(_ kind: MatchKind) -> [NftDataType] {
    switch kind {
    case .tcp, .udp: [.inetProtocol, .inetService]
    case .icmp: [.icmpType]
    case .icmpv6: [.icmpv6Type]
    case .proto: [.inetProtocol]
    }
  }

  static func addressFields(_ family: AddressFamily) -> [ProgramField] {
    family == .ipv4 ? [.ipv4Source, .ipv4Destination] : [.ipv6Source, .ipv6Destination]
  }

  static func selectorFields(_ kind: MatchKind) -> [ProgramField] {
    switch kind {
    case .tcp, .udp: [.l4proto, .destinationPort]
    case .icmp: [.icmpType]
    case .icmpv6: [.icmpv6Type]
    case .proto: [.l4proto]
    }
  }

  static func selectorValues(_ kind: MatchKind, _ value: UInt16) -> [KeyValue] {
    var values: [KeyValue] = []
    appendSelectorValues(kind, value, to: &values)
    return values
  }

  static func appendSelectorValues(_ kind: MatchKind, _ value: UInt16, to values: inout [KeyValue]) {
    switch kind {
    case .tcp, .udp:
      values.append(.protocolNumber(kind.transportNumber!))
      values.append(.port(value))
    case .icmp, .icmpv6: values.append(.icmpType(UInt8(value)))
    case .proto: values.append(.protocolNumber(UInt8(value)))
    }
  }

  // MARK: Sets

  private mutating func addZonesSet(_ ruleset: Ruleset, _ family: AddressFamily) {
    var elements: [ProgramElement] = []
    for member in ruleset.interfaceZones where member.addresses.family == family {
      let origin = places.index(of: member.range)
      elements.append(
        ProgramElement(
          low: [.interface(NftablesString.interfaceName(member.interface)), .address(member.addresses.first)],
          high: [.interface(NftablesString.interfaceName(member.interface)), .address(member.addresses.last)],
          jump: nil, comment: places.comment([origin], sanitizedFiles: places.sanitizedFiles), origin: origin))
    }
    sets.append(
      ProgramSet(
        name: Self.zonesSetName(family), key: [.interfaceName, Self.addressType(family)], isVerdictMap: false,
        isInterval: true, counter: false, elements: elements, origin: tableOrigin))
  }

  /// The verdict maps of one family and kind: the exact map, then the interval map; `members` are the indices of
  /// their elements in `ruleset.elements`. The elements are disjoint, so a packet matches at most one of them in
  /// either map, and which map is looked up first decides nothing.
  private mutating func addFlowMaps(
    _ ruleset: Ruleset, _ members: [Int], _ family: AddressFamily, _ kind: MatchKind, _ names: NftablesNames
  ) {
    let isExact = concurrentMap(count: members.count, chunkSize: 4096) { ruleset.elements[members[$0]].isExact }
    var exact: [Int] = []
    var intervals: [Int] = []
    for (member, isExact) in zip(members, isExact) {
      if isExact { exact.append(member) } else { intervals.append(member) }
    }
    addFlowMap(ruleset, exact, name: Self.exactFlowMapName(family, kind), isInterval: false, family, kind, names)
    addFlowMap(ruleset, intervals, name: Self.flowMapName(family, kind), isInterval: true, family, kind, names)
  }

  private mutating func addFlowMap(
    _ ruleset: Ruleset, _ members: [Int], name: String, isInterval: Bool, _ family: AddressFamily,
    _ kind: MatchKind, _ names: NftablesNames
  ) {
    let places = self.places
    let files = places.sanitizedFiles
    let elements = concurrentMap(count: members.count, chunkSize: 4096) { member in
      let element = ruleset.elements[members[member]]
      var low: [KeyValue] = [.address(element.sources.first), .address(element.destinations.first)]
      var high: [KeyValue] = [.address(element.sources.last), .address(element.destinations.last)]
      Self.appendSelectorValues(element.kind, element.selectors.lowerBound, to: &low)
      Self.appendSelectorValues(element.kind, element.selectors.upperBound, to: &high)
      return ProgramElement(
        low: low, high: high, jump: element.log ? names.logChains[element.chain] : names.conduitChains[element.chain],
        comment: places.comment(element.rules.map(places.rule), sanitizedFiles: files),
        origin: places.rule(element.rules[0]))
    }
    let address = Self.addressType(family)
    sets.append(
      ProgramSet(
        name: name, key: [address, address] + Self.selectorTypes(kind), isVerdictMap: true, isInterval: isInterval,
        counter: true, elements: elements, origin: tableOrigin))
  }

  private mutating func addManagementSet(_ management: [ManagementElement], _ family: AddressFamily, _ kind: MatchKind)
  {
    var elements: [ProgramElement] = []
    for element in management where element.family == family && Self.kind(element.kind, belongsTo: kind) {
      let lines = element.lines.map { places.index(of: $0) }
      elements.append(
        ProgramElement(
          low: [.address(element.sources.first)] + Self.selectorValues(element.kind, element.selectors.lowerBound),
          high: [.address(element.sources.last)] + Self.selectorValues(element.kind, element.selectors.upperBound),
          jump: nil, comment: places.comment(lines, sanitizedFiles: places.sanitizedFiles),
          origin: lines.first ?? BatchOrigins.none))
    }
    sets.append(
      ProgramSet(
        name: Self.managementSetName(family, kind), key: [Self.addressType(family)] + Self.selectorTypes(kind),
        isVerdictMap: false, isInterval: true, counter: false, elements: elements, origin: tableOrigin))
  }

  // MARK: Drops

  /// The dynamic set that counts the packets the base chains drop per (input interface, output interface): its
  /// elements are added from the drop path, each with a counter (the set's). The input chain's drops have the empty
  /// output interface (the packet was for the gateway itself).
  static let dropInterfacesSetName = "drop_interfaces"
  /// The last dropped flows of a family, kept `dropFlowTimeoutSeconds` after their last packet: TCP and UDP with
  /// their destination port (`drops_v4`, `drops_v6`), other protocols without one (`drops_proto_v4`, …).
  static func dropFlowsSetName(_ family: AddressFamily, ports: Bool) -> String {
    (ports ? "drops_" : "drops_proto_") + (family == .ipv4 ? "v4" : "v6")
  }
  /// The names of the drop-tracking sets, in the order they are declared.
  static var dropSetNames: [String] {
    [dropInterfacesSetName]
      + AddressFamily.allCases.flatMap { family in [true, false].map { dropFlowsSetName(family, ports: $0) } }
  }
  /// The most elements each drop-tracking set holds: once full, a new key is not added (the drop and its log line
  /// are unaffected), and elements of the flow sets make room as they time out.
  static let dropSetSize = 1024
  static let dropFlowTimeoutSeconds: UInt64 = 3600

  private mutating func addDropSets() {
    sets.append(
      ProgramSet(
        name: Self.dropInterfacesSetName, key: [.interfaceName, .interfaceName], isVerdictMap: false,
        isInterval: false, counter: true, elements: [], origin: tableOrigin, isDynamic: true,
        size: Self.dropSetSize))
    for family in AddressFamily.allCases {
      let address = Self.addressType(family)
      for ports in [true, false] {
        sets.append(
          ProgramSet(
            name: Self.dropFlowsSetName(family, ports: ports),
            key: [address, address, .inetProtocol] + (ports ? [.inetService] : []), isVerdictMap: false,
            isInterval: false, counter: true, elements: [], origin: tableOrigin, isDynamic: true,
            timeoutSeconds: Self.dropFlowTimeoutSeconds, size: Self.dropSetSize))
      }
    }
  }

  /// The rules before a base chain's final log rule that record what falls to its policy (drop): per interface
  /// pair, then the flow in its family's set. Each update is a rule of its own and the last statement of it, so a
  /// full set ends only its own rule.
  static var dropTracking: [[ProgramStatement]] {
    var rules: [[ProgramStatement]] = [[.update([.inputInterface, .outputInterface], set: dropInterfacesSetName)]]
    for family in AddressFamily.allCases {
      let addresses = addressFields(family)
      rules.append(
        [
          .nfproto(family), .l4protoIn([6, 17]),
          .update(addresses + [.l4proto, .destinationPort], set: dropFlowsSetName(family, ports: true)),
        ])
      rules.append(
        [
          .nfproto(family), .l4protoNotIn([6, 17]),
          .update(addresses + [.l4proto], set: dropFlowsSetName(family, ports: false)),
        ])
    }
    return rules
  }

  // MARK: Chains

  private func antiSpoofing(_ family: AddressFamily, _ direction: Direction) -> [ProgramStatement] {
    let interface: ProgramField = direction == .ingress ? .inputInterface : .outputInterface
    let address = Self.addressFields(family)[direction == .ingress ? 0 : 1]
    return [
      .nfproto(family),
      .lookup([interface, address], set: Self.zonesSetName(family), inverted: true, verdictMap: false),
      .counter, .drop,
    ]
  }

  private func forwardChain(usesInterfaces: Bool) -> ProgramChain {
    var rules: [[ProgramStatement]] = [
      [.ctState(invalid: false), .accept], [.ctState(invalid: true), .counter, .drop],
    ]
    if usesInterfaces {
      for family in AddressFamily.allCases {
        rules.append(antiSpoofing(family, .ingress))
        rules.append(antiSpoofing(family, .egress))
      }
    }
    for family in AddressFamily.allCases {
      let addresses = Self.addressFields(family)
      for kind in Self.mapKinds(family) {
        for map in [Self.exactFlowMapName(family, kind), Self.flowMapName(family, kind)] {
          rules.append(
            Self.protocolMatch(family, kind) + [
              .lookup(addresses + Self.selectorFields(kind), set: map, inverted: false, verdictMap: true)
            ])
        }
      }
    }
    rules += Self.dropTracking
    rules.append([.counter, .limitPerSecond(10), .log("conduit drop ")])
    return ProgramChain(name: "forward", hook: .forward, rules: rules, origin: tableOrigin)
  }

  private func inputChain(usesInterfaces: Bool) -> ProgramChain {
    var rules: [[ProgramStatement]] = [
      [.loopbackInput, .accept], [.ctState(invalid: false), .accept], [.ctState(invalid: true), .drop],
      [.icmpv6TypeIn([135, 136, 133, 134]), .hopLimit(255), .accept],
    ]
    if usesInterfaces {
      for family in AddressFamily.allCases { rules.append(antiSpoofing(family, .ingress)) }
    }
    for family in AddressFamily.allCases {
      let source = Self.addressFields(family)[0]
      for kind in Self.mapKinds(family) {
        rules.append(
          Self.protocolMatch(family, kind) + [
            .lookup(
              [source] + Self.selectorFields(kind), set: Self.managementSetName(family, kind), inverted: false,
              verdictMap: false),
            .accept,
          ])
      }
    }
    rules += Self.dropTracking
    rules.append([.counter, .limitPerSecond(10), .log("conduit input drop ")])
    return ProgramChain(name: "input", hook: .input, rules: rules, origin: tableOrigin)
  }

  /// The family, and the protocols a map of `kind` holds.
  static func protocolMatch(_ family: AddressFamily, _ kind: MatchKind) -> [ProgramStatement] {
    switch kind {
    case .tcp, .udp: [.nfproto(family), .l4protoIn([6, 17])]
    case .icmp: [.nfproto(family), .l4proto(1)]
    case .icmpv6: [.nfproto(family), .l4proto(58)]
    case .proto: [.nfproto(family)]
    }
  }

  enum Direction { case ingress, egress }
}

/// A named set or map of the program.
struct ProgramSet {
  var name: String
  var key: [NftDataType]
  var isVerdictMap: Bool
  /// Whether elements are ranges (`flags interval`); otherwise each element is one value in every field (a hash).
  var isInterval: Bool
  var counter: Bool
  var elements: [ProgramElement]
  /// The index of its place in `NftablesProgram.places`: the gateway.
  var origin: Int32
  /// Whether the packet path adds its elements (`flags dynamic`; none are written).
  var isDynamic = false
  /// The time an element is kept after its last update (`flags timeout; timeout Ns`), for a dynamic set.
  var timeoutSeconds: UInt64? = nil
  /// The most elements it holds (`size N`).
  var size: Int? = nil
}

/// One element: the lowest and highest key (field by field, equal in a set that is not an interval set) and, in a verdict map, the chain it jumps to.
struct ProgramElement {
  var low: [KeyValue]
  var high: [KeyValue]
  var jump: String?
  /// The policy lines behind it, as its comment (`PolicyPlaces.comment`).
  var comment: String? = nil
  /// The index of its place in `NftablesProgram.places`.
  var origin: Int32
}

/// One field of a set key.
enum KeyValue: Equatable {
  case interface(String)
  case address(IPAddress)
  case protocolNumber(UInt8)
  case port(UInt16)
  case icmpType(UInt8)
}

/// The value a rule loads for one field of a lookup key.
enum ProgramField {
  case inputInterface, outputInterface
  case ipv4Source, ipv4Destination, ipv6Source, ipv6Destination
  case l4proto, destinationPort, icmpType, icmpv6Type
}

/// A chain and its rules; base chains have a hook and policy drop.
struct ProgramChain {
  enum Hook { case forward, input }

  var name: String
  var hook: Hook?
  var rules: [[ProgramStatement]]
  /// The index of the place of the chain and its rules in `NftablesProgram.places`: the conduit for its chains,
  /// the gateway for the base chains and the identity chain.
  var origin: Int32
  /// The chain's comment (the identity chain's only).
  var comment: String? = nil
}

/// One statement of a rule.
enum ProgramStatement {
  /// `ct state established,related`, or `ct state invalid`.
  case ctState(invalid: Bool)
  /// `meta nfproto ipv4|ipv6`.
  case nfproto(AddressFamily)
  /// `meta l4proto { tcp, udp }` (an anonymous set).
  case l4protoIn([UInt8])
  /// `meta l4proto != { tcp, udp }` (an anonymous set).
  case l4protoNotIn([UInt8])
  /// `meta l4proto icmp|icmpv6`.
  case l4proto(UInt8)
  /// `icmpv6 type { … }` (an anonymous set).
  case icmpv6TypeIn([UInt8])
  /// `ip6 hoplimit N`.
  case hopLimit(UInt8)
  /// `iif lo`.
  case loopbackInput
  /// `meta time >= SECONDS` (seconds since 1970, UTC: nft reads a number as epoch seconds, a date in local time).
  case timeAtLeast(Int64)
  /// `FIELD . FIELD … [!=] @set`, or `… vmap @map`.
  case lookup([ProgramField], set: String, inverted: Bool, verdictMap: Bool)
  /// `update @set { FIELD . FIELD … }`: adds the packet's key to a dynamic set, or refreshes its timeout (and
  /// counts the packet in its counter).
  case update([ProgramField], set: String)
  case counter
  /// `limit rate N/second`.
  case limitPerSecond(UInt64)
  /// `log prefix "…"`.
  case log(String)
  case accept
  case drop
  /// `goto CHAIN`.
  case goto(String)
}
